import { assert, describe, it } from "@effect/vitest"
import { Context, DateTime, Deferred, Effect, Fiber, FiberId, Layer, Option, Redacted, TestClock } from "effect"
import * as ComponentToken from "../src/ComponentToken.js"
import * as Authorization from "../src/Authorization.js"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as TokenStore from "../src/TokenStore.js"
import * as WeChatError from "../src/WeChatError.js"
import { appId, clientLayer, type Handler, makeLayer, makeStub, settle, storeTicket } from "./utils.js"

const authorizer = "wxfedcba9876543210"
const errcode = (code: number) => Effect.succeed({ json: { errcode: code, errmsg: `refused rid: 1-2-3` } })

/** A WeChat that exchanges `queryauthcode@@@good` once and refreshes authorizer tokens, rotating the refresh token if asked. */
const makeWeChat = (options: { readonly rotate?: boolean; readonly refresh?: Handler } = {}) => {
  let used = false
  let refreshes = 0
  return makeStub({
    api_query_auth: (request) => {
      if (request.body.authorization_code !== "queryauthcode@@@good") return errcode(61009)
      if (used) return errcode(61010)
      used = true
      return Effect.succeed({
        json: {
          authorization_info: {
            authorizer_appid: authorizer,
            authorizer_access_token: "at-0",
            expires_in: 7200,
            authorizer_refresh_token: "rt-0",
            func_info: [{ funcscope_category: { id: 1 } }, { funcscope_category: { id: 18 } }]
          }
        }
      })
    },
    api_authorizer_token: options.refresh ?? ((request) => {
      if (request.body.authorizer_refresh_token !== `rt-${options.rotate ? refreshes : 0}`) return errcode(61023)
      refreshes++
      return Effect.succeed({
        json: {
          authorizer_access_token: `at-${refreshes}`,
          expires_in: 7200,
          authorizer_refresh_token: `rt-${options.rotate ? refreshes : 0}`
        }
      })
    })
  })
}

const layerOf = (stub: ReturnType<typeof makeStub>) =>
  AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))

const stored = Effect.flatMap(TokenStore.TokenStore, (store) => store.getAuthorizer(appId, authorizer)).pipe(
  Effect.map(Option.map((t) => ({ access: Redacted.value(t.accessToken), refresh: Redacted.value(t.refreshToken), expiresAt: t.expiresAt })))
)

