/**
 * A load generator in a process of its own, so that it never shares a core (or
 * an event loop) with the server it loads: `node dist/Load.js URL --connections
 * N (--amount N[,N…] | --duration S) [--method M] [--header NAME:VALUE]…
 * [--body TEXT] [--warmup S] [--expect PREFIX] [--pid PID]` runs autocannon 8
 * and prints a JSON array of {@link Summary}: one per amount, each amount a
 * run of its own (fresh connections) right after the one before, or one for
 * the duration.
 *
 * With `--warmup`, autocannon first loads the server for that many seconds,
 * not counted, so that both sides are compiled before the measured run. With
 * `--expect`, every answer whose body does not start with `PREFIX` counts as a
 * mismatch: the mock answers its errors with HTTP 200, so the status alone
 * does not tell a success. With `--pid`, the CPU time that process (the
 * server) used during each run is reported per answer (a figure that other
 * work on the machine disturbs less than the rate does), and its resident
 * memory after the run.
 *
 * Latency percentiles come from autocannon's per-response timings (floats, in
 * milliseconds) rather than its histogram, which rounds to whole
 * milliseconds: too coarse for a server answering in 0.4 ms.
 *
 * @since 0.1.0
 */
import autocannon from "autocannon"
import * as Fs from "node:fs"
import { parseArgs } from "node:util"
import * as Stats from "./Stats.js"

/**
 * What one measured run did.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  /** Responses received in the measured run. */
  readonly requests: number
  readonly seconds: number
  readonly requestsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly non2xx: number
  /** Connection errors, timeouts included. */
  readonly errors: number
  readonly timeouts: number
  /** Answers whose body did not start with the `--expect` prefix. */
  readonly mismatches: number
  /** The first body answered (cut to 200 characters), to show what was loaded. */
  readonly sample: string
  /** The first body that did not match, if one did not. */
  readonly mismatch?: string
  /**
   * The load generator's CPU time over the run's wall time: near 1, the
   * generator, not the server, is what limits the rate.
   */
  readonly loadCpuShare: number
  /** With `--pid`: the server's user and system CPU time during the run, per answer. */
  readonly serverCpuMicrosPerCall?: number
  /** With `--pid`: the server's resident memory (VmRSS) after the run. */
  readonly serverRssMb?: number
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    connections: { type: "string", default: "32" },
    amount: { type: "string" },
    duration: { type: "string" },
    method: { type: "string", default: "GET" },
    header: { type: "string", multiple: true, default: [] },
    body: { type: "string" },
    warmup: { type: "string", default: "0" },
    expect: { type: "string" },
    pid: { type: "string" }
  }
})
const url = positionals[0]
if (url === undefined || (values.amount === undefined) === (values.duration === undefined)) {
  console.error(
    "usage: Load.js URL --connections N (--amount N[,N…] | --duration S) [--method M] [--header NAME:VALUE]… [--body TEXT] " +
      "[--warmup S] [--expect PREFIX] [--pid PID]"
  )
  process.exit(2)
}
const headers = Object.fromEntries(values.header.map((header) => {
  const colon = header.indexOf(":")
  return [header.slice(0, colon).trim(), header.slice(colon + 1).trim()]
}))
const base = {
  url,
  connections: Number(values.connections),
  // autocannon ends a run (an amount reached, a duration over) only at its next sample, every second by default:
  // a second idle after each run, which would be most of a smoke run's time.
  sampleInt: 100,
  method: values.method as autocannon.Request["method"],
  headers,
  ...(values.body === undefined ? {} : { body: values.body })
}
const expect = values.expect

// utime and stime, fields 14 and 15 of /proc/PID/stat (after the command, which may hold spaces), in clock ticks:
// 100 a second on Linux.
const serverCpuMicros = (pid: string): number => {
  const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

const serverRssMb = (pid: string): number => {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(Fs.readFileSync(`/proc/${pid}/status`, "utf8"))
  if (line === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(line[1]) / 1024
}

if (Number(values.warmup) > 0) await autocannon({ ...base, duration: Number(values.warmup) })

const measure = async (size: { readonly amount: number } | { readonly duration: number }): Promise<Summary> => {
  const latencies: Array<number> = []
  let sample: string | undefined
  let mismatch: string | undefined
  let lastAnswer = 0
  const serverBefore = values.pid === undefined ? 0 : serverCpuMicros(values.pid)
  const cpu = process.cpuUsage()
  const began = performance.now()
  const result = await autocannon({
    ...base,
    ...size,
    setupClient: (client) =>
      void client.on("response", (_status, _bytes, ms) => {
        latencies.push(ms)
        lastAnswer = performance.now()
      }),
    verifyBody: (body) => {
      const text = String(body)
      sample ??= text.slice(0, 200)
      const matches = expect === undefined || text.startsWith(expect)
      if (!matches) mismatch ??= text.slice(0, 200)
      return matches
    }
  })
  // autocannon reports only at its next sample: up to `sampleInt` after the last answer, not counted.
  const seconds = (lastAnswer - began) / 1000
  const used = process.cpuUsage(cpu)
  const timings = Float64Array.from(latencies)
  return {
    requests: latencies.length,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50Ms: Stats.quantile(timings, 0.5),
    p99Ms: Stats.quantile(timings, 0.99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    sample: sample ?? "",
    ...(mismatch === undefined ? {} : { mismatch }),
    loadCpuShare: (used.user + used.system) / 1e6 / seconds,
    ...(values.pid === undefined ? {} : {
      serverCpuMicrosPerCall: (serverCpuMicros(values.pid) - serverBefore) / Math.max(1, latencies.length),
      serverRssMb: serverRssMb(values.pid)
    })
  }
}

const summaries: Array<Summary> = []
if (values.amount === undefined) summaries.push(await measure({ duration: Number(values.duration) }))
else for (const amount of values.amount.split(",")) summaries.push(await measure({ amount: Number(amount) }))
console.log(JSON.stringify(summaries))
