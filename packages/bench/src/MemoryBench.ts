/**
 * Memory: the RSS of a process making `PreAuthCode.create` calls (wxopen on
 * `NodeHttpClient.layerUndici`, concurrency 64, warm token, against the
 * `minimal` server) after 1,000,000 calls, beside its own RSS after 100,000
 * (a smoke run: 300 and 30). Each
 * reading follows a full GC, so that what is measured is what the process
 * keeps, not garbage not yet collected.
 *
 * Target: within 10% (ratio ≤ 1.1).
 *
 * @since 0.1.0
 */
import * as Figure from "./Figure.js"
import * as Process from "./Process.js"

interface Reading {
  readonly calls: number
  readonly rssMb: number
  readonly heapUsedMb: number
}

/**
 * Runs the memory benchmark.
 *
 * @since 0.1.0
 * @category benchmarks
 */
export const run = async (options: Figure.Options): Promise<ReadonlyArray<Figure.Figure>> => {
  const total = options.smoke ? 300 : 1_000_000
  const cores = Process.cores(options)
  const server = await Process.server("minimal", cores.server)
  let readings: ReadonlyArray<Reading>
  try {
    const child = Process.node(
      Process.script("Client.js"),
      ["wxopen-undici", server.url, "--concurrency", "64", "--calls", String(total), "--memory"],
      cores.client,
      ["--expose-gc"]
    )
    readings = JSON.parse(await Process.output(child)) as ReadonlyArray<Reading>
  } finally {
    await server.stop()
  }
  const first = readings[0]!
  const last = readings[readings.length - 1]!
  const command = `npx -y pnpm@10.34.9 bench${options.smoke ? " --smoke" : ""} memory`
  const calls = (n: number) => n.toLocaleString("en-US")
  return [
    Figure.make({
      benchmark: "memory",
      name: `RSS after ${calls(last.calls)} calls`,
      value: last.rssMb,
      unit: "MB",
      baseline: { name: `after ${calls(first.calls)}`, value: first.rssMb },
      target: { text: "within 10%", met: last.rssMb <= 1.1 * first.rssMb },
      command
    }),
    Figure.make({
      benchmark: "memory",
      name: `heap used after ${calls(last.calls)} calls`,
      value: last.heapUsedMb,
      unit: "MB",
      baseline: { name: `after ${calls(first.calls)}`, value: first.heapUsedMb },
      command
    })
  ]
}
