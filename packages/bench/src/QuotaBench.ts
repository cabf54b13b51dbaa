/**
 * The quota economy: how many `api_component_token` requests WeChat sees, the
 * requests its daily quota (10,000) counts.
 *
 * - A cold burst: 10,000 concurrent `PreAuthCode.create` on a store with a
 *   ticket and no token send exactly one token request.
 * - A simulated day of steady load, driven by the mock's clock: a few
 *   concurrent calls every simulated minute for 24 hours send as many token
 *   requests as 24 h holds useful token lives (the 7,200 s WeChat gives a
 *   token, less the refresh margin), and callers see no 40001/42001.
 * - Both again with four processes sharing the Redis store.
 *
 * Counts are WeChat's, read from the mock's journal (kept long enough for the
 * whole scenario, and checked not to have dropped any request); failures are
 * the callers', tallied by kind. Each scenario has a fresh mock.
 *
 * Time is driven on both sides: the mock's clock moves with its admin API, and
 * the clients read an Effect `Clock` that is real time plus the same offset
 * (only reading it: sleeps stay real). Verify tickets reach the store the way
 * they do in production: the mock pushes one every 10 minutes of its time,
 * encrypted and signed, to a `ComponentPush` receiver running on the simulated
 * clock, which stores it; a benchmark that copied tickets from the admin API
 * would skip the receiver's part of keeping tokens fetchable for a day.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ComponentConfig, ComponentPush, TokenStore } from "@wxopen/core"
import { MockConfig, MockServer } from "@wxopen/mock-server"
import { RedisTokenStore } from "@wxopen/redis-store"
import { Clock, Console, type Context, Duration, Effect, Layer, Logger, Option, Schedule } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Crypto from "node:crypto"
import { existsSync } from "node:fs"
import { createServer } from "node:http"
import { createServer as createNetServer } from "node:net"
import * as Figure from "./Figure.js"
import * as Process from "./Process.js"
import * as QuotaClient from "./QuotaClient.js"

// How long WeChat lets a `component_access_token` live (`expires_in`), which the mock answers too. The library keeps
// no such constant: it uses what WeChat answers.
const tokenLifetime: Duration.Duration = Duration.seconds(7200)

// How long one token is used before wxopen fetches the next: its lifetime less the refresh margin (the default, which
// the benchmark keeps).
const usefulLife: Duration.Duration = Duration.subtract(tokenLifetime, ComponentConfig.defaultRefreshMargin)

/**
 * The sizes of a run.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sizes {
  /** Concurrent calls of the cold burst, all processes together. */
  readonly burst: number
  /** Simulated hours of steady load. */
  readonly hours: number
  /** Simulated seconds between two batches of calls. */
  readonly stepSeconds: number
  /** Concurrent calls per step, all processes together. */
  readonly callsPerStep: number
  /** Processes sharing the Redis store. */
  readonly processes: number
}

/**
 * The sizes of a full run, and of a smoke run (three hours in steps of ten
 * minutes: still one token refresh, and a pushed ticket every step; two
 * processes on Redis: still more than one instance sharing the store).
 *
 * @since 0.1.0
 * @category constants
 */
export const sizes: { readonly full: Sizes; readonly smoke: Sizes } = {
  full: { burst: 10_000, hours: 24, stepSeconds: 60, callsPerStep: 8, processes: 4 },
  smoke: { burst: 200, hours: 3, stepSeconds: 600, callsPerStep: 4, processes: 2 }
}

const redisServer = process.env.REDIS_SERVER_PATH ?? "/usr/bin/redis-server"

const integer = (value: number) => value.toLocaleString("en-US")

// Where the calls run: in this process on the memory store, or spread over worker processes on Redis.
interface Fleet {
  readonly label: string
  readonly calls: (offsetMs: number, calls: number, keepCodes: boolean) => Effect.Effect<QuotaClient.Tally>
}

// ---------------------------------------------------------------------------------------------------------------
// The mock, the receiver, Redis, the workers

const startMock = (journalLimit: number) =>
  Effect.acquireRelease(
    Effect.promise(() => MockServer.start({ port: 0, config: { ...MockConfig.defaults, journalLimit } })),
    (mock) => Effect.promise(() => mock.close())
  )

