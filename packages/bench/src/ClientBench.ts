/**
 * Client cost per call: `PreAuthCode.create` with a warm token against the
 * `minimal` server, beside a raw `undici.request` doing the same POST and
 * `JSON.parse` against the same server, at concurrency 1 and 64, over each
 * HttpClient (`Client.ts` has the stacks). Each run is a process of its own on
 * the client core; the runs of the stacks are interleaved, and each figure is
 * the median of the repeats.
 *
 * Targets: CPU per call at most 2× raw undici; throughput at least 0.5× raw
 * undici at concurrency 64.
 *
 * @since 0.1.0
 */
import * as Figure from "./Figure.js"
import * as Process from "./Process.js"
import * as Stats from "./Stats.js"

const command = "npx -y pnpm@10.34.9 bench client"

// Calls per run, by stack and concurrency: enough for a few seconds each, the slow stacks fewer.
const calls: Record<string, Record<number, number>> = {
  undici: { 1: 20_000, 64: 60_000 },
  "wxopen-fast": { 1: 20_000, 64: 60_000 },
  "wxopen-undici": { 1: 8_000, 64: 20_000 },
  "wxopen-fetch": { 1: 5_000, 64: 10_000 }
}

const labels: Record<string, string> = {
  "wxopen-fast": "wxopen on UndiciHttpClient",
  "wxopen-undici": "wxopen on NodeHttpClient.layerUndici",
  "wxopen-fetch": "wxopen on FetchHttpClient"
}

/**
 * Runs the client benchmark.
 *
 * @since 0.1.0
 * @category benchmarks
 */
export const run = async (options: Figure.Options): Promise<ReadonlyArray<Figure.Figure>> => {
  const server = await Process.server("minimal")
  const repeats = options.smoke ? 1 : 3
  const runs: Record<string, Array<Stats.Run>> = {}
  try {
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const concurrency of [1, 64]) {
        for (const stack of Object.keys(calls)) {
          const n = options.smoke ? 300 : calls[stack]![concurrency]!
          const child = Process.node(Process.script("Client.js"), [stack, String(concurrency), String(n), server.url], Process.clientCore)
          ;(runs[`${stack} c${concurrency}`] ??= []).push(JSON.parse(await Process.output(child)) as Stats.Run)
        }
      }
    }
  } finally {
    await server.stop()
  }
  const median = (key: string, field: keyof Stats.Run) => Stats.median(runs[key]!.map((run) => run[field]))
  return [1, 64].flatMap((concurrency) => {
    const baselineKey = `undici c${concurrency}`
    const baseline = (field: keyof Stats.Run) => ({ name: `raw undici c${concurrency}`, value: median(baselineKey, field) })
    return Object.keys(labels).flatMap((stack) => {
      const key = `${stack} c${concurrency}`
      const name = (what: string) => `${labels[stack]} c${concurrency}: ${what}`
      const cpu = median(key, "cpuMicrosPerCall")
      const throughput = median(key, "requestsPerSecond")
      return [
        Figure.make({
          benchmark: "client",
          name: name("CPU per call"),
          value: cpu,
          unit: "µs",
          baseline: baseline("cpuMicrosPerCall"),
          target: { text: "≤ 2× raw undici", met: cpu <= 2 * median(baselineKey, "cpuMicrosPerCall") },
          command
        }),
        Figure.make({
          benchmark: "client",
          name: name("throughput"),
          value: throughput,
          unit: "req/s",
          baseline: baseline("requestsPerSecond"),
          ...(concurrency === 64
            ? { target: { text: "≥ 0.5× raw undici", met: throughput >= 0.5 * median(baselineKey, "requestsPerSecond") } }
            : {}),
          command
        }),
        Figure.make({ benchmark: "client", name: name("p50 latency"), value: median(key, "p50Ms"), unit: "ms", baseline: baseline("p50Ms"), command }),
        Figure.make({ benchmark: "client", name: name("p99 latency"), value: median(key, "p99Ms"), unit: "ms", baseline: baseline("p99Ms"), command })
      ]
    })
  })
}
