import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Option, Schedule } from "effect"
import { persistentRedis, probeOn, settle, startRedis, storeOn } from "./utils.js"

// What the contract cannot say of every store: how a lease lives in Redis. Bounds on waits are loose on purpose
// (seconds against a lease of a minute): a busy machine delays a wake-up by a second or more, never by a minute.

const lease = "wxopen:lease:k"

// Takes the lease as soon as it is free, and says how long that took (milliseconds).
const takeOnceFree = (store: Effect.Effect.Success<ReturnType<typeof storeOn>>) =>
  store.withLease("k", "1 minute", Effect.void).pipe(
    Effect.flatMap((taken) => (Option.isSome(taken) ? Effect.void : Effect.fail("held"))),
    Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 150 }),
    Effect.timed,
    Effect.map(([elapsed]) => Duration.toMillis(elapsed))
  )

describe("RedisTokenStore leases", () => {
  it.live("a dead holder's lease keeps the others out until it lapses; awaitLease returns then, and the lease can be taken", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const probe = yield* probeOn(redis.url)
      const store = yield* storeOn({ url: redis.url })
      const written = Date.now()
      yield* Effect.promise(() => probe.set(lease, "a-process-that-died", "PX", 1500))
      assert.isTrue(Option.isNone(yield* store.withLease("k", "10 seconds", Effect.void)))
      yield* store.awaitLease("k", "1 minute")
      const waited = Date.now() - written
      assert.isAtLeast(waited, 1_400, "not before the lease lapsed")
      assert.isBelow(waited, 30_000, "when it lapsed, not at its timeout")
      assert.deepStrictEqual(Option.getOrNull(yield* store.withLease("k", "10 seconds", Effect.succeed("taken"))), "taken")
    }).pipe(Effect.scoped), 60_000)

  it.live("a holder's lease is renewed while it works: it never lapses, never lives longer than its TTL, and is gone at once on release", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const probe = yield* probeOn(redis.url)
      const store = yield* storeOn({ url: redis.url })
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(store.withLease("k", "1 second", Effect.zipRight(Deferred.succeed(inside, undefined), Effect.as(Deferred.await(leave), "done"))))
      yield* Deferred.await(inside)
      const started = Date.now()
      const left: Array<number> = []
      while (Date.now() - started < 4_000) {
        left.push(yield* Effect.promise(() => probe.pttl(lease)))
        yield* Effect.sleep("100 millis")
      }
      assert.isTrue(left.every((ms) => ms > 0 && ms <= 1_000), `time to live seen over four TTLs: ${left.join(", ")}`)
      yield* Deferred.succeed(leave, undefined)
      assert.deepStrictEqual(Option.getOrNull(yield* Fiber.join(holder)), "done")
      assert.strictEqual(yield* Effect.promise(() => probe.pttl(lease)), -2)
    }).pipe(Effect.scoped), 60_000)

  it.live("a holder that lost its lease (it lapsed while the holder was cut off) neither renews nor releases its successor's", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const probe = yield* probeOn(redis.url)
      const [first, second] = [yield* storeOn({ url: redis.url }), yield* storeOn({ url: redis.url })]
      const hold = (store: typeof first, ttl: Duration.DurationInput) =>
        Effect.gen(function*() {
          const inside = yield* Deferred.make<void>()
          const leave = yield* Deferred.make<void>()
          const fiber = yield* Effect.fork(store.withLease("k", ttl, Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(leave))))
          yield* Deferred.await(inside)
          return Effect.zipRight(Deferred.succeed(leave, undefined), Fiber.join(fiber))
        })
      const leaveFirst = yield* hold(first, "1 second")
      yield* Effect.promise(() => probe.del(lease)) // as if it had lapsed
      const leaveSecond = yield* hold(second, "1 minute")
      yield* Effect.sleep("1200 millis") // the first holder's renewals come due three times
      assert.isAbove(yield* Effect.promise(() => probe.pttl(lease)), 50_000, "the successor's lease is not cut to the first holder's TTL")
      assert.isTrue(Option.isSome(yield* leaveFirst))
      assert.isAbove(yield* Effect.promise(() => probe.pttl(lease)), 50_000, "the successor still holds its lease")
      assert.isTrue(Option.isNone(yield* first.withLease("k", "1 minute", Effect.void)))
      yield* leaveSecond
    }).pipe(Effect.scoped), 60_000)

  it.live("a caller interrupted while its take is in flight returns at once, and leaves no lease behind", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const probe = yield* probeOn(redis.url)
      const store = yield* storeOn({ url: redis.url, commandTimeout: "10 seconds" })
      yield* Effect.promise(() => probe.call("CLIENT", "PAUSE", "2000", "ALL"))
      const taker = yield* Effect.fork(store.withLease("k", "1 minute", Effect.never))
      yield* settle // the take is sent, and waits for Redis
      const [interrupted] = yield* Effect.timed(Fiber.interrupt(taker))
      assert.isBelow(Duration.toMillis(interrupted), 1_500, "not held up by Redis")
      // Redis runs the take once it resumes, then the release sent behind it.
      assert.isBelow(yield* takeOnceFree(store), 30_000)
    }).pipe(Effect.scoped), 60_000)

  it.live("renewals that fail while Redis is down do not fail the holder", () =>
    Effect.gen(function*() {
      const redis = yield* persistentRedis
      const store = yield* storeOn({ url: redis.url, commandTimeout: "500 millis" })
      const inside = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        store.withLease("k", "600 millis", Effect.zipRight(Deferred.succeed(inside, undefined), Effect.as(Effect.sleep("1500 millis"), "done")))
      )
      yield* Deferred.await(inside)
      yield* redis.kill
      assert.deepStrictEqual(Option.getOrNull(yield* Fiber.join(holder)), "done")
    }).pipe(Effect.scoped), 60_000)

  it.live("a release that failed while Redis was unreachable goes through once Redis answers: the lease does not linger to its TTL", () =>
    Effect.gen(function*() {
      const redis = yield* persistentRedis
      const store = yield* storeOn({ url: redis.url, commandTimeout: "500 millis" })
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(store.withLease("k", "1 minute", Effect.zipRight(Deferred.succeed(inside, undefined), Effect.as(Deferred.await(leave), "done"))))
      yield* Deferred.await(inside)

      yield* redis.kill
      yield* Deferred.succeed(leave, undefined)
      assert.deepStrictEqual(Option.getOrNull(yield* Fiber.join(holder)), "done", "a failed release does not fail the holder")
      assert.include(yield* redis.aof, lease, "the lease outlives Redis, in its AOF")

      yield* redis.restart // back, with the lease and nearly a minute left on it
      const freed = yield* takeOnceFree(yield* storeOn({ url: redis.url }))
      const seconds = freed / 1000
      console.log(`a release that failed while Redis was down: the lease was free ${seconds.toFixed(1)} s after Redis answered again (its TTL: 60 s)`)
      assert.isBelow(seconds, 30, "released by its holder, not lapsed")
    }).pipe(Effect.scoped), 60_000)
})
