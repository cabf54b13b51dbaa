/**
 * What wxopen adds to a call on the user's own HttpClient: `PreAuthCode.create`
 * with a warm token against the `minimal` server, beside the bare
 * `HttpClient.execute` of the same request (same URL, body, timeout, tracing
 * off) with its body read, on the same client, at concurrency 1 and 64, on
 * `FetchHttpClient.layer` and on `NodeHttpClient.layerUndici` (`Client.ts` has
 * the stacks). Each run is a process of its own on the client core; the runs
 * of the stacks are interleaved, and each figure is the median of the repeats.
 *
 * Target: CPU per call at most 1.2× the bare call's on the same client.
 *
 * @since 0.1.0
 */
import * as Figure from "./Figure.js"
import * as Process from "./Process.js"
import * as Stats from "./Stats.js"

const clients = [
  { key: "fetch", label: "FetchHttpClient.layer" },
  { key: "undici", label: "NodeHttpClient.layerUndici" }
] as const

const concurrencies = [1, 64] as const

// Calls per run, by client and concurrency: about three seconds each, wxopen and the bare call alike.
const calls: Record<string, Record<number, number>> = {
  fetch: { 1: 3_000, 64: 4_500 },
  undici: { 1: 5_000, 64: 10_000 }
}

/** How much a run measures. */
interface Sizes {
  /** Runs of each stack at each concurrency; the medians are reported. */
  readonly repeats: number
  readonly calls: (client: string, concurrency: number) => number
  /** Calls before each run, not counted: by default a tenth of the run's, at least 500. */
  readonly warmup?: number
}

/** The sizes of a full run and of a smoke run. */
const sizes: { readonly full: Sizes; readonly smoke: Sizes } = {
  full: { repeats: 5, calls: (client, concurrency) => calls[client]![concurrency]! },
  smoke: { repeats: 1, calls: () => 50, warmup: 10 }
}

const target = 1.2

/**
 * Runs the client benchmark.
 *
 * @since 0.1.0
 * @category benchmarks
 */
export const run = async (options: Figure.Options): Promise<ReadonlyArray<Figure.Figure>> => {
  const command = `npx -y pnpm@10.34.9 bench${options.smoke ? " --smoke" : ""} client`
  const size = options.smoke ? sizes.smoke : sizes.full
  const cores = Process.cores(options)
  const server = await Process.server("minimal", cores.server)
  const runs: Record<string, Array<Stats.Run>> = {}
  const client = (stacks: ReadonlyArray<string>, concurrency: ReadonlyArray<number>, n: number) =>
    Process.output(Process.node(
      Process.script("Client.js"),
      [
        stacks.join(","),
        server.url,
        "--concurrency", concurrency.join(","),
        "--calls", String(n),
        ...(size.warmup === undefined ? [] : ["--warmup", String(size.warmup)])
      ],
      cores.client
    )).then((output) => JSON.parse(output) as ReadonlyArray<Stats.Run>)
  // The processes, in order. In a full run, one per stack and concurrency, the two stacks compared one right after
  // the other, wxopen first in every other repeat. A smoke run makes both stacks of a client and both concurrencies
  // in one process: most of its time would be starting processes.
  const jobs: ReadonlyArray<{ readonly stacks: ReadonlyArray<string>; readonly batch: ReadonlyArray<number>; readonly n: number }> =
    options.smoke
    ? clients.map(({ key }) => ({ stacks: [`bare-${key}`, `wxopen-${key}`], batch: concurrencies, n: size.calls(key, 1) }))
    : Array.from({ length: size.repeats }, (_, repeat) =>
      concurrencies.flatMap((concurrency) =>
        clients.flatMap(({ key }) => {
          const pair = [`bare-${key}`, `wxopen-${key}`]
          return (repeat % 2 === 0 ? pair : pair.reverse()).map((stack) => ({
            stacks: [stack],
            batch: [concurrency],
            n: size.calls(key, concurrency)
          }))
        })
      )).flat()
  try {
    for (const { batch, n, stacks } of jobs) {
      for (const measured of await client(stacks, batch, n)) {
        ;(runs[`${measured.stack} c${measured.concurrency}`] ??= []).push(measured)
      }
    }
  } finally {
    await server.stop()
  }
  const median = (key: string, field: Exclude<keyof Stats.Run, "stack">) => Stats.median(runs[key]!.map((run) => run[field]))
  return clients.flatMap(({ key, label }) =>
    concurrencies.flatMap((concurrency) => {
      const wxopen = `wxopen-${key} c${concurrency}`
      const bare = `bare-${key} c${concurrency}`
      const name = (what: string) => `wxopen on ${label} c${concurrency}: ${what}`
      const baseline = (field: Exclude<keyof Stats.Run, "stack">) => ({
        name: `bare HttpClient.execute on ${label} c${concurrency}`,
        value: median(bare, field)
      })
      const cpu = median(wxopen, "cpuMicrosPerCall")
      return [
        Figure.make({
          benchmark: "client",
          name: name("CPU per call"),
          value: cpu,
          unit: "µs",
          baseline: baseline("cpuMicrosPerCall"),
          target: { text: `≤ ${target}× the bare call`, met: cpu <= target * median(bare, "cpuMicrosPerCall") },
          command
        }),
        Figure.make({
          benchmark: "client",
          name: name("throughput"),
          value: median(wxopen, "requestsPerSecond"),
          unit: "req/s",
          baseline: baseline("requestsPerSecond"),
          command
        }),
        Figure.make({ benchmark: "client", name: name("p50 latency"), value: median(wxopen, "p50Ms"), unit: "ms", baseline: baseline("p50Ms"), command }),
        Figure.make({ benchmark: "client", name: name("p99 latency"), value: median(wxopen, "p99Ms"), unit: "ms", baseline: baseline("p99Ms"), command })
      ]
    })
  )
}
