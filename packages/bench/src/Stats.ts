/**
 * Statistics of a run of calls: latency percentiles, medians, and the
 * summary a client run reports. Free of Effect, so that the load generator's
 * process (`Load.ts`) does not pay for importing it.
 *
 * @since 0.1.0
 */

/**
 * What one run measured.
 *
 * @since 0.1.0
 * @category models
 */
export interface Run {
  /** What made the calls, e.g. `wxopen-undici`. */
  readonly stack: string
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
 * A {@link Run} from the latency of each call, the run's wall time and the
 * CPU time the process used during it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  options: { readonly stack: string; readonly calls: number; readonly concurrency: number },
  latencies: Float64Array,
  seconds: number,
  used: NodeJS.CpuUsage
): Run => ({
  stack: options.stack,
  calls: options.calls,
  concurrency: options.concurrency,
  requestsPerSecond: options.calls / seconds,
  cpuMicrosPerCall: (used.user + used.system) / options.calls,
  p50Ms: quantile(latencies, 0.5),
  p99Ms: quantile(latencies, 0.99)
})
