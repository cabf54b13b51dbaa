import { assert, describe, it, type Vitest } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, type Layer, Option, Redacted } from "effect"
import { TokenStore } from "../src/TokenStore.js"

const a = "wx00000000000000aa"
const b = "wx00000000000000bb"
const secret = (value: string) => Redacted.make(value)
const value = <A extends { readonly value: Redacted.Redacted<string> }>(option: Option.Option<A>) =>
  Option.map(option, (x) => Redacted.value(x.value))

/**
 * The behaviour every TokenStore must have. `layer` gives a fresh, empty
 * store to each test. Time is real (a shared store renews its leases on the
 * process's clock and expires them on its own), so the leases whose time to
 * live matters are short; but not so short that a busy machine, pausing the
 * process for a few hundred milliseconds, could make one lapse under a holder
 * that works.
 *
 * A `layer` that needs a service shared by the tests (a server started once)
 * comes with the `it.effect` of an `@effect/vitest` `layer(…, {
 * excludeTestServices: true })` that provides it: real time still.
 */
export function contract(name: string, layer: Layer.Layer<TokenStore, unknown>): void
export function contract<R>(name: string, layer: Layer.Layer<TokenStore, unknown, R>, live: Vitest.Tester<R>): void
export function contract<R>(name: string, layer: Layer.Layer<TokenStore, unknown, R>, live = it.live as Vitest.Tester<R>) {
  describe(`${name} honours the TokenStore contract`, () => {
    const test = (title: string, body: Effect.Effect<void, unknown, TokenStore>) =>
      live(title, () => Effect.provide(body, layer), 30_000)

    test("a ticket reads back as written, per component", Effect.gen(function*() {
      const store = yield* TokenStore
      assert.isTrue(Option.isNone(yield* store.getTicket(a)))
      assert.isTrue(yield* store.setTicket(a, { value: secret("ticket-a"), createdAt: 1_000, receivedAt: 1_500 }))
      assert.deepStrictEqual(Option.getOrNull(value(yield* store.getTicket(a))), "ticket-a")
      const stored = Option.getOrThrow(yield* store.getTicket(a))
      assert.deepStrictEqual([stored.createdAt, stored.receivedAt], [1_000, 1_500])
      assert.isTrue(Option.isNone(yield* store.getTicket(b)))
    }))

    test("an older ticket never replaces a newer one, even when it arrives later", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setTicket(a, { value: secret("new"), createdAt: 2_000, receivedAt: 2_000 })
      assert.isFalse(yield* store.setTicket(a, { value: secret("old"), createdAt: 1_000, receivedAt: 5_000 }))
      assert.deepStrictEqual(Option.getOrNull(value(yield* store.getTicket(a))), "new")
      assert.isTrue(yield* store.setTicket(a, { value: secret("newer"), createdAt: 3_000, receivedAt: 5_000 }))
      assert.deepStrictEqual(Option.getOrNull(value(yield* store.getTicket(a))), "newer")
    }))

    test("an older token never replaces a newer one", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setComponentToken(a, { value: secret("t2"), expiresAt: 20_000 })
      assert.isFalse(yield* store.setComponentToken(a, { value: secret("t1"), expiresAt: 10_000 }))
      assert.deepStrictEqual(Option.getOrNull(value(yield* store.getComponentToken(a))), "t2")
      assert.isTrue(Option.isNone(yield* store.getComponentToken(b)))
    }))

    test("a token is deleted only while it is still the one named", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.setComponentToken(a, { value: secret("t1"), expiresAt: 10_000 })
      yield* store.setComponentToken(a, { value: secret("t2"), expiresAt: 20_000 })
      assert.isFalse(yield* store.deleteComponentToken(a, secret("t1")))
      assert.deepStrictEqual(Option.getOrNull(value(yield* store.getComponentToken(a))), "t2")
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

    test("listAuthorizers lists every account of the component, past a page of SCAN, and only its own", Effect.gen(function*() {
      const store = yield* TokenStore
      assert.deepStrictEqual(yield* store.listAuthorizers(a), [])
      const accounts = Array.from({ length: 1_500 }, (_, i) => `wx${i.toString(16).padStart(16, "0")}`)
      yield* Effect.forEach(accounts, (account) => store.setAuthorizer(a, account, authorized("at", "rt", 1_000)), { concurrency: 50 })
      yield* store.setAuthorizer(b, "wxauthofb", authorized("at", "rt", 1_000))
      yield* store.deleteAuthorizer(a, accounts[7]!, 2_000)
      const listed = yield* store.listAuthorizers(a)
      assert.deepStrictEqual([...listed].sort(), accounts.filter((_, i) => i !== 7))
      assert.deepStrictEqual(yield* store.listAuthorizers(b), ["wxauthofb"])
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
      assert.deepStrictEqual(Option.getOrNull(yield* store.withLease("other", "1 minute", Effect.succeed("other key"))), "other key")
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(holder)
      assert.deepStrictEqual(Option.getOrNull(yield* store.withLease("k", "1 minute", Effect.succeed("third"))), "third")
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
      assert.deepStrictEqual(Option.getOrNull(yield* store.withLease("k", "1 minute", Effect.succeed(1))), 1)
      // Interrupted while it holds the lease, not while it is still taking it.
      const inside = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(store.withLease("k", "1 minute", Effect.zipRight(Deferred.succeed(inside, undefined), Effect.never)))
      yield* Deferred.await(inside)
      yield* Fiber.interrupt(holder)
      assert.deepStrictEqual(Option.getOrNull(yield* store.withLease("k", "1 minute", Effect.succeed(2))), 2)
    }))

    // A lease of 1 s, renewed every third of it by a shared store, tried for three times as long.
    test("a live holder keeps its lease past its time to live: nobody else takes it while it works", Effect.gen(function*() {
      const store = yield* TokenStore
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        store.withLease("k", "1 second", Effect.zipRight(Deferred.succeed(inside, undefined), Effect.as(Deferred.await(leave), "held")))
      )
      yield* Deferred.await(inside)
      const started = yield* Clock.currentTimeMillis
      let tries = 0
      while ((yield* Clock.currentTimeMillis) - started < 3_000) {
        assert.isTrue(Option.isNone(yield* store.withLease("k", "1 second", Effect.void)), `taken from a live holder after ${(yield* Clock.currentTimeMillis) - started} ms`)
        tries++
        yield* Effect.sleep("200 millis")
      }
      assert.isAtLeast(tries, 2)
      yield* Deferred.succeed(leave, undefined)
      assert.deepStrictEqual(Option.getOrNull(yield* Fiber.join(holder)), "held")
      assert.deepStrictEqual(Option.getOrNull(yield* store.withLease("k", "1 second", Effect.succeed("next"))), "next")
    }))

    test("awaitLease returns at once when the lease is free", Effect.gen(function*() {
      const store = yield* TokenStore
      yield* store.awaitLease("k", "1 minute")
    }))

    // The bounds are loose on purpose: a busy machine delays a wake-up by a second or more, never by a minute.
    test("awaitLease returns at once when the lease is released", Effect.gen(function*() {
      const store = yield* TokenStore
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(store.withLease("k", "1 minute", Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(leave))))
      yield* Deferred.await(inside)
      const waiter = yield* Effect.fork(store.awaitLease("k", "1 minute"))
      yield* Effect.sleep("200 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiter)), "waits while the lease is held")
      const released = yield* Clock.currentTimeMillis
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(waiter)
      assert.isBelow((yield* Clock.currentTimeMillis) - released, 10_000, "returned on the release, not at its timeout")
    }))

    test("awaitLease returns at its timeout while the lease is held, past the lease's time to live, and the lease stays held", Effect.gen(function*() {
      const store = yield* TokenStore
      const inside = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(store.withLease("k", "1 second", Effect.zipRight(Deferred.succeed(inside, undefined), Deferred.await(leave))))
      yield* Deferred.await(inside)
      const started = yield* Clock.currentTimeMillis
      yield* store.awaitLease("k", "1500 millis")
      const waited = (yield* Clock.currentTimeMillis) - started
      assert.isAtLeast(waited, 1_450, "not before its timeout: the holder still works")
      assert.isBelow(waited, 15_000, "at its timeout")
      assert.isTrue(Option.isNone(yield* store.withLease("k", "1 second", Effect.void)))
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(holder)
    }))
  })
}