describe("Authorization.exchange", () => {
  it.effect("stores the account's tokens and answers the authorization", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* TestClock.adjust("1 second")
      const authorization = yield* Authorization.exchange("queryauthcode@@@good")
      assert.strictEqual(authorization.authorizerAppId, authorizer)
      assert.deepStrictEqual(authorization.permissions, [1, 18])
      assert.strictEqual(DateTime.toEpochMillis(authorization.accessTokenExpiresAt), 1_000 + 7_200_000)
      assert.deepStrictEqual(Option.getOrNull(yield* stored), { access: "at-0", refresh: "rt-0", expiresAt: 7_201_000 })
      const query = stub.requests.find((r) => r.endpoint === "api_query_auth")!
      assert.deepStrictEqual(query.body, { component_appid: appId, authorization_code: "queryauthcode@@@good" })
      assert.strictEqual(query.token, "token-1")
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("a code used twice: AuthorizationCodeError (61010); an unknown one: 61009", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      const twice = yield* Effect.flip(Authorization.exchange("queryauthcode@@@good"))
      assert.isTrue(twice._tag === "AuthorizationCodeError" && twice.reason === "ExpiredOrUsed")
      const unknown = yield* Effect.flip(Authorization.exchange("queryauthcode@@@nope"))
      assert.isTrue(unknown._tag === "AuthorizationCodeError" && unknown.reason === "Invalid")
      assert.notInclude(unknown.message, "queryauthcode@@@")
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("a request that may have reached WeChat is not sent again: the code is single use", () => {
    const stub = makeStub({ api_query_auth: () => Effect.succeed({ transport: "socket hang up" }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const fiber = yield* Effect.fork(Effect.flip(Authorization.exchange("queryauthcode@@@good")))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(stub.count("api_query_auth"), 1)
      assert.notInclude(error.message, "queryauthcode@@@")
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("WeChat busy (-1) is retried", () => {
    const good = makeWeChat()
    const stub = makeStub({
      api_query_auth: (request, n) => n === 1 ? errcode(-1) : good.handle("api_query_auth", request)
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const fiber = yield* Effect.fork(Authorization.exchange("queryauthcode@@@good"))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(fiber)).authorizerAppId, authorizer)
      assert.strictEqual(stub.count("api_query_auth"), 2)
    }).pipe(Effect.provide(layerOf(stub)))
  })
})

describe("AuthorizerToken", () => {
  it.effect("an unknown account is a typed error, and nothing is sent", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      const error = yield* Effect.flip(AuthorizerToken.get(authorizer))
      assert.strictEqual(error._tag, "UnknownAuthorizerError")
      assert.include(error.message, "Authorization.exchange")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("the stored token is used while it has the margin left", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      yield* TestClock.adjust("6900 seconds")
      assert.strictEqual(Redacted.value((yield* AuthorizerToken.get(authorizer)).value), "at-0")
      assert.strictEqual(stub.count("api_authorizer_token"), 0)
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("100 concurrent gets after expiry make one refresh request", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      yield* TestClock.adjust("2 hours")
      yield* storeTicket() // a fresh ticket, as WeChat keeps pushing: the component token is refreshed too
      const tokens = yield* Effect.all(Array.from({ length: 100 }, () => AuthorizerToken.get(authorizer)), { concurrency: "unbounded" })
      assert.deepStrictEqual(new Set(tokens.map((t) => Redacted.value(t.value))), new Set(["at-1"]))
      assert.strictEqual(stub.count("api_authorizer_token"), 1)
      const refresh = stub.requests.find((r) => r.endpoint === "api_authorizer_token")!
      assert.deepStrictEqual(refresh.body, { component_appid: appId, authorizer_appid: authorizer, authorizer_refresh_token: "rt-0" })
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("a rotated refresh token is the one stored, and the one used next", () => {
    const stub = makeWeChat({ rotate: true })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      yield* TestClock.adjust("2 hours")
      yield* storeTicket()
      yield* AuthorizerToken.get(authorizer)
      assert.strictEqual(Option.getOrThrow(yield* stored).refresh, "rt-1")
      yield* TestClock.adjust("2 hours")
      yield* storeTicket()
      assert.strictEqual(Redacted.value((yield* AuthorizerToken.get(authorizer)).value), "at-2")
      assert.strictEqual(Option.getOrThrow(yield* stored).refresh, "rt-2")
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("61023 is a RefreshTokenError that says to authorize again, and the refresh token is kept", () => {
    const stub = makeWeChat({ refresh: () => errcode(61023) })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      yield* TestClock.adjust("2 hours")
      yield* storeTicket()
      const error = yield* Effect.flip(AuthorizerToken.get(authorizer))
      assert.strictEqual(error._tag, "RefreshTokenError")
      assert.match(error.message, /authorization link/)
      assert.strictEqual(Option.getOrThrow(yield* stored).refresh, "rt-0")
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("withToken replaces a refused token once, keeping the refresh token", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      const seen: Array<string> = []
      const refused = new WeChatError.AccessTokenError({ endpoint: "api_query_auth", errcode: 40001, errmsg: "invalid credential", reason: "Invalid" })
      const result = yield* AuthorizerToken.withToken(authorizer, (token) => {
        seen.push(Redacted.value(token))
        return seen.length === 1 ? Effect.fail(refused) : Effect.succeed("ok")
      })
      assert.strictEqual(result, "ok")
      assert.deepStrictEqual(seen, ["at-0", "at-1"])
      assert.strictEqual(stub.count("api_authorizer_token"), 1)
      assert.strictEqual(Option.getOrThrow(yield* stored).refresh, "rt-0")
      // A second refusal is returned, not looped on.
      const again = yield* Effect.flip(AuthorizerToken.withToken(authorizer, () => Effect.fail(refused)))
      assert.strictEqual(again._tag, "AccessTokenError")
      assert.strictEqual(stub.count("api_authorizer_token"), 2)
    }).pipe(Effect.provide(layerOf(stub)))
  })
})

describe("AuthorizerToken under contention", () => {
  const tokens = (access: string, refresh: string, authorizedAt: number, expiresAt: number) => ({
    accessToken: Redacted.make(access),
    refreshToken: Redacted.make(refresh),
    authorizedAt,
    expiresAt
  })

  it.effect("a re-authorization stored during a refresh wins: its refresh token is kept, and handed on", () => {
    const gate = Deferred.unsafeMake<void>(FiberId.none)
    const stub = makeWeChat({
      refresh: () =>
        Effect.zipRight(Deferred.await(gate), Effect.succeed({ json: { authorizer_access_token: "at-refreshed", expires_in: 7200, authorizer_refresh_token: "rt-0" } }))
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const store = yield* TokenStore.TokenStore
      yield* store.setAuthorizer(appId, authorizer, tokens("at-0", "rt-0", 0, 0))
      const refreshing = yield* Effect.fork(AuthorizerToken.get(authorizer))
      yield* settle
      // Meanwhile the account authorizes again.
      yield* TestClock.adjust("1 second")
      yield* store.setAuthorizer(appId, authorizer, tokens("at-reauthorized", "rt-new", 1_000, 7_201_000))
      yield* Deferred.succeed(gate, undefined)
      const got = yield* Fiber.join(refreshing)
      assert.strictEqual(Redacted.value(got.value), "at-reauthorized")
      assert.deepStrictEqual(Option.getOrNull(Option.map(yield* stored, (t) => t.refresh)), "rt-new")
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("a revocation during a refresh is not undone by it", () => {
    const gate = Deferred.unsafeMake<void>(FiberId.none)
    const stub = makeWeChat({
      refresh: () =>
        Effect.zipRight(Deferred.await(gate), Effect.succeed({ json: { authorizer_access_token: "at-refreshed", expires_in: 7200 } }))
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const store = yield* TokenStore.TokenStore
      yield* store.setAuthorizer(appId, authorizer, tokens("at-0", "rt-0", 0, 0))
      const refreshing = yield* Effect.fork(Effect.flip(AuthorizerToken.get(authorizer)))
      yield* settle
      yield* store.deleteAuthorizer(appId, authorizer, 1)
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual((yield* Fiber.join(refreshing))._tag, "UnknownAuthorizerError")
      assert.isTrue(Option.isNone(yield* stored))
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("a refreshed token is handed out only once it is stored", () => {
    const stub = makeWeChat()
    const failing = Layer.effect(
      TokenStore.TokenStore,
      Effect.map(TokenStore.makeMemory, (store) => ({
        ...store,
        refreshAuthorizer: () => Effect.fail(new TokenStore.TokenStoreError({ operation: "store tokens", detail: "down" }))
      }))
    )
    const layer = AuthorizerToken.layer.pipe(
      Layer.provideMerge(ComponentToken.layer),
      Layer.provideMerge(Layer.merge(failing, clientLayer(stub))),
      Layer.orDie
    )
    return Effect.gen(function*() {
      yield* storeTicket()
      const store = yield* TokenStore.TokenStore
      yield* store.setAuthorizer(appId, authorizer, tokens("at-0", "rt-0", 0, 0))
      const error = yield* Effect.flip(AuthorizerToken.get(authorizer))
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.strictEqual(stub.count("api_authorizer_token"), 1)
    }).pipe(Effect.provide(layer))
  })

  it.scoped("two instances over one store refresh an account once; two accounts refresh side by side", () =>
    Effect.gen(function*() {
      const stub = makeStub({
        api_authorizer_token: (request) =>
          Effect.as(Effect.sleep("1 second"), {
            json: { authorizer_access_token: `at-of-${request.body.authorizer_appid}`, expires_in: 7200 }
          })
      })
      const store = yield* TokenStore.makeMemory
      const now = 0
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: now, receivedAt: now })
      yield* store.setAuthorizer(appId, "wxaaaaaaaaaaaaaaa1", tokens("old-1", "rt-1", 0, 0))
      yield* store.setAuthorizer(appId, "wxaaaaaaaaaaaaaaa2", tokens("old-2", "rt-2", 0, 0))
      const instance = Effect.gen(function*() {
        const context = yield* Layer.build(AuthorizerToken.layer.pipe(
          Layer.provideMerge(ComponentToken.layer),
          Layer.provideMerge(Layer.merge(Layer.succeed(TokenStore.TokenStore, store), clientLayer(stub))),
          Layer.orDie
        ))
        return Context.get(context, AuthorizerToken.AuthorizerToken)
      })
      const a = yield* instance
      const b = yield* instance
      const all = yield* Effect.fork(Effect.all([
        a.get("wxaaaaaaaaaaaaaaa1"),
        b.get("wxaaaaaaaaaaaaaaa1"),
        a.get("wxaaaaaaaaaaaaaaa2")
      ], { concurrency: "unbounded" }))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      yield* TestClock.adjust("1 second")
      const [one, oneAgain, two] = yield* Fiber.join(all)
      assert.deepStrictEqual([one, oneAgain, two].map((t) => Redacted.value(t.value)), ["at-of-wxaaaaaaaaaaaaaaa1", "at-of-wxaaaaaaaaaaaaaaa1", "at-of-wxaaaaaaaaaaaaaaa2"])
      assert.strictEqual(stub.count("api_authorizer_token"), 2)
    }))

  it.effect("a stale invalidate does not drop a newer token", () => {
    const stub = makeWeChat()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Authorization.exchange("queryauthcode@@@good")
      const service = yield* AuthorizerToken.AuthorizerToken
      const first = yield* service.get(authorizer)
      assert.isTrue(yield* service.invalidate(authorizer, first.value))
      const second = yield* service.get(authorizer)
      assert.isFalse(yield* service.invalidate(authorizer, first.value))
      assert.strictEqual(Redacted.value((yield* service.get(authorizer)).value), Redacted.value(second.value))
      assert.strictEqual(stub.count("api_authorizer_token"), 1)
    }).pipe(Effect.provide(layerOf(stub)))
  })

  it.effect("a refresh token refused with 61023 is not sent again until a new authorization", () => {
    const stub = makeWeChat({ refresh: () => errcode(61023) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const store = yield* TokenStore.TokenStore
      yield* store.setAuthorizer(appId, authorizer, tokens("at-0", "rt-0", 0, 0))
      for (let i = 0; i < 3; i++) assert.strictEqual((yield* Effect.flip(AuthorizerToken.get(authorizer)))._tag, "RefreshTokenError")
      assert.strictEqual(stub.count("api_authorizer_token"), 1)
      yield* store.setAuthorizer(appId, authorizer, tokens("at-1", "rt-1", 5, 0))
      yield* Effect.flip(AuthorizerToken.get(authorizer))
      assert.strictEqual(stub.count("api_authorizer_token"), 2)
    }).pipe(Effect.provide(layerOf(stub)))
  })
})
