import { assert, describe, it } from "@effect/vitest"
import { Clock, ConfigProvider, Deferred, Duration, Effect, Fiber, Layer, Logger, Option, Redacted, TestClock } from "effect"
import * as ComponentToken from "../src/ComponentToken.js"
import * as TokenStore from "../src/TokenStore.js"
import { appId, clientLayer, makeLayer, makeStub, noRetries, settle, storeTicket } from "./utils.js"

const reveal = (token: { readonly value: Redacted.Redacted<string> }) => Redacted.value(token.value)

/** A second process: its own ComponentToken (own single-flight group, own HttpClient) over a shared store. */
const instance = (store: TokenStore.Service, stub: ReturnType<typeof makeStub>, options: Parameters<typeof clientLayer>[1] = {}) =>
  ComponentToken.make.pipe(
    Effect.provideService(TokenStore.TokenStore, store),
    Effect.provide(clientLayer(stub, options)),
    Effect.orDie
  )

describe("ComponentToken", () => {
  it.effect("a stale invalidate does not drop a newer token", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      const tokens = yield* ComponentToken.ComponentToken
      const first = yield* tokens.get
      // Another fiber has meanwhile replaced token-1 with token-2.
      assert.isTrue(yield* tokens.invalidate(first.value))
      const second = yield* tokens.get
      assert.strictEqual(reveal(second), "token-2")
      // A 40001 on token-1 arrives late: it must not throw token-2 away.
      assert.isFalse(yield* tokens.invalidate(first.value))
      assert.strictEqual(reveal(yield* tokens.get), "token-2")
      assert.strictEqual(stub.count("api_component_token"), 2)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("a token already in the store is used without a fetch", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.setComponentToken(appId, { value: Redacted.make("token-from-elsewhere"), expiresAt: 7_200_000 })
      assert.strictEqual(reveal(yield* ComponentToken.get), "token-from-elsewhere")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.scoped("an instance waits for another instance's refresh and uses its token", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: 0, receivedAt: 0 })
      const slow = makeStub({
        api_component_token: () =>
          Effect.as(Effect.sleep("3 seconds"), { json: { component_access_token: "token-of-a", expires_in: 7200 } })
      })
      const other = makeStub()
      const a = yield* instance(store, slow)
      const b = yield* instance(store, other)
      const fromA = yield* Effect.fork(a.get)
      yield* settle
      const fromB = yield* Effect.fork(b.get)
      yield* settle
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual(reveal(yield* Fiber.join(fromA)), "token-of-a")
      assert.strictEqual(reveal(yield* Fiber.join(fromB)), "token-of-a")
      assert.strictEqual(slow.count("api_component_token") + other.count("api_component_token"), 1)
    }))

  it.scoped("a waiter reads the store again while another instance holds the lease, and uses the token it wrote", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: 0, receivedAt: 0 })
      // Another instance holds the lease and is slow to release it after writing its token.
      const release = yield* Deferred.make<void>()
      yield* Effect.fork(store.withLease(ComponentToken.refreshLeaseKey(appId), ComponentToken.refreshLeaseTtl, Deferred.await(release)))
      yield* settle
      const stub = makeStub()
      const b = yield* instance(store, stub)
      const waiting = yield* Effect.fork(b.get)
      yield* settle
      yield* store.setComponentToken(appId, { value: Redacted.make("token-of-the-holder"), expiresAt: 7_200_000 })
      yield* TestClock.adjust("1 second")
      assert.strictEqual(reveal(yield* Fiber.join(waiting)), "token-of-the-holder")
      assert.strictEqual(stub.count("api_component_token"), 0)
      yield* Deferred.succeed(release, undefined)
    }))

  it.scoped("a waiter whose lease holder never writes gives up after the refresh deadline with RefreshTimeoutError", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: 0, receivedAt: 0 })
      yield* Effect.fork(store.withLease(ComponentToken.refreshLeaseKey(appId), ComponentToken.refreshLeaseTtl, Effect.never))
      yield* settle
      const stub = makeStub()
      const b = yield* instance(store, stub)
      const waiting = yield* Effect.fork(Effect.flip(b.get))
      yield* settle
      yield* TestClock.adjust(Duration.subtract(ComponentToken.refreshDeadline, "1 second"))
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(waiting)
      assert.strictEqual(error._tag, "RefreshTimeoutError")
      assert.strictEqual(error._tag === "RefreshTimeoutError" && error.reason, "LeaseWait")
      assert.include(error.message, "waited 90 s for another holder of the component_access_token refresh lease")
      assert.strictEqual(stub.count("api_component_token"), 0)
    }))

  it.scoped("the refresh deadline counts from the caller's start: a lease taken over after a wait leaves the fetch only what is left", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: 0, receivedAt: 0 })
      // Another instance holds the lease for a minute and writes nothing; then this one's own fetch hangs.
      yield* Effect.fork(store.withLease(ComponentToken.refreshLeaseKey(appId), ComponentToken.refreshLeaseTtl, Effect.sleep("60 seconds")))
      yield* settle
      const stub = makeStub({ api_component_token: () => Effect.succeed({ hang: true as const }) })
      const b = yield* instance(store, stub, { requestTimeout: "10 minutes" })
      const waiting = yield* Effect.fork(Effect.flip(b.get))
      yield* settle
      for (let second = 0; second < 89; second++) yield* TestClock.adjust("1 second")
      assert.strictEqual(stub.count("api_component_token"), 1, "the lease was taken over and the fetch sent")
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)), "not before the deadline")
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* Fiber.poll(waiting)), "given up 90 s after it started, not 90 s after it took the lease")
      const error = yield* Fiber.join(waiting)
      assert.strictEqual(error._tag === "RefreshTimeoutError" && error.reason, "Deadline")
    }))

  it.scoped("a holder whose fetch fails releases the lease, and the waiting instance fetches", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: 0, receivedAt: 0 })
      const failing = makeStub({
        api_component_token: () =>
          Effect.as(Effect.sleep("1 second"), { json: { errcode: 40125, errmsg: "invalid appsecret rid: 1-2-3" } })
      })
      const working = makeStub()
      const a = yield* instance(store, failing)
      const b = yield* instance(store, working)
      const fromA = yield* Effect.fork(Effect.flip(a.get))
      yield* settle
      const fromB = yield* Effect.fork(b.get)
      yield* settle
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(fromA))._tag, "AppSecretError")
      assert.strictEqual(reveal(yield* Fiber.join(fromB)), "token-1")
    }))

  for (const code of [61005, 61006]) {
    it.effect(`a ticket refused with ${code} is not sent again; the next push is`, () => {
      const stub = makeStub({
        api_component_token: (request) =>
          Effect.succeed(
            request.body.component_verify_ticket === "ticket-new"
              ? { json: { component_access_token: "token-new", expires_in: 7200 } }
              : { json: { errcode: code, errmsg: "component ticket is invalid rid: 1-2-3" } }
          )
      })
      return Effect.gen(function*() {
        yield* storeTicket("ticket-old")
        for (let i = 0; i < 3; i++) {
          const error = yield* Effect.flip(ComponentToken.get)
          assert.strictEqual(error._tag === "VerifyTicketError" && error.errcode, code)
        }
        assert.strictEqual(stub.count("api_component_token"), 1)
        // WeChat pushes the same value again ten minutes later: worth one more try.
        yield* TestClock.adjust("10 minutes")
        yield* storeTicket("ticket-old")
        yield* Effect.flip(ComponentToken.get)
        assert.strictEqual(stub.count("api_component_token"), 2)
        yield* storeTicket("ticket-new")
        assert.strictEqual(reveal(yield* ComponentToken.get), "token-new")
        assert.strictEqual(stub.count("api_component_token"), 3)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  }

  describe("a ticket given in WXOPEN_COMPONENT_VERIFY_TICKET", () => {
    const given = (env: Record<string, string>) =>
      ComponentToken.layerTicketConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))))
    const sent = (stub: ReturnType<typeof makeStub>) => stub.requests.map((r) => r.body.component_verify_ticket)

    it.effect("is stored when the layer is built, and fetches the token", () => {
      const stub = makeStub()
      return Effect.gen(function*() {
        yield* Layer.build(given({ WXOPEN_COMPONENT_VERIFY_TICKET: "ticket@@@given" }))
        assert.strictEqual(reveal(yield* ComponentToken.get), "token-1")
        assert.deepStrictEqual(sent(stub), ["ticket@@@given"])
      }).pipe(Effect.scoped, Effect.provide(makeLayer(stub)))
    })

    it.effect("never replaces a usable ticket already in the store, but replaces one past its 12 hours", () => {
      const stub = makeStub()
      return Effect.gen(function*() {
        yield* storeTicket("ticket@@@pushed")
        assert.isFalse(yield* ComponentToken.storeTicket(Redacted.make("ticket@@@given")))
        yield* ComponentToken.get
        yield* TestClock.adjust("12 hours")
        assert.isTrue(yield* ComponentToken.storeTicket(Redacted.make("ticket@@@given")))
        yield* ComponentToken.get
        assert.deepStrictEqual(sent(stub), ["ticket@@@pushed", "ticket@@@given"])
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("counts as an hour old: stored so, and a push WeChat created since outranks it", () => {
      const stub = makeStub()
      return Effect.gen(function*() {
        yield* TestClock.adjust("1 day")
        const store = yield* TokenStore.TokenStore
        const now = yield* Clock.currentTimeMillis
        assert.isTrue(yield* ComponentToken.storeTicket(Redacted.make("ticket@@@given")))
        const given = Option.getOrNull(yield* store.getTicket(appId))
        assert.deepStrictEqual([given?.createdAt, given?.receivedAt], [now - 3_600_000, now])
        // Another instance's receiver stores a push WeChat created a minute ago.
        assert.isTrue(yield* store.setTicket(appId, { value: Redacted.make("ticket@@@pushed"), createdAt: now - 60_000, receivedAt: now }))
        yield* ComponentToken.get
        assert.deepStrictEqual(sent(stub), ["ticket@@@pushed"])
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("missing, is a ConfigError that names the variable", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Layer.build(given({})))
        assert.strictEqual(error._tag, "ConfigError")
        assert.include(String(error), "WXOPEN_COMPONENT_VERIFY_TICKET is not set")
      }).pipe(Effect.scoped, Effect.provide(makeLayer(makeStub()))))
  })

  describe("a refresh that fails inside the margin", () => {
    const stub = () =>
      makeStub({
        api_component_token: (_, n) =>
          Effect.succeed(
            n === 1
              ? { json: { component_access_token: "token-1", expires_in: 7200 } }
              : { json: { errcode: -1, errmsg: "system error rid: 1-2-3" } }
          )
      })

    it.effect("falls back on the stored token until it expires, with a warning", () => {
      const wechat = stub()
      const warnings: Array<unknown> = []
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(message)
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        yield* ComponentToken.get
        yield* TestClock.adjust("7000 seconds") // 200 s left, under the 300 s margin
        assert.strictEqual(reveal(yield* ComponentToken.get), "token-1")
        assert.strictEqual(wechat.count("api_component_token"), 2)
        assert.strictEqual(warnings.length, 1)
        yield* TestClock.adjust("200 seconds") // expired: nothing to fall back on
        const error = yield* Effect.flip(ComponentToken.get)
        assert.strictEqual(error._tag, "SystemBusyError")
      }).pipe(
        Effect.provide(Layer.mergeAll(makeLayer(wechat, {}, noRetries), Logger.replace(Logger.defaultLogger, logger)))
      )
    })

    it.effect("does not fall back on a token that was invalidated", () => {
      const wechat = stub()
      return Effect.gen(function*() {
        yield* storeTicket()
        const tokens = yield* ComponentToken.ComponentToken
        const token = yield* tokens.get
        yield* tokens.invalidate(token.value)
        const error = yield* Effect.flip(tokens.get)
        assert.strictEqual(error._tag, "SystemBusyError")
      }).pipe(Effect.provide(makeLayer(wechat, {}, noRetries)))
    })
  })

  it.effect("a stuck fetch is cut off at the refresh deadline with a RefreshTimeoutError that says so, and the lease is released", () => {
    const stub = makeStub({ api_component_token: () => Effect.succeed({ hang: true as const }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const fiber = yield* Effect.fork(Effect.flip(ComponentToken.get))
      yield* TestClock.adjust("10 minutes")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RefreshTimeoutError")
      assert.strictEqual(error._tag === "RefreshTimeoutError" && error.reason, "Deadline")
      assert.include(error.message, "getting a new component_access_token took longer than 90 s, retries included")
      // The lease was released: a new attempt can take it at once.
      const store = yield* TokenStore.TokenStore
      assert.isTrue(Option.isSome(yield* store.withLease(ComponentToken.refreshLeaseKey(appId), "1 second", Effect.void)))
    }).pipe(Effect.provide(makeLayer(stub, { requestTimeout: "10 minutes" })))
  })
})