// wxopen with its push receiver at /events; the receiver stores tickets in `store`.
const platform = <E>(mock: MockServer.RunningMock, store: Layer.Layer<TokenStore.TokenStore, E>) =>
  HttpRouter.empty.pipe(
    HttpRouter.post("/events", ComponentPush.httpApp),
    HttpServer.serve(),
    Layer.provide(ComponentPush.layer()),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(QuotaClient.wechat({ apiBaseUrl: mock.url, component: mock.config.components[0]!, store }))
  )

// Points the mock's pushes at the receiver and has it push a ticket; answers once the store holds it.
const receiveFirstTicket = (mock: MockServer.RunningMock) =>
  Effect.gen(function*() {
    const { appId } = mock.config.components[0]!
    const address = (yield* HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("the push receiver is not on TCP")
    yield* Effect.promise(() => mock.admin.setPushUrl(appId, `http://127.0.0.1:${address.port}/events`))
    yield* Effect.promise(() => mock.admin.pushTicket(appId))
    const store = yield* TokenStore.TokenStore
    yield* store.getTicket(appId).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("no ticket stored yet"), onSome: Effect.succeed })),
      Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }),
      Effect.orDieWith(() => new Error("the push receiver did not store the mock's first ticket within 5 s"))
    )
  })

const freePort = Effect.async<number>((resume) => {
  const probe = createNetServer().listen(0, "127.0.0.1", () => {
    const address = probe.address()
    probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

// A redis-server of the benchmark's own, without persistence, on a free port; stopped with the scope.
const startRedis = Effect.gen(function*() {
  const port = yield* freePort
  yield* Effect.acquireRelease(
    Effect.async<ChildProcess, Error>((resume) => {
      const child = spawn(redisServer, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      let output = ""
      let ready = false
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        if (ready) return
        output += chunk
        if (output.includes("Ready to accept connections")) {
          ready = true
          resume(Effect.succeed(child))
        }
      })
      child.on("error", (error) => resume(Effect.fail(error)))
      child.on("exit", (code) => {
        if (!ready) resume(Effect.fail(new Error(`redis-server exited (${code}) before accepting connections:\n${output}`)))
      })
    }).pipe(Effect.orDie),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
  )
  return `redis://127.0.0.1:${port}`
})

// A worker process: each message it is sent gets one answer, in order.
interface Worker {
  readonly ask: (message: QuotaClient.ToWorker) => Effect.Effect<QuotaClient.FromWorker>
}

// A worker process (QuotaWorker.js), ended with the scope. Not pinned to a core as Process.node pins clients: it needs
// an IPC channel, and what is measured here is counts, not speed.
const startWorker = Effect.acquireRelease(
  Effect.sync(() => {
    // Its stdout (wxopen's log lines) goes to our stderr: our stdout carries the table of figures.
    const child = spawn(process.execPath, [Process.script("QuotaWorker.js")], { stdio: ["ignore", 2, 2, "ipc"] })
    const pending: Array<(answer: QuotaClient.FromWorker | Error) => void> = []
    child.on("message", (message: QuotaClient.FromWorker) => pending.shift()?.(message))
    child.on("error", (error) => {
      for (const answer of pending.splice(0)) answer(error)
    })
    child.on("exit", (code, signal) => {
      for (const answer of pending.splice(0)) answer(new Error(`a quota worker exited (${code ?? signal}) before answering`))
    })
    const worker: Worker = {
      ask: (message) =>
        Effect.async<QuotaClient.FromWorker, Error>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            return resume(Effect.fail(new Error(`a quota worker exited (${child.exitCode ?? child.signalCode})`)))
          }
          pending.push((answer) => resume(answer instanceof Error ? Effect.fail(answer) : Effect.succeed(answer)))
          child.send(message)
        }).pipe(Effect.orDie)
    }
    return { child, worker }
  }),
  ({ child }) =>
    Effect.async<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      child.once("exit", () => {
        clearTimeout(timer)
        resume(Effect.void)
      })
      child.send({ type: "exit" } satisfies QuotaClient.ToWorker)
    })
).pipe(Effect.map(({ worker }) => worker))

const expect = <T extends QuotaClient.FromWorker["type"]>(type: T) => (answer: QuotaClient.FromWorker) =>
  answer.type === type
    ? Effect.succeed(answer as Extract<QuotaClient.FromWorker, { readonly type: T }>)
    : Effect.dieMessage(`a quota worker answered "${answer.type}" where "${type}" was due`)

