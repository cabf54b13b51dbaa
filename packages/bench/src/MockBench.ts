/**
 * The mock's cost, staying power and start time, each beside a baseline
 * measured in the same run:
 *
 * - requests per second of `api_create_preauthcode` at 32 connections, its
 *   p50 / p99 latency and the server's CPU time per call (target: at most
 *   0.6× json-server's), against a json-server 0.17 app answering the same
 *   request on the same route with the same body (what the mock would cost
 *   were its WeChat endpoints Express routes) and a bare `node:http` server
 *   (the floor of the machine);
 * - 1,000,000 calls to one mock: the server's CPU per call over the whole
 *   late half against the whole early half (target: at most 1.1×), and its
 *   RSS after 1,000,000 calls against after 10,000 (target: at most 1.5×), so
 *   that anything that grows or slows with the traffic shows. Each half
 *   lasts long enough to hold several major GCs: a window of a second or two
 *   (the figure this replaced) met one or did not, and read 0.91–2.27×;
 * - the time from `MockServer.start()` to the first answered request in a
 *   fresh process, against a bare `node:http` server's (target: under 100 ms).
 *
 * Every server runs in a process of its own on the server core, every load
 * (autocannon 8, see `Load.ts`) in another on the client core (in a full
 * run: a smoke run pins nothing). The mock is
 * loaded with real successful calls: a ticket from the admin API, a component
 * token from `api_component_token`, then `api_create_preauthcode` with it; an
 * answer that is not a pre-authorization code fails the benchmark rather than
 * being counted as throughput.
 *
 * Against bare `node:http`, the single autocannon process is likely to be
 * the limit rather than the server (see `loadCpuShare` in its figure): the
 * floor reported is then autocannon's, a lower bound of the machine's.
 *
 * @since 0.1.0
 */
import { AdminClient, MockConfig } from "@wxopen/mock-server"
import type { Figure, Options } from "./Figure.js"
import * as Figures from "./Figure.js"
import type { Summary } from "./Load.js"
import * as Process from "./Process.js"
import * as Stats from "./Stats.js"
import type { Startup } from "./Startup.js"

const command = "npx -y pnpm@10.34.9 bench mock"
const connections = 32
const appId = "wx0c0ffee000000001"
const component = MockConfig.defaults.components[0]!
/** Every success starts so, on the mock and the baselines alike; WeChat's errors start `{"errcode"`. */
const success = `{"pre_auth_code":"preauthcode@@@`

/** How much each part runs: full, or briefly to show it still works. */
interface Sizes {
  /** Rounds of runs of the three servers, one run each per round; the medians are reported. */
  readonly rounds: number
  /** How long each server is warmed up, before its first run. */
  readonly warmupSeconds: number
  /** How long each run lasts. */
  readonly seconds: number
  /** Requests of the long run, after its warm-up; its halves are compared. */
  readonly longRun: number
  /** Requests of the long run after which its first RSS is read (counted in `longRun`). */
  readonly early: number
  /** Requests that warm the long run's mock up, before a reset (none: no warm-up). */
  readonly longRunWarmup: number
  /** Fresh processes timed for the start, per server. */
  readonly starts: number
}

/** The sizes of a full run (about four minutes) and of a smoke run (a few seconds). */
const sizes: { readonly full: Sizes; readonly smoke: Sizes } = {
  full: { rounds: 6, warmupSeconds: 3, seconds: 4, longRun: 1_000_000, early: 10_000, longRunWarmup: 20_000, starts: 5 },
  smoke: { rounds: 1, warmupSeconds: 0, seconds: 0.2, longRun: 600, early: 50, longRunWarmup: 0, starts: 1 }
}

/** The request to load, and the server answering it. */
interface Target {
  readonly pid: number
  readonly url: string
  readonly headers: ReadonlyArray<string>
  readonly body: string
}

const contentType = "content-type:application/json"
const body = JSON.stringify({ component_appid: appId })

