import { assert, describe, it } from "@effect/vitest"
import { ComponentToken, TokenStore } from "@wxopen/core"
import { Context, Effect, Exit, Fiber, Layer, Option, Redacted, Schedule, Scope } from "effect"
import { Redis } from "ioredis"
import { RedisTokenStore } from "../src/index.js"
import { freePort, instanceLayer, persistentRedis, redisProcess, startMock } from "./utils.js"

// Checks `condition` every 50 ms until it holds; fails saying what it waited for if that takes a minute.
const waitUntil = (what: string, condition: Effect.Effect<boolean>) =>
  condition.pipe(
    Effect.repeat({ until: (holds) => holds, schedule: Schedule.spaced("50 millis") }),
    Effect.timeoutFail({ duration: "1 minute", onTimeout: () => new Error(`waited a minute for ${what}`) })
  )

describe("RedisTokenStore when Redis goes away", () => {
  it.live("typed errors while Redis is down, never a hang; the same store works again when it is back, ticket kept", () =>
    Effect.gen(function*() {
      const redis = yield* persistentRedis
      const store = yield* Effect.map(
        Layer.build(RedisTokenStore.layer({ url: redis.url, commandTimeout: "1 second" })),
        (context) => Context.get(context, TokenStore.TokenStore)
      )
      yield* store.setTicket("wx0000000000000001", { value: Redacted.make("ticket@@@kept"), createdAt: Date.now(), receivedAt: Date.now() })

      yield* redis.kill // Redis stops
      const started = Date.now()
      const down = yield* Effect.flip(store.getTicket("wx0000000000000001"))
      assert.strictEqual(down._tag, "TokenStoreError")
      assert.isBelow(Date.now() - started, 1_500, "a typed error at once or within the command timeout, not a hang")
      const lease = yield* Effect.flip(store.withLease("k", "1 second", Effect.void))
      assert.strictEqual(lease._tag, "TokenStoreError")

      yield* redis.restart // Redis is back, with what it had written
      const ticket = yield* store.getTicket("wx0000000000000001").pipe(
        Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 })
      )
      assert.deepStrictEqual(Option.getOrNull(Option.map(ticket, (t) => Redacted.value(t.value))), "ticket@@@kept")
    }).pipe(Effect.scoped), 60_000)

  // A client the layer opens has ioredis's own command timeout; a client of yours may not, and then the store's
  // own timeout is what holds.
  for (const kind of ["url", "client without a command timeout"] as const) {
  it.live(`a frozen Redis (${kind}): reads, lease takes and closing fail within the timeout, and a late take leaves no lease`, () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const server = yield* redisProcess(port)
      const scope = yield* Scope.make()
      const url = `redis://127.0.0.1:${port}`
      const client = kind === "url" ? undefined : new Redis(url, { enableOfflineQueue: false })
      if (client !== undefined) {
        client.on("error", () => {})
        yield* Effect.promise(() => new Promise((resolve) => client.once("ready", resolve)))
      }
      const store = yield* Effect.map(
        Layer.build(RedisTokenStore.layer(client === undefined ? { url, commandTimeout: "500 millis" } : { client, commandTimeout: "500 millis" })),
        (context) => Context.get(context, TokenStore.TokenStore)
      ).pipe(Scope.extend(scope))
      const within = <A, E>(limit: number, effect: Effect.Effect<A, E>) =>
        Effect.gen(function*() {
          const started = Date.now()
          const exit = yield* Effect.exit(effect)
          assert.isBelow(Date.now() - started, limit, "no hang")
          return exit
        })

      server.kill("SIGSTOP") // Redis stops answering, connections stay open
      const read = yield* within(1_500, store.getTicket("wx0000000000000001"))
      assert.isTrue(Exit.isFailure(read))
      const take = yield* within(1_500, store.withLease("k", "1 minute", Effect.void))
      assert.isTrue(Exit.isFailure(take))
      server.kill("SIGCONT")

      // The take that timed out did land once Redis woke up; its release followed it: no lease is left.
      const freed = yield* store.withLease("k", "1 minute", Effect.succeed("taken")).pipe(
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 30 }),
        Effect.flatMap((taken) => (Option.isSome(taken) ? Effect.succeed(taken.value) : Effect.fail("still held"))),
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 30 })
      )
      assert.strictEqual(freed, "taken")

      server.kill("SIGSTOP")
      const closed = yield* within(3_500, Scope.close(scope, Exit.void))
      assert.isTrue(Exit.isSuccess(closed))
      server.kill("SIGCONT")
      client?.disconnect()
    }).pipe(Effect.scoped), 60_000)
  }

  it.live("a store built while Redis is down starts anyway, fails typed, and works once Redis is up", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const started = Date.now()
      const store = yield* Effect.map(
        Layer.build(RedisTokenStore.layer({ url: `redis://127.0.0.1:${port}`, commandTimeout: "500 millis" })),
        (context) => Context.get(context, TokenStore.TokenStore)
      )
      assert.isBelow(Date.now() - started, 6_500)
      assert.strictEqual((yield* Effect.flip(store.getTicket("wx0000000000000001")))._tag, "TokenStoreError")
      yield* redisProcess(port)
      const written = yield* store.setComponentToken("wx0000000000000001", { value: Redacted.make("t"), expiresAt: Date.now() + 60_000 }).pipe(
        Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 })
      )
      assert.isTrue(written)
    }).pipe(Effect.scoped), 60_000)

  // The issue this answers: Redis (with AOF) killed while a token was being fetched came back with the lease and
  // nearly all of its time to live, and every caller waited it out. Timing is not asserted tightly: the bound is
  // one that a busy machine cannot reach, and far below what waiting out a lease of the old 2 minutes would take.
  it.live("Redis (AOF) killed during a token fetch and restarted: callers on two instances are served soon after it answers, with one more token request", () =>
    Effect.gen(function*() {
      const redis = yield* persistentRedis
      const mock = yield* startMock
      const component = mock.config.components[0]!
      const instance = Effect.map(Layer.build(instanceLayer(mock, { url: redis.url })), (context) => ({
        store: Context.get(context, TokenStore.TokenStore),
        tokens: Context.get(context, ComponentToken.ComponentToken)
      }))
      const instances = [yield* instance, yield* instance]
      const { createdAt, ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      yield* instances[0]!.store.setTicket(component.appId, { value: Redacted.make(ticket), createdAt, receivedAt: Date.now() })
      // WeChat answers the first token request after 4 s: Redis dies while it is in flight.
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: "api_component_token", times: 1, fault: { type: "delay", ms: 4_000 } }))
      const tokenRequests = Effect.promise(() => mock.admin.journal({ endpoint: "api_component_token" })).pipe(Effect.map((j) => j.length))

      // Three callers on each instance. Like request handlers, they fail while the store is down and are called
      // again; each is served once a get succeeds.
      const failedAt: Array<number> = []
      const callers = instances.flatMap(({ tokens }) => [0, 1, 2].map(() => tokens)).map((tokens, i) =>
        tokens.get.pipe(
          Effect.tapError(() => Effect.sync(() => failedAt[i] = Date.now())),
          Effect.retry({ while: (error) => error._tag === "TokenStoreError", schedule: Schedule.spaced("100 millis") }),
          Effect.map((token) => ({ token: Redacted.value(token.value), at: Date.now() }))
        )
      )
      const served = yield* Effect.fork(Effect.all(callers, { concurrency: "unbounded" }))

      // The fault is taken when the request arrives: the fetch is in flight, under the lease.
      yield* waitUntil(
        "the token request",
        Effect.promise(() => fetch(`${mock.url}/__admin/faults`).then((r) => r.json() as Promise<ReadonlyArray<unknown>>)).pipe(
          Effect.map((faults) => faults.length === 0)
        )
      )
      yield* redis.kill
      // WeChat answers; storing the token and releasing the lease fail. The holder's callers waited on its fetch,
      // so once every caller has failed after the answer, the holder has given up.
      yield* waitUntil("WeChat's answer", Effect.map(tokenRequests, (n) => n === 1))
      const answered = Date.now()
      yield* waitUntil("every caller to fail", Effect.sync(() => callers.every((_, i) => (failedAt[i] ?? 0) > answered)))
      assert.include(yield* redis.aof, `wxopen:lease:${ComponentToken.refreshLeaseKey(component.appId)}`, "the lease outlives Redis, in its AOF")

      yield* redis.restart // back, with the ticket and the lease the holder could not release
      const answering = Date.now()
      const got = yield* Fiber.join(served)
      const seconds = got.map(({ at }) => (at - answering) / 1000)
      console.log(
        `Redis killed during a token fetch: the ${got.length} callers on 2 instances were served ` +
          `${Math.min(...seconds).toFixed(2)}–${Math.max(...seconds).toFixed(2)} s after Redis answered again`
      )
      assert.strictEqual(new Set(got.map(({ token }) => token)).size, 1, "one token for every caller")
      assert.strictEqual(yield* tokenRequests, 2, "exactly one more token request")
      assert.isBelow(Math.max(...seconds), 30, "served long before a lease of the old 2 minutes would have lapsed")
    }).pipe(Effect.scoped), 120_000)
})