// The workers with a scenario's services open, all ready before the first call (the cold burst starts everywhere at
// once); closed with the scope.
const session = (workers: ReadonlyArray<Worker>, open: Extract<QuotaClient.ToWorker, { readonly type: "open" }>) =>
  Effect.acquireRelease(
    Effect.forEach(workers, (worker) => Effect.flatMap(worker.ask(open), expect("ready")), { concurrency: "unbounded" }),
    () => Effect.forEach(workers, (worker) => Effect.flatMap(worker.ask({ type: "close" }), expect("closed")), { concurrency: "unbounded" })
  ).pipe(
    Effect.as<Fleet>({
      label: `${workers.length} processes (Redis store)`,
      // `calls` shared out over the workers as evenly as can be, all sent at once.
      calls: (offsetMs, calls, keepCodes) =>
        Effect.forEach(workers, (worker, index) => {
          const share = Math.floor(calls / workers.length) + (index < calls % workers.length ? 1 : 0)
          return Effect.flatMap(worker.ask({ type: "calls", offsetMs, calls: share, keepCodes }), expect("done"))
        }, { concurrency: "unbounded" }).pipe(
          Effect.map((answers) => answers.map(({ tally }) => tally).reduce(QuotaClient.combine, QuotaClient.empty))
        )
    })
  )

// ---------------------------------------------------------------------------------------------------------------
// What WeChat saw

const journal = (mock: MockServer.RunningMock, query: { readonly endpoint?: string; readonly errcode?: number }) =>
  Effect.promise(() => mock.admin.journal(query))

// The journal keeps `journalLimit` requests; a count read from one that dropped some would be wrong.
const journalComplete = (mock: MockServer.RunningMock) =>
  Effect.flatMap(Effect.promise(() => mock.admin.journal({ limit: 1 })), (newest) =>
    (newest[0]?.id ?? 0) > mock.config.journalLimit
      ? Effect.dieMessage(`the mock's journal kept ${mock.config.journalLimit} of ${newest[0]!.id} requests: raise its journalLimit`)
      : Effect.void)

const tokenRequests = (mock: MockServer.RunningMock) =>
  Effect.zipRight(journalComplete(mock), Effect.map(journal(mock, { endpoint: "api_component_token" }), (entries) => entries.length))

// ---------------------------------------------------------------------------------------------------------------
// The scenarios

const coldBurst = (mock: MockServer.RunningMock, fleet: Fleet, burst: number, command: string) =>
  Effect.gen(function*() {
    const tally = yield* fleet.calls(0, burst, true)
    const requests = yield* tokenRequests(mock)
    const distinct = new Set(tally.codes).size
    const name = `cold burst, ${fleet.label}, ${integer(burst)} concurrent PreAuthCode.create`
    const failures = Object.entries(tally.failures).map(([kind, count]) => `${count} ${kind}`).join(", ")
    return [
      Figure.make({
        benchmark: "quota",
        name: `${name}: api_component_token requests`,
        value: requests,
        unit: "requests",
        baseline: { name: "ideal", value: 1 },
        target: { text: "exactly 1", met: requests === 1 },
        command
      }),
      Figure.make({
        benchmark: "quota",
        name: `${name}: distinct pre-authorization codes${failures === "" ? "" : ` (failed: ${failures})`}`,
        value: distinct,
        unit: "codes",
        baseline: { name: "calls", value: burst },
        target: { text: "one per call", met: distinct === burst && tally.successes === burst },
        command
      })
    ]
  })

