import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Schedule, Schema, TestClock } from "effect"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as TokenStore from "../src/TokenStore.js"
import * as WeChatClient from "../src/WeChatClient.js"
import { appId, appSecret, clientLayer, makeLayer, makeStub, noRetries, settle, storeTicket } from "./utils.js"

const rid = "rid: 6400a1b2-2c3d4e5f-1a2b3c4d"

// An Official Account API, declared as a user would: a GET with the account's token in `access_token`.
const GetMenu = WeChatClient.endpoint({
  path: "/cgi-bin/get_current_selfmenu_info",
  method: "GET",
  token: "access_token",
  response: Schema.Struct({ is_menu_open: Schema.Number })
})

const authorizer = "wxfedcba9876543210"

const authorizerLayer = (stub: ReturnType<typeof makeStub>, policy = noRetries) =>
  AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub, {}, policy)))

const withAuthorizer = (accessToken: string) =>
  Effect.flatMap(TokenStore.TokenStore, (store) =>
    store.setAuthorizer(appId, authorizer, {
      accessToken: Redacted.make(accessToken),
      expiresAt: 7_200_000,
      refreshToken: Redacted.make("refresh-1"),
      authorizedAt: 0
    }))

describe("WeChatClient", () => {
  it.effect("an endpoint is data: a GET without a body, the token in the endpoint's own parameter", () => {
    const stub = makeStub({ get_current_selfmenu_info: () => Effect.succeed({ json: { is_menu_open: 1 } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* withAuthorizer("account-token-1")
      const menu = yield* AuthorizerToken.execute(authorizer, GetMenu)
      assert.deepStrictEqual(menu, { is_menu_open: 1 })
      const [request] = stub.requests
      assert.strictEqual(request!.method, "GET")
      assert.strictEqual(request!.url.pathname, "/cgi-bin/get_current_selfmenu_info")
      assert.strictEqual(request!.url.searchParams.get("access_token"), "account-token-1")
      assert.isNull(request!.url.searchParams.get("component_access_token"))
      assert.strictEqual(request!.rawBody, "")
    }).pipe(Effect.provide(authorizerLayer(stub)))
  })

  for (const code of [40001, 40014, 41001, 42001]) {
    it.effect(`an authorizer token refused with ${code} is dropped, refreshed and the request sent exactly once more`, () => {
      const stub = makeStub({
        api_authorizer_token: () =>
          Effect.succeed({ json: { authorizer_access_token: "account-token-2", expires_in: 7200, authorizer_refresh_token: "refresh-1" } }),
        get_current_selfmenu_info: (request) =>
          Effect.succeed(
            request.url.searchParams.get("access_token") === "account-token-2"
              ? { json: { is_menu_open: 0 } }
              : { json: { errcode: code, errmsg: `refused ${rid}` } }
          )
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        yield* withAuthorizer("account-token-1")
        assert.deepStrictEqual(yield* AuthorizerToken.execute(authorizer, GetMenu), { is_menu_open: 0 })
        assert.strictEqual(stub.count("get_current_selfmenu_info"), 2)
        assert.strictEqual(stub.count("api_authorizer_token"), 1)
      }).pipe(Effect.provide(authorizerLayer(stub)))
    })
  }

  it.effect("a second refusal is the AccessTokenError, naming the endpoint's path: no loop", () => {
    const stub = makeStub({
      api_authorizer_token: () => Effect.succeed({ json: { authorizer_access_token: "account-token-2", expires_in: 7200 } }),
      get_current_selfmenu_info: () => Effect.succeed({ json: { errcode: 40001, errmsg: `invalid credential ${rid}` } })
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* withAuthorizer("account-token-1")
      const error = yield* Effect.flip(AuthorizerToken.execute(authorizer, GetMenu))
      assert.strictEqual(error._tag, "AccessTokenError")
      assert.strictEqual("endpoint" in error && error.endpoint, "/cgi-bin/get_current_selfmenu_info")
      assert.include(error.message, "/cgi-bin/get_current_selfmenu_info answered errcode 40001")
      assert.strictEqual(stub.count("get_current_selfmenu_info"), 2)
    }).pipe(Effect.provide(authorizerLayer(stub)))
  })

  it.effect("a refusal does not drop a token that is no longer the stored one", () => {
    let store: TokenStore.Service | undefined
    const stub = makeStub({
      get_current_selfmenu_info: (request) =>
        request.url.searchParams.get("access_token") === "account-token-1"
          // Meanwhile another instance refreshed the account's token, then WeChat refused the old one.
          ? Effect.as(
            store!.refreshAuthorizer(appId, authorizer, {
              accessToken: Redacted.make("account-token-elsewhere"),
              expiresAt: 7_200_000,
              refreshToken: Redacted.make("refresh-1"),
              authorizedAt: 0
            }, Redacted.make("refresh-1")).pipe(Effect.orDie),
            { json: { errcode: 40001, errmsg: `invalid credential ${rid}` } }
          )
          : Effect.succeed({ json: { is_menu_open: 1 } })
    })
    return Effect.gen(function*() {
      store = yield* TokenStore.TokenStore
      yield* storeTicket()
      yield* withAuthorizer("account-token-1")
      yield* AuthorizerToken.execute(authorizer, GetMenu)
      const stored = Option.getOrThrow(yield* store.getAuthorizer(appId, authorizer))
      assert.strictEqual(Redacted.value(stored.accessToken), "account-token-elsewhere")
      assert.strictEqual(stub.requests.at(-1)!.url.searchParams.get("access_token"), "account-token-elsewhere")
      assert.strictEqual(stub.count("api_authorizer_token"), 0)
    }).pipe(Effect.provide(authorizerLayer(stub)))
  })

  it.effect("any component path works with the component token, and its errcodes map by code", () => {
    const GetOption = WeChatClient.endpoint({
      path: "/cgi-bin/component/api_get_authorizer_option",
      token: "component_access_token",
      response: Schema.Struct({ option_value: Schema.String })
    })
    const stub = makeStub({
      api_get_authorizer_option: () => Effect.succeed({ json: { errcode: 61004, errmsg: `access clientip is not registered requestIP: 203.0.113.9 ${rid}` } })
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const error = yield* Effect.flip(ComponentToken.execute(GetOption, { body: { component_appid: appId } }))
      assert.strictEqual(error._tag, "IpWhitelistError")
      assert.strictEqual(error._tag === "IpWhitelistError" && error.requestIp, "203.0.113.9")
      assert.strictEqual(error._tag === "IpWhitelistError" && error.endpoint, "/cgi-bin/component/api_get_authorizer_option")
      assert.strictEqual(stub.requests.at(-1)!.token, "token-1")
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("the request timeout comes from the Clock: TestClock drives it", () => {
    const Hangs = WeChatClient.endpoint({ path: "/cgi-bin/hangs", response: Schema.Struct({}) })
    const stub = makeStub({ hangs: () => Effect.succeed({ hang: true as const }) })
    return Effect.gen(function*() {
      const client = yield* WeChatClient.WeChatClient
      const fiber = yield* Effect.fork(Effect.flip(client.execute(Hangs)))
      yield* settle
      yield* TestClock.adjust(Duration.subtract(Duration.seconds(3), Duration.millis(1)))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag === "TransportError" && error.reason, "Timeout")
      assert.strictEqual(error._tag === "TransportError" && error.endpoint, "/cgi-bin/hangs")
    }).pipe(Effect.provide(clientLayer(stub, { requestTimeout: "3 seconds" }, noRetries)))
  })

  it.effect("the retry policy is the one the client was built with, and retries only transient failures", () => {
    const Busy = WeChatClient.endpoint({ path: "/cgi-bin/busy", response: Schema.Struct({ ok: Schema.Boolean }) })
    const Bad = WeChatClient.endpoint({ path: "/cgi-bin/bad", response: Schema.Struct({}) })
    const stub = makeStub({
      busy: (_, n) => Effect.succeed(n < 3 ? { json: { errcode: -1, errmsg: `system error ${rid}` } } : { json: { ok: true } }),
      bad: () => Effect.succeed({ json: { errcode: 47001, errmsg: `data format error ${rid}` } })
    })
    return Effect.gen(function*() {
      const client = yield* WeChatClient.WeChatClient
      assert.deepStrictEqual(yield* client.execute(Busy), { ok: true })
      assert.strictEqual(stub.count("busy"), 3)
      assert.strictEqual((yield* Effect.flip(client.execute(Bad)))._tag, "RequestFormatError")
      assert.strictEqual(stub.count("bad"), 1)
    }).pipe(Effect.provide(clientLayer(stub, {}, Schedule.recurs(5))))
  })

  it.effect("a single-use endpoint is not sent again after a transport failure, only after WeChat's own busy answers", () => {
    const Spend = WeChatClient.endpoint({ path: "/cgi-bin/spend", singleUse: true, response: Schema.Struct({}) })
    const failing = makeStub({ spend: () => Effect.succeed({ transport: "ECONNRESET" }) })
    const busy = makeStub({
      spend: (_, n) => Effect.succeed(n === 1 ? { json: { errcode: 45011, errmsg: `api minute-quota reach limit ${rid}` } } : { json: {} })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.flatMap(WeChatClient.WeChatClient, (c) => c.execute(Spend))).pipe(
        Effect.provide(clientLayer(failing, {}, Schedule.recurs(5)))
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(failing.count("spend"), 1)
      yield* Effect.flatMap(WeChatClient.WeChatClient, (c) => c.execute(Spend)).pipe(
        Effect.provide(clientLayer(busy, {}, Schedule.recurs(5)))
      )
      assert.strictEqual(busy.count("spend"), 2)
    })
  })

  it.effect("a token given to an endpoint declared without a token parameter is a defect, and nothing is sent", () => {
    const NoToken = WeChatClient.endpoint({ path: "/cgi-bin/no_token", response: Schema.Struct({}) })
    const stub = makeStub()
    return Effect.gen(function*() {
      const client = yield* WeChatClient.WeChatClient
      const exit = yield* Effect.exit(client.execute(NoToken, { accessToken: Redacted.make("t") }))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.include(String(exit), "declared without a token parameter")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(clientLayer(stub)))
  })

  it.effect("the app secret and the token never reach an error, even where the transport echoes the URL", () => {
    const stub = makeStub({ get_current_selfmenu_info: () => Effect.succeed({ transport: "ECONNREFUSED" }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* withAuthorizer("account-token-secret-1")
      const error = yield* Effect.flip(AuthorizerToken.execute(authorizer, GetMenu))
      assert.strictEqual(error._tag, "TransportError")
      const shown = `${error.message} ${JSON.stringify(error)}`
      assert.notInclude(shown, "account-token-secret-1")
      assert.notInclude(shown, appSecret)
      assert.include(shown, "ECONNREFUSED")
    }).pipe(Effect.provide(authorizerLayer(stub, noRetries)))
  })
})

