/**
 * One instance of the platform in the quota benchmark, in a process of its
 * own, started by `QuotaBench` with an IPC channel. For each scenario it is
 * sent, it builds wxopen's services on the shared Redis store, pointed at
 * that scenario's mock, and answers `ready`; then runs each batch of
 * concurrent `PreAuthCode.create` it is sent at the simulated time it is
 * told, answering its tally; and closes the services when told. One process
 * serves every scenario: starting Node, Effect and ioredis is most of a smoke
 * run's time on two cores.
 *
 * Its clock is the benchmark's: real time plus the offset the mock's clock was
 * moved, set before each batch, so that tokens age here as they do at the mock.
 *
 * @since 0.1.0
 */
import { RedisTokenStore } from "@wxopen/redis-store"
import { Effect, Queue } from "effect"
import * as QuotaClient from "./QuotaClient.js"

const send = (message: QuotaClient.FromWorker) =>
  Effect.async<void>((resume) => {
    process.send!(message, undefined, undefined, (error) => resume(error === null ? Effect.void : Effect.die(error)))
  })

const session = (inbox: Queue.Queue<QuotaClient.ToWorker>, open: Extract<QuotaClient.ToWorker, { readonly type: "open" }>) => {
  // A fresh clock per scenario: each has a fresh mock, at real time.
  const time = QuotaClient.simulatedClock()
  return Effect.gen(function*() {
    yield* send({ type: "ready" })
    while (true) {
      const message = yield* Queue.take(inbox)
      if (message.type === "close") return
      if (message.type !== "calls") return yield* Effect.dieMessage(`a quota worker was sent "${message.type}" in a scenario`)
      // Set only here, between batches: no call of this process is under way while the clock moves.
      time.set(message.offsetMs)
      yield* send({ type: "done", tally: yield* QuotaClient.createCodes(message.calls, message.keepCodes) })
    }
  }).pipe(
    Effect.provide(QuotaClient.wechat({
      apiBaseUrl: open.apiBaseUrl,
      component: open.component,
      store: RedisTokenStore.layer({ url: open.redisUrl, prefix: open.prefix })
    })),
    Effect.withClock(time.clock),
    // Answered once the services (the Redis connection among them) are closed.
    Effect.zipRight(send({ type: "closed" }))
  )
}

const program = Effect.gen(function*() {
  const inbox = yield* Queue.unbounded<QuotaClient.ToWorker>()
  process.on("message", (message) => Queue.unsafeOffer(inbox, message as QuotaClient.ToWorker))
  while (true) {
    const message = yield* Queue.take(inbox)
    if (message.type === "exit") return
    if (message.type !== "open") return yield* Effect.dieMessage(`a quota worker was sent "${message.type}" outside a scenario`)
    yield* session(inbox, message)
  }
})

if (process.send === undefined) {
  console.error("QuotaWorker.js is started by the quota benchmark (QuotaBench), with an IPC channel")
  process.exit(2)
}
// The benchmark gone, nobody reads what this process would do.
process.once("disconnect", () => process.exit(1))
Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