const simulatedDay = (
  mock: MockServer.RunningMock,
  fleet: Fleet,
  time: QuotaClient.SimulatedClock,
  size: Sizes,
  command: string
) =>
  Effect.gen(function*() {
    const steps = Math.round((size.hours * 3600) / size.stepSeconds)
    let tally = QuotaClient.empty
    for (let step = 0; step < steps; step++) {
      if (step > 0) {
        const offsetMs = step * size.stepSeconds * 1000
        // Ours first: the tickets the mock pushes while its clock moves are received at the new time.
        time.set(offsetMs)
        const moved = yield* Effect.promise(() => mock.admin.advanceClock(size.stepSeconds))
        if (moved.offsetMs !== offsetMs) {
          return yield* Effect.dieMessage(`the mock's clock is ${moved.offsetMs} ms ahead, the clients' ${offsetMs} ms`)
        }
      }
      tally = QuotaClient.combine(tally, yield* fleet.calls(time.offsetMs(), size.callsPerStep, false))
    }

    const requests = yield* tokenRequests(mock)
    const refused = (yield* journal(mock, { errcode: 40001 })).length + (yield* journal(mock, { errcode: 42001 })).length
    const accessTokenErrors = QuotaClient.failuresOf(tally, "AccessTokenError")
    const others = QuotaClient.failuresTotal(tally) - accessTokenErrors
    const otherKinds = Object.entries(tally.failures)
      .filter(([kind]) => !kind.startsWith("AccessTokenError"))
      .map(([kind, count]) => `${count} ${kind}`)
      .join(", ")
    const expected = Math.ceil(Duration.toMillis(Duration.hours(size.hours)) / Duration.toMillis(usefulLife))
    const name = `${size.hours} h simulated, ${fleet.label}, ${size.callsPerStep} concurrent PreAuthCode.create every ${
      size.stepSeconds
    } s (${integer(tally.calls)} calls)`
    return [
      Figure.make({
        benchmark: "quota",
        name: `${name}: api_component_token requests`,
        value: requests,
        unit: "requests",
        baseline: {
          name: `ceil(${size.hours} h / ${integer(Duration.toSeconds(usefulLife))} s useful life)`,
          value: expected
        },
        target: { text: "equal", met: requests === expected },
        command
      }),
      Figure.make({
        benchmark: "quota",
        name: `${name}: AccessTokenError (40001/42001) seen by callers`,
        value: accessTokenErrors,
        unit: "failures",
        baseline: { name: "none", value: 0 },
        target: { text: "0", met: accessTokenErrors === 0 },
        command
      }),
      Figure.make({
        benchmark: "quota",
        name: `${name}: 40001/42001 answers WeChat gave (retried or not)`,
        value: refused,
        unit: "answers",
        baseline: { name: "none", value: 0 },
        command
      }),
      Figure.make({
        benchmark: "quota",
        name: `${name}: other failures seen by callers${otherKinds === "" ? "" : ` (${otherKinds})`}`,
        value: others,
        unit: "failures",
        baseline: { name: "none", value: 0 },
        target: { text: "0", met: others === 0 },
        command
      })
    ]
  })

// The receiver must have run on the simulated clock, or the day's failures would be the benchmark's, not wxopen's.
const receivedOnSimulatedTime = (mock: MockServer.RunningMock, size: Sizes) =>
  Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    const ticket = yield* Effect.orDie(store.getTicket(mock.config.components[0]!.appId))
    const age = (yield* Clock.currentTimeMillis) - Option.match(ticket, {
      onNone: () => Number.NEGATIVE_INFINITY,
      onSome: (t) => t.receivedAt
    })
    if (age > Duration.toMillis(Duration.minutes(11)) + size.stepSeconds * 1000) {
      return yield* Effect.dieMessage("the newest stored ticket was not received on the simulated clock")
    }
  })

// One scenario: a fresh mock, our clock at real time, the receiver given the first ticket; then `body`.
const scenario = <A, E>(
  journalLimit: number,
  store: Layer.Layer<TokenStore.TokenStore, E>,
  body: (
    mock: MockServer.RunningMock,
    time: QuotaClient.SimulatedClock,
    context: Context.Context<Layer.Layer.Success<ReturnType<typeof platform>>>
  ) => Effect.Effect<A>
) =>
  Effect.suspend(() => {
    const time = QuotaClient.simulatedClock()
    // Everything built here (the receiver's server included) reads the simulated clock.
    return Effect.gen(function*() {
      const mock = yield* startMock(journalLimit)
      const context = yield* Layer.build(platform(mock, store)).pipe(Effect.orDie)
      yield* receiveFirstTicket(mock).pipe(Effect.provide(context))
      return yield* body(mock, time, context)
    }).pipe(Effect.scoped, Effect.withClock(time.clock))
  })

