import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, type Layer, Option, Redacted } from "effect"
import { TokenStore } from "../src/TokenStore.js"

// Lets forked fibers run until they block.
const settle = Effect.repeatN(Effect.yieldNow(), 50)

const a = "wx00000000000000aa"
const b = "wx00000000000000bb"
const secret = (value: string) => Redacted.make(value)
const value = <A extends { readonly value: Redacted.Redacted<string> }>(option: Option.Option<A>) =>
  Option.map(option, (x) => Redacted.value(x.value))

/**
 * The behaviour every TokenStore must have. `layer` gives a fresh, empty
 * store to each test. Time is real (a shared store's leases lapse on its own
 * clock), so the leases that must lapse are short.
 */
export const contract = (name: string, layer: Layer.Layer<TokenStore, unknown>) =>
  describe(`${name} honours the TokenStore contract`, () => {
    const test = (title: string, body: Effect.Effect<void, unknown, TokenStore>) =>
      it.live(title, () => Effect.provide(body, layer), 30_000)

    test("a ticket reads back as written, per component", Effect.gen(function*() {
      const store = yield* TokenStore
      assert.isTrue(Option.isNone(yield* store.getTicket(a)))
      assert.isTrue(yield* store.setTicket(a, { value: secret("ticket-a"), createdAt: 1_000, receivedAt: 1_500 }))
      assert.deepStrictEqual(value(yield* store.getTicket(a)), Option.some("ticket-a"))
      const stored = Option.getOrThrow(yield* store.getTicket(a))
      assert.deepStrictEqual([stored.createdAt, stored.receivedAt], [1_000, 1_500])
      assert.isTrue(Option.isNone(yield* store.getTicket(b)))
    }))

    test("an older ticket never replaces a newer one, even when it arrives later", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setTicket(a, { value: secret("new"), createdAt: 2_000, receivedAt: 2_000 })
      assert.isFalse(yield* store.setTicket(a, { value: secret("old"), createdAt: 1_000, receivedAt: 5_000 }))
      assert.deepStrictEqual(value(yield* store.getTicket(a)), Option.some("new"))
      assert.isTrue(yield* store.setTicket(a, { value: secret("newer"), createdAt: 3_000, receivedAt: 5_000 }))
      assert.deepStrictEqual(value(yield* store.getTicket(a)), Option.some("newer"))
    }))

    test("an older token never replaces a newer one", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setComponentToken(a, { value: secret("t2"), expiresAt: 20_000 })
      assert.isFalse(yield* store.setComponentToken(a, { value: secret("t1"), expiresAt: 10_000 }))
      assert.deepStrictEqual(value(yield* store.getComponentToken(a)), Option.some("t2"))
      assert.isTrue(Option.isNone(yield* store.getComponentToken(b)))
    }))

    test("a token is deleted only while it is still the one named", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setComponentToken(a, { value: secret("t1"), expiresAt: 10_000 })
      yield* store.setComponentToken(a, { value: secret("t2"), expiresAt: 20_000 })
      assert.isFalse(yield* store.deleteComponentToken(a, secret("t1")))
      assert.deepStrictEqual(value(yield* store.getComponentToken(a)), Option.some("t2"))
      assert.isTrue(yield* store.deleteComponentToken(a, secret("t2")))
      assert.isTrue(Option.isNone(yield* store.getComponentToken(a)))
      assert.isFalse(yield* store.deleteComponentToken(a, secret("t2")))
    }))

    const authorized = (access: string, refresh: string, authorizedAt: number, expiresAt = authorizedAt + 7_200_000) => ({
      accessToken: secret(access),
      expiresAt,
      refreshToken: secret(refresh),
      authorizedAt
    })

    test("an authorization's tokens read back per component and account; an older authorization never replaces a newer", Effect.gen(function*() {
      const store = yield* TokenStore
      assert.isTrue(Option.isNone(yield* store.getAuthorizer(a, "wxauth1")))
      assert.isTrue(yield* store.setAuthorizer(a, "wxauth1", authorized("at-2", "rt-2", 2_000)))
      assert.isFalse(yield* store.setAuthorizer(a, "wxauth1", authorized("at-1", "rt-1", 1_000, 99_999_999)))
      const stored = Option.getOrThrow(yield* store.getAuthorizer(a, "wxauth1"))
      assert.deepStrictEqual([Redacted.value(stored.accessToken), Redacted.value(stored.refreshToken)], ["at-2", "rt-2"])
      assert.isTrue(Option.isNone(yield* store.getAuthorizer(b, "wxauth1")))
      assert.isTrue(Option.isNone(yield* store.getAuthorizer(a, "wxauth2")))
    }))

    test("a refresh is stored only over the refresh token it used: never over a re-authorization or a revocation", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setAuthorizer(a, "wxauth1", authorized("at-1", "rt-1", 1_000))
      // A refresh that started with rt-1, while the account authorized again (rt-2): refused, rt-2 stays.
      yield* store.setAuthorizer(a, "wxauth1", authorized("at-2", "rt-2", 2_000))
      assert.isFalse(yield* store.refreshAuthorizer(a, "wxauth1", authorized("at-late", "rt-1", 1_000, 99_999_999), secret("rt-1")))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* store.getAuthorizer(a, "wxauth1")).refreshToken), "rt-2")
      // A refresh over the current refresh token is stored, rotated refresh token included.
      assert.isTrue(yield* store.refreshAuthorizer(a, "wxauth1", authorized("at-3", "rt-3", 2_000), secret("rt-2")))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* store.getAuthorizer(a, "wxauth1")).refreshToken), "rt-3")
      // After a revocation, a refresh cannot bring the account back.
      yield* store.deleteAuthorizer(a, "wxauth1", 3_000)
      assert.isFalse(yield* store.refreshAuthorizer(a, "wxauth1", authorized("at-4", "rt-3", 2_000), secret("rt-3")))
      assert.isTrue(Option.isNone(yield* store.getAuthorizer(a, "wxauth1")))
    }))

    test("invalidating an authorizer's access token keeps its refresh token, and only if it is still the one named", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setAuthorizer(a, "wxauth1", authorized("at-1", "rt", 1_000, 10_000))
      assert.isFalse(yield* store.invalidateAuthorizer(a, "wxauth1", secret("at-0")))
      assert.strictEqual(Option.getOrThrow(yield* store.getAuthorizer(a, "wxauth1")).expiresAt, 10_000)
      assert.isTrue(yield* store.invalidateAuthorizer(a, "wxauth1", secret("at-1")))
      const stored = Option.getOrThrow(yield* store.getAuthorizer(a, "wxauth1"))
      assert.strictEqual(stored.expiresAt, 0)
      assert.strictEqual(Redacted.value(stored.refreshToken), "rt")
    }))

    test("a revocation forgets the account, but not an authorization made after it", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setAuthorizer(a, "wxauth1", authorized("at", "rt", 5_000))
      assert.isFalse(yield* store.deleteAuthorizer(a, "wxauth1", 4_000), "a late revocation from before the authorization")
      assert.isTrue(Option.isSome(yield* store.getAuthorizer(a, "wxauth1")))
      assert.isTrue(yield* store.deleteAuthorizer(a, "wxauth1", 6_000))
      assert.isTrue(Option.isNone(yield* store.getAuthorizer(a, "wxauth1")))
      assert.isFalse(yield* store.deleteAuthorizer(a, "wxauth1", 7_000))
    }))

    test("a lease has one holder at a time and is free again after release", Effect.gen(function*() {
      const store = yield* TokenStore
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        store.withLease("k", "1 minute", Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(leave)))
      )
      yield* Deferred.await(inside)
      assert.isTrue(Option.isNone(yield* store.withLease("k", "1 minute", Effect.succeed("second"))))
      assert.deepStrictEqual(yield* store.withLease("other", "1 minute", Effect.succeed("other key")), Option.some("other key"))
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(holder)
      assert.deepStrictEqual(yield* store.withLease("k", "1 minute", Effect.succeed("third")), Option.some("third"))
    }))

    test("two attempts never hold a lease together, wherever the runtime switches fibers", Effect.gen(function*() {
      const store = yield* TokenStore
      // The runtime switches fibers every 2,048 operations. Trial n runs n steps before its attempt, so over the
      // trials the switch lands on every operation inside withLease, between its check and its take included.
      const steps = (n: number) => {
        let effect: Effect.Effect<void> = Effect.void
        for (let i = 0; i < n; i++) effect = Effect.flatMap(effect, () => Effect.void)
        return effect
      }
      let overlaps = 0
      for (let n = 0; n < 2200; n++) {
        const key = `trial-${n}`
        let inside = 0
        const body = Effect.gen(function*() {
          if (++inside > 1) overlaps++
          yield* Effect.yieldNow()
          inside--
        })
        const first = yield* Effect.fork(Effect.zipRight(steps(n), store.withLease(key, "1 minute", body)))
        const second = yield* Effect.fork(store.withLease(key, "1 minute", body))
        yield* Fiber.join(first)
        yield* Fiber.join(second)
      }
      assert.strictEqual(overlaps, 0)
    }))

    test("a lease is released when its holder fails or is interrupted", Effect.gen(function*() {
      const store = yield* TokenStore
      const failed = yield* Effect.exit(store.withLease("k", "1 minute", Effect.fail("boom")))
      assert.isTrue(Exit.isFailure(failed))
      const holder = yield* Effect.fork(store.withLease("k", "1 minute", Effect.never))
      yield* settle
      yield* Fiber.interrupt(holder)
      assert.deepStrictEqual(yield* store.withLease("k", "1 minute", Effect.succeed(1)), Option.some(1))
    }))

    test("a lease lapses after its time to live, and the lapsed holder cannot release its successor's", Effect.gen(function*() {
      const store = yield* TokenStore
      const leave = yield* Deferred.make<void>()
      const stuck = yield* Effect.fork(store.withLease("k", "300 millis", Deferred.await(leave)))
      yield* Effect.sleep("100 millis")
      assert.isTrue(Option.isNone(yield* store.withLease("k", "300 millis", Effect.void)))
      yield* Effect.sleep("300 millis")
      const enter = yield* Deferred.make<void>()
      const leave2 = yield* Deferred.make<void>()
      const successor = yield* Effect.fork(
        store.withLease("k", "10 seconds", Effect.zipRight(Deferred.succeed(enter, undefined), Deferred.await(leave2)))
      )
      yield* Deferred.await(enter)
      // The lapsed holder finishes now; the successor must still hold the lease.
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(stuck)
      assert.isTrue(Option.isNone(yield* store.withLease("k", "10 seconds", Effect.void)))
      yield* Deferred.succeed(leave2, undefined)
      yield* Fiber.join(successor)
    }))

    test("awaitLease returns at once when the lease is free", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.awaitLease("k", "1 minute")
    }))

    test("awaitLease waits for the release", Effect.gen(function*() {
      const store = yield* TokenStore
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(store.withLease("k", "1 minute", Deferred.await(leave)))
      yield* settle
      const waiter = yield* Effect.fork(store.awaitLease("k", "1 minute"))
      yield* settle
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiter)))
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(waiter)
    }))

    test("awaitLease returns when a dead holder's lease lapses", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* Effect.fork(store.withLease("k", "400 millis", Effect.never))
      yield* Effect.sleep("50 millis")
      const waiter = yield* Effect.fork(store.awaitLease("k", "1 minute"))
      yield* Effect.sleep("200 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiter)))
      yield* Effect.sleep("400 millis")
      assert.isTrue(Option.isSome(yield* Fiber.poll(waiter)))
    }))
  })
