/**
 * Measuring a run of calls: wall time, the process's CPU time, latency
 * percentiles.
 *
 * @since 0.1.0
 */
import { Effect, type ManagedRuntime } from "effect"

/**
 * What one run measured.
 *
 * @since 0.1.0
 * @category models
 */
export interface Run {
  readonly calls: number
  readonly concurrency: number
  readonly requestsPerSecond: number
  /** User and system CPU time of the calling process, per call. */
  readonly cpuMicrosPerCall: number
  readonly p50Ms: number
  readonly p99Ms: number
}

/**
 * The `q` quantile (0 to 1) of `values`, which it sorts.
 *
 * @since 0.1.0
 * @category statistics
 */
export const quantile = (values: Float64Array, q: number): number => {
  values.sort()
  return values.length === 0 ? Number.NaN : values[Math.min(values.length - 1, Math.floor(q * values.length))]!
}

/**
 * The median of some numbers.
 *
 * @since 0.1.0
 * @category statistics
 */
export const median = (values: ReadonlyArray<number>): number => quantile(Float64Array.from(values), 0.5)

/**
 * Like {@link measure}, for an Effect: each worker is a fiber making its calls
 * one after the other, as a worker `async` function awaits its calls one
 * after the other in {@link measure}.
 *
 * @since 0.1.0
 * @category measuring
 */
export const measureEffect = <A, E, R>(
  options: { readonly calls: number; readonly concurrency: number },
  call: Effect.Effect<A, E, R>,
  runtime: ManagedRuntime.ManagedRuntime<R, unknown>
): Promise<Run> => {
  const { calls, concurrency } = options
  const latencies = new Float64Array(calls)
  let next = 0
  const worker = Effect.gen(function*() {
    while (next < calls) {
      const index = next++
      const started = performance.now()
      yield* call
      latencies[index] = performance.now() - started
    }
  })
  return runtime.runPromise(
    Effect.gen(function*() {
      const cpu = process.cpuUsage()
      const began = performance.now()
      yield* Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      return summary(options, latencies, (performance.now() - began) / 1000, process.cpuUsage(cpu))
    })
  )
}

const summary = (
  options: { readonly calls: number; readonly concurrency: number },
  latencies: Float64Array,
  seconds: number,
  used: NodeJS.CpuUsage
): Run => ({
  calls: options.calls,
  concurrency: options.concurrency,
  requestsPerSecond: options.calls / seconds,
  cpuMicrosPerCall: (used.user + used.system) / options.calls,
  p50Ms: quantile(latencies, 0.5),
  p99Ms: quantile(latencies, 0.99)
})

/**
 * Runs `calls` calls of `call`, `concurrency` at a time (each worker makes its
 * calls one after the other), and measures them.
 *
 * @since 0.1.0
 * @category measuring
 */
export const measure = async (
  options: { readonly calls: number; readonly concurrency: number },
  call: () => Promise<unknown>
): Promise<Run> => {
  const { calls, concurrency } = options
  const latencies = new Float64Array(calls)
  let next = 0
  const worker = async () => {
    while (next < calls) {
      const index = next++
      const started = performance.now()
      await call()
      latencies[index] = performance.now() - started
    }
  }
  const cpu = process.cpuUsage()
  const began = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return summary(options, latencies, (performance.now() - began) / 1000, process.cpuUsage(cpu))
}
