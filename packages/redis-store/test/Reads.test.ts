import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted } from "effect"
import type { Redis } from "ioredis"
import { probeOn, settle, startRedis, storeOn } from "./utils.js"

const appId = "wx0000000000000001"
const value = <A extends { readonly value: Redacted.Redacted<string> }>(option: Option.Option<A>) =>
  Option.map(option, (x) => Redacted.value(x.value))

// How many GETs Redis has run since the counters were reset.
const gets = (probe: Redis) =>
  Effect.promise(() => probe.info("commandstats")).pipe(Effect.map((info) => Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0)))

// Holds every client's commands in Redis for a while, in the order they were sent: the store's reads stay in flight
// until then, whatever the machine's speed.
const pause = (probe: Redis, ms: number) =>
  Effect.promise(() => probe.call("CONFIG", "RESETSTAT").then(() => probe.call("CLIENT", "PAUSE", String(ms), "ALL")))

// A store on a Redis of its own that holds a component token "token", with the commands paused.
const pausedWithToken = Effect.gen(function*() {
  const redis = yield* startRedis
  const probe = yield* probeOn(redis.url)
  const store = yield* storeOn({ url: redis.url })
  yield* store.setComponentToken(appId, { value: Redacted.make("token"), expiresAt: Date.now() + 60_000 })
  yield* pause(probe, 500)
  return { probe, store }
})

describe("RedisTokenStore reads", () => {
  it.live("concurrent reads of one key share one GET, one per key", () =>
    Effect.gen(function*() {
      const { probe, store } = yield* pausedWithToken
      const many = <A, E>(read: Effect.Effect<A, E>) => Effect.all(Array.from({ length: 100 }, () => read), { concurrency: "unbounded" })
      const [tokens, tickets, authorizers] = yield* Effect.all(
        [many(store.getComponentToken(appId)), many(store.getTicket(appId)), many(store.getAuthorizer(appId, "wxauth"))],
        { concurrency: "unbounded" }
      )
      assert.isTrue(tokens.every((token) => Option.getOrNull(value(token)) === "token"))
      assert.isTrue(tickets.every(Option.isNone) && authorizers.every(Option.isNone))
      assert.strictEqual(yield* gets(probe), 3)
    }).pipe(Effect.scoped))

  it.live("interrupting one reader leaves the shared read to the others", () =>
    Effect.gen(function*() {
      const { probe, store } = yield* pausedWithToken
      const first = yield* Effect.fork(store.getComponentToken(appId))
      const second = yield* Effect.fork(store.getComponentToken(appId))
      yield* settle
      yield* Fiber.interrupt(first)
      assert.deepStrictEqual(Option.getOrNull(value(yield* Fiber.join(second))), "token")
      assert.strictEqual(yield* gets(probe), 1)
    }).pipe(Effect.scoped))

  it.live("a read started after a write sees it, even while a read of the key from before the write is in flight", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const probe = yield* probeOn(redis.url)
      const store = yield* storeOn({ url: redis.url })
      const now = Date.now()
      yield* store.setComponentToken(appId, { value: Redacted.make("old"), expiresAt: now + 60_000 })
      yield* pause(probe, 500)
      const before = yield* Effect.fork(store.getComponentToken(appId))
      yield* settle // its GET is sent
      const write = yield* Effect.fork(store.setComponentToken(appId, { value: Redacted.make("new"), expiresAt: now + 120_000 }))
      yield* settle // the write is sent after it
      const after = yield* Effect.fork(store.getComponentToken(appId))
      assert.deepStrictEqual(Option.getOrNull(value(yield* Fiber.join(before))), "old")
      assert.isTrue(yield* Fiber.join(write))
      assert.deepStrictEqual(Option.getOrNull(value(yield* Fiber.join(after))), "new")
      assert.deepStrictEqual(Option.getOrNull(value(yield* store.getComponentToken(appId))), "new")
    }).pipe(Effect.scoped))
})