/** Gets a component token the honest way, and checks that one call with it succeeds. */
const mockTarget = async (base: string, pid: number): Promise<Target> => {
  const { ticket } = await AdminClient.make(base).ticket(appId)
  const tokenAnswer = await (await fetch(`${base}/cgi-bin/component/api_component_token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ component_appid: appId, component_appsecret: component.appSecret, component_verify_ticket: ticket })
  })).json() as { readonly component_access_token?: string }
  const token = tokenAnswer.component_access_token
  if (token === undefined) throw new Error(`the mock gave no component token: ${JSON.stringify(tokenAnswer)}`)
  const url = `${base}/cgi-bin/component/api_create_preauthcode?component_access_token=${encodeURIComponent(token)}`
  const sample = await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).text()
  if (!sample.startsWith(success)) throw new Error(`the mock did not answer a pre-authorization code: ${sample}`)
  return { pid, url, headers: [contentType], body }
}

/**
 * The baselines get the request the mock gets, a token of the same shape included (they ignore it): the framework's
 * cost of reading a 120-character query string is the framework's, not the mock's.
 */
const baselineTarget = (base: string, pid: number): Target => ({
  pid,
  url: `${base}/cgi-bin/component/api_create_preauthcode?component_access_token=42_${"t".repeat(120)}`,
  headers: [contentType],
  body
})

/**
 * Runs of autocannon in a process of its own: one for a duration (after a warm-up), or one per amount, one after
 * the other. A run that got anything but successes throws.
 */
const load = async (
  cores: Process.Cores,
  label: string,
  target: Target,
  size: { readonly amounts: ReadonlyArray<number> } | { readonly seconds: number; readonly warmupSeconds: number }
): Promise<ReadonlyArray<Summary>> => {
  const args = [
    target.url,
    "--connections", String(connections),
    "--method", "POST",
    ...target.headers.flatMap((header) => ["--header", header]),
    "--body", target.body,
    "--expect", success,
    "--pid", String(target.pid),
    ...("amounts" in size
      ? ["--amount", size.amounts.join(",")]
      : ["--duration", String(size.seconds), "--warmup", String(size.warmupSeconds)])
  ]
  const summaries = JSON.parse(await Process.output(Process.node(Process.script("Load.js"), args, cores.client))) as Array<Summary>
  for (const summary of summaries) {
    // Each run on stderr, so that a reader sees how much the runs behind a median differ.
    console.error(
      `mock: ${label}: ${summary.requests} calls, ${Math.round(summary.requestsPerSecond)} req/s, ` +
        `server ${Math.round(summary.serverCpuMicrosPerCall ?? Number.NaN)} µs/call`
    )
    const failed = summary.non2xx + summary.errors + summary.mismatches
    if (failed > 0 || summary.requests === 0) {
      throw new Error(
        `${label}: ${failed} of ${summary.requests} answers were not successes ` +
          `(non-2xx ${summary.non2xx}, errors ${summary.errors}, not a code ${summary.mismatches}): ${summary.mismatch ?? summary.sample}`
      )
    }
  }
  return summaries
}

const kinds = ["node-http", "json-server", "mock"] as const
type Kind = typeof kinds[number]

/**
 * The three servers, started once and loaded in turn, round after round, in an order that turns each round: other
 * work on the machine comes and goes, and short runs side by side see the same of it, where one long run each would
 * not. Only the first round warms each server up. The mock keeps its state from one round to the next, as it would
 * under a load test.
 */
const throughput = async (cores: Process.Cores, size: Sizes): Promise<Record<Kind, ReadonlyArray<Summary>>> => {
  const runs: Record<Kind, Array<Summary>> = { "node-http": [], "json-server": [], mock: [] }
  const servers: Array<Process.RunningServer> = []
  try {
    // Started side by side (how long a start takes is measured apart, in fresh processes); each one started is
    // stopped, even when another failed to start.
    const started = await Promise.allSettled(kinds.map((kind) => Process.server(kind, cores.server)))
    for (const result of started) if (result.status === "fulfilled") servers.push(result.value)
    for (const result of started) if (result.status === "rejected") throw result.reason
    const targets = {} as Record<Kind, Target>
    for (const [i, kind] of kinds.entries()) {
      const server = servers[i]!
      targets[kind] = kind === "mock" ? await mockTarget(server.url, server.pid) : baselineTarget(server.url, server.pid)
    }
    for (let round = 0; round < size.rounds; round++) {
      for (let i = 0; i < kinds.length; i++) {
        const kind = kinds[(i + round) % kinds.length]!
        const warmupSeconds = round === 0 ? size.warmupSeconds : 0
        runs[kind].push(...await load(cores, kind, targets[kind], { seconds: size.seconds, warmupSeconds }))
      }
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
  }
  return runs
}

/** Calls, seconds and server CPU time of some runs together. */
const total = (summaries: ReadonlyArray<Summary>) => {
  const calls = summaries.reduce((sum, s) => sum + s.requests, 0)
  const cpuMicros = summaries.reduce((sum, s) => sum + (s.serverCpuMicrosPerCall ?? Number.NaN) * s.requests, 0)
  const seconds = summaries.reduce((sum, s) => sum + s.seconds, 0)
  return { calls, cpuMicrosPerCall: cpuMicros / calls, requestsPerSecond: calls / seconds }
}

/**
 * The long run. The mock is warmed up and reset, so that it starts with its
 * state at its smallest and its code compiled. Then one load process makes
 * the calls in runs, one right after the other: up to the early RSS reading,
 * up to half-way, the late half. The server's CPU time and RSS are read after
 * each run; a half's CPU per call is its CPU time over its calls, whatever
 * GCs fell in it.
 */
const longRun = async (cores: Process.Cores, size: Sizes) => {
  const server = await Process.server("mock", cores.server)
  try {
    if (size.longRunWarmup > 0) {
      await load(cores, "long run warm-up", await mockTarget(server.url, server.pid), { amounts: [size.longRunWarmup] })
      await AdminClient.make(server.url).reset()
    }
    const target = await mockTarget(server.url, server.pid)
    // mockTarget made one call, which counts in the run.
    const half = size.longRun / 2
    const [early, toHalf, late] = await load(cores, "long run", target, { amounts: [size.early - 1, half - size.early, half] })
    return {
      earlyHalf: total([early!, toHalf!]),
      lateHalf: total([late!]),
      rssEarly: early!.serverRssMb ?? Number.NaN,
      rssHalf: toHalf!.serverRssMb ?? Number.NaN,
      rssLast: late!.serverRssMb ?? Number.NaN
    }
  } finally {
    await server.stop()
  }
}

const startup = async (cores: Process.Cores, size: Sizes): Promise<Record<"node-http" | "mock", ReadonlyArray<Startup>>> => {
  const times: Record<"node-http" | "mock", Array<Startup>> = { "node-http": [], mock: [] }
  for (let i = 0; i < size.starts; i++) {
    for (const kind of ["node-http", "mock"] as const) {
      const measured = JSON.parse(await Process.output(Process.node(Process.script("Startup.js"), [kind], cores.server))) as Startup
      if (measured.status !== 200) throw new Error(`${kind} answered its first request ${measured.status}: ${measured.body}`)
      times[kind].push(measured)
    }
  }
  return times
}

const med = (summaries: ReadonlyArray<Summary>, pick: (summary: Summary) => number) => Stats.median(summaries.map(pick))

/**
 * Runs the mock benchmark.
 *
 * @since 0.1.0
 * @category running
 */
export const run = async (options: Options): Promise<ReadonlyArray<Figure>> => {
  const size = options.smoke ? sizes.smoke : sizes.full
  const cores = Process.cores(options)
  const runs = await throughput(cores, size)
  const long = await longRun(cores, size)
  const starts = await startup(cores, size)

  const rate = (kind: Kind) => med(runs[kind], (s) => s.requestsPerSecond)
  const p50 = (kind: Kind) => med(runs[kind], (s) => s.p50Ms)
  const p99 = (kind: Kind) => med(runs[kind], (s) => s.p99Ms)
  const cpu = (kind: Kind) => med(runs[kind], (s) => s.serverCpuMicrosPerCall ?? Number.NaN)
  const baseline = { rate: rate("json-server"), p50: p50("json-server"), p99: p99("json-server"), cpu: cpu("json-server") }
  const c32 = `c${connections}, median of ${size.rounds} × ${size.seconds} s`
  const count = (n: number) => n.toLocaleString("en-US")
  const earlyHalf = `calls 1–${count(size.longRun / 2)}`
  const lateHalf = `calls ${count(size.longRun / 2 + 1)}–${count(size.longRun)}`
  const startMs = (kind: "node-http" | "mock") => Stats.median(starts[kind].map((s) => s.firstAnswerMs))

  return [
    Figures.make({
      benchmark: "mock",
      name: `mock api_create_preauthcode req/s (${c32})`,
      value: rate("mock"),
      unit: "req/s",
      baseline: { name: "json-server 0.17, the same request", value: baseline.rate },
      command
    }),
    // What the server spent per call, beside the rate: other work on the machine moves it less.
    Figures.make({
      benchmark: "mock",
      name: `mock server CPU per call (${c32})`,
      value: cpu("mock"),
      unit: "µs/call",
      baseline: { name: "json-server's", value: baseline.cpu },
      target: { text: "≤ 0.6× json-server's", met: cpu("mock") <= 0.6 * baseline.cpu },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `mock p50 latency (${c32})`,
      value: p50("mock"),
      unit: "ms",
      baseline: { name: "json-server p50", value: baseline.p50 },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `mock p99 latency (${c32})`,
      value: p99("mock"),
      unit: "ms",
      baseline: { name: "json-server p99", value: baseline.p99 },
      command
    }),
    // The floor against json-server: the gap is what Express costs a request; the mock's own cost is the figure above.
    Figures.make({
      benchmark: "mock",
      name: `bare node:http req/s, the floor (${c32}; load generator CPU ${
        Math.round(100 * med(runs["node-http"], (s) => s.loadCpuShare))
      }%: near 100%, it is autocannon's floor)`,
      value: rate("node-http"),
      unit: "req/s",
      baseline: { name: "json-server 0.17", value: baseline.rate },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `bare node:http p50 latency (${c32})`,
      value: p50("node-http"),
      unit: "ms",
      baseline: { name: "json-server p50", value: baseline.p50 },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `bare node:http p99 latency (${c32})`,
      value: p99("node-http"),
      unit: "ms",
      baseline: { name: "json-server p99", value: baseline.p99 },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `mock server CPU per call, ${lateHalf} (the late half) to one mock`,
      value: long.lateHalf.cpuMicrosPerCall,
      unit: "µs/call",
      baseline: { name: `${earlyHalf} (the early half)`, value: long.earlyHalf.cpuMicrosPerCall },
      target: { text: "≤ 1.1× the early half", met: long.lateHalf.cpuMicrosPerCall <= 1.1 * long.earlyHalf.cpuMicrosPerCall },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `mock req/s, ${lateHalf} (the late half) to one mock`,
      value: long.lateHalf.requestsPerSecond,
      unit: "req/s",
      baseline: { name: `${earlyHalf} (the early half)`, value: long.earlyHalf.requestsPerSecond },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `mock RSS after ${count(size.longRun)} calls`,
      value: long.rssLast,
      unit: "MB",
      baseline: { name: `after ${count(size.early)}`, value: long.rssEarly },
      target: { text: "≤ 1.5× after " + count(size.early), met: long.rssLast <= 1.5 * long.rssEarly },
      command
    }),
    // Half-way the code cap (100,000 by default) is long reached: past it, bounded memory stops growing.
    Figures.make({
      benchmark: "mock",
      name: `mock RSS after ${count(size.longRun)} calls, against half-way`,
      value: long.rssLast,
      unit: "MB",
      baseline: { name: `after ${count(size.longRun / 2)}`, value: long.rssHalf },
      command
    }),
    Figures.make({
      benchmark: "mock",
      name: `mock start() to first answer (fresh process, median of ${size.starts})`,
      value: startMs("mock"),
      unit: "ms",
      baseline: { name: "bare node:http", value: startMs("node-http") },
      target: { text: "< 100 ms", met: startMs("mock") < 100 },
      command
    })
  ]
}