const inProcess = (context: Context.Context<Layer.Layer.Success<ReturnType<typeof platform>>>): Fleet => ({
  label: "1 process (memory store)",
  calls: (_offsetMs, calls, keepCodes) => QuotaClient.createCodes(calls, keepCodes).pipe(Effect.provide(context))
})

// A scenario's duration on stderr, for whoever waits for a full run.
const timed = <A, E, R>(name: string, effect: Effect.Effect<A, E, R>) =>
  Effect.timed(effect).pipe(
    Effect.tap(([duration]) => Console.error(`quota: ${name} in ${(Duration.toMillis(duration) / 1000).toFixed(1)} s`)),
    Effect.map(([, a]) => a)
  )

const figures = (smoke: boolean) =>
  Effect.gen(function*() {
    const size = smoke ? sizes.smoke : sizes.full
    const command = `npx -y pnpm@10.34.9 bench${smoke ? " --smoke" : ""} quota`
    if (!existsSync(redisServer)) {
      return yield* Effect.dieMessage(
        `the quota benchmark runs ${size.processes} processes on a redis-server of its own, and there is none at ${redisServer}: ` +
          "apt-get install redis-server (.ci/run installs it), or set REDIS_SERVER_PATH"
      )
    }
    // Room for every request of a scenario, retries included, so that none is dropped before it is counted.
    const burstJournal = 2 * size.burst + 10_000
    const dayJournal = 2 * size.callsPerStep * Math.round((size.hours * 3600) / size.stepSeconds) + 10_000
    const redisUrl = yield* startRedis
    // Started once, for both Redis scenarios: starting Node, Effect and ioredis is most of a smoke run's time.
    const processes = yield* Effect.all(Array.from({ length: size.processes }, () => startWorker), { concurrency: "unbounded" })
    // Each Redis scenario on keys of its own (the burst must find no token), the workers' and the receiver's.
    const onRedis = <A>(
      journalLimit: number,
      body: (
        mock: MockServer.RunningMock,
        fleet: Fleet,
        time: QuotaClient.SimulatedClock,
        context: Context.Context<Layer.Layer.Success<ReturnType<typeof platform>>>
      ) => Effect.Effect<A>
    ) =>
      Effect.suspend(() => {
        const prefix = `wxopen-bench-quota-${Crypto.randomUUID()}`
        return scenario(journalLimit, RedisTokenStore.layer({ url: redisUrl, prefix }), (mock, time, context) =>
          Effect.scoped(Effect.flatMap(
            session(processes, { type: "open", apiBaseUrl: mock.url, component: mock.config.components[0]!, redisUrl, prefix }),
            (fleet) => body(mock, fleet, time, context)
          )))
      })

    const memoryBurst = yield* timed(
      "cold burst, memory store",
      scenario(burstJournal, TokenStore.layerMemory, (mock, _time, context) =>
        coldBurst(mock, inProcess(context), size.burst, command))
    )
    const memoryDay = yield* timed(
      "simulated day, memory store",
      scenario(dayJournal, TokenStore.layerMemory, (mock, time, context) =>
        Effect.zipLeft(
          simulatedDay(mock, inProcess(context), time, size, command),
          receivedOnSimulatedTime(mock, size).pipe(Effect.provide(context))
        ))
    )
    const redisBurst = yield* timed(
      "cold burst, Redis store",
      onRedis(burstJournal, (mock, fleet) => coldBurst(mock, fleet, size.burst, command))
    )
    const redisDay = yield* timed(
      "simulated day, Redis store",
      onRedis(dayJournal, (mock, fleet, time, context) =>
        Effect.zipLeft(
          simulatedDay(mock, fleet, time, size, command),
          receivedOnSimulatedTime(mock, size).pipe(Effect.provide(context))
        ))
    )
    return [...memoryBurst, ...memoryDay, ...redisBurst, ...redisDay]
  }).pipe(Effect.scoped)

/**
 * Runs the quota benchmark: a cold burst and a simulated day, in one process
 * on the memory store, then in four processes on Redis.
 *
 * @since 0.1.0
 * @category benchmarks
 */
export const run = (options: Figure.Options): Promise<ReadonlyArray<Figure.Figure>> =>
  Effect.runPromise(
    figures(options.smoke).pipe(
      // wxopen's log lines go to stderr: stdout carries the table of figures.
      Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.stringLogger)))
    )
  )
