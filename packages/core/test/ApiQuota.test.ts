import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Schema, TestClock } from "effect"
import * as ApiQuota from "../src/ApiQuota.js"
import * as AuthorizerClient from "../src/AuthorizerClient.js"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as WeChatError from "../src/WeChatError.js"
import { appId, appSecret, type Handler, makeCapture, makeLayer, makeStub, noRetries, storeAccount, storeTicket } from "./utils.js"

const account = "wxfedcba9876543210"
const ok = Effect.succeed({ json: { errcode: 0, errmsg: "ok" } })
const daily = Effect.succeed({ json: { errcode: 45009, errmsg: "reach max api daily quota limit rid: 1-2-3" } })

const quotaGet = (answer: Handler): Handler => (request, n) =>
  request.url.pathname === "/cgi-bin/openapi/quota/get" ? answer(request, n) : Effect.succeed({ status: 404, text: "no" })

const setup = (stub: ReturnType<typeof makeStub>) =>
  AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub, {}, noRetries)))

const withAccount = storeAccount(account, "account-token")

const resetEndpoints = ["clear_quota", "v2"]
const resets = (stub: ReturnType<typeof makeStub>) => resetEndpoints.reduce((n, e) => n + stub.count(e), 0)

describe("ApiQuota.get", () => {
  it.effect("POSTs {cgi_path} with the component token and decodes limit, used, remain and the rate limit", () => {
    const stub = makeStub({
      get: quotaGet(() =>
        Effect.succeed({
          json: {
            errcode: 0,
            errmsg: "ok",
            quota: { daily_limit: 2000, used: 1999, remain: 1 },
            rate_limit: { call_count: 100, refresh_second: 60 }
          }
        })
      )
    })
    return Effect.gen(function*() {
      yield* withAccount
      const quota = yield* ApiQuota.get("/cgi-bin/component/api_create_preauthcode")
      const [request] = stub.requests.filter((r) => r.endpoint === "get")
      assert.strictEqual(request!.method, "POST")
      assert.deepStrictEqual(request!.body, { cgi_path: "/cgi-bin/component/api_create_preauthcode" })
      assert.strictEqual(request!.url.searchParams.get("access_token"), "token-1")
      assert.deepStrictEqual(quota, { dailyLimit: 2000, used: 1999, remain: 1, rateLimit: { callCount: 100, refreshSeconds: 60 } })
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("with authorizerAppId, asks with the account's token; no rate limit, none in the answer", () => {
    const stub = makeStub({
      get: quotaGet(() => Effect.succeed({ json: { errcode: 0, errmsg: "ok", quota: { daily_limit: 10, used: 0, remain: 10 } } }))
    })
    return Effect.gen(function*() {
      yield* withAccount
      const quota = yield* ApiQuota.get("/cgi-bin/message/custom/send", { authorizerAppId: account })
      const [request] = stub.requests.filter((r) => r.endpoint === "get")
      assert.strictEqual(request!.url.searchParams.get("access_token"), "account-token")
      assert.isFalse("rateLimit" in quota)
    }).pipe(Effect.provide(setup(stub)))
  })

  const codes: ReadonlyArray<readonly [number, WeChatError.QuotaQueryError["reason"], string]> = [
    [76021, "UnknownPath", "from its leading slash"],
    [76022, "NotQueryable", "count the calls on your side"]
  ]
  for (const [code, reason, advice] of codes) {
    it.effect(`${code} is a QuotaQueryError (${reason}) whose message says what to do`, () => {
      const stub = makeStub({ get: quotaGet(() => Effect.succeed({ json: { errcode: code, errmsg: "quota rid: 9-9-9" } })) })
      return Effect.gen(function*() {
        yield* withAccount
        const error = yield* Effect.flip(ApiQuota.get("/cgi-bin/nope"))
        assert.isTrue(error instanceof WeChatError.QuotaQueryError && error.reason === reason)
        assert.include(error.message, advice)
      }).pipe(Effect.provide(setup(stub)))
    })
  }
})

describe("ApiQuota.reset", () => {
  it.effect("POSTs /cgi-bin/clear_quota {appid: the component} with the component token", () => {
    const stub = makeStub({ clear_quota: () => ok })
    return Effect.gen(function*() {
      yield* withAccount
      yield* ApiQuota.reset()
      const [request] = stub.requests.filter((r) => r.endpoint === "clear_quota")
      assert.strictEqual(request!.url.pathname, "/cgi-bin/clear_quota")
      assert.deepStrictEqual(request!.body, { appid: appId })
      assert.strictEqual(request!.url.searchParams.get("access_token"), "token-1")
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("for an account: {appid: the account} with the account's token", () => {
    const stub = makeStub({ clear_quota: () => ok })
    return Effect.gen(function*() {
      yield* withAccount
      yield* ApiQuota.reset({ authorizerAppId: account })
      const [request] = stub.requests.filter((r) => r.endpoint === "clear_quota")
      assert.deepStrictEqual(request!.body, { appid: account })
      assert.strictEqual(request!.url.searchParams.get("access_token"), "account-token")
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("48006 is a QuotaError (NoResetsLeft), sent once, saying the month's resets are spent", () => {
    const stub = makeStub({
      clear_quota: () => Effect.succeed({ json: { errcode: 48006, errmsg: "forbid to clear quota because of reaching the limit rid: 4-5-6" } })
    })
    return Effect.gen(function*() {
      yield* withAccount
      const error = yield* Effect.flip(ApiQuota.reset())
      assert.isTrue(error instanceof WeChatError.QuotaError && error.reason === "NoResetsLeft")
      assert.include(error.message, "10 resets")
      assert.strictEqual(stub.count("clear_quota"), 1)
    }).pipe(Effect.provide(setup(stub)))
  })
})

describe("a reset is sent once under the default retry policy", () => {
  // WeChat may have reset the quota before the answer was lost: a second send would spend another of the 10.
  const lost = [
    ["a 502", { status: 502, text: "<html>bad gateway</html>" }],
    ["a reset connection", { transport: "ECONNRESET" }]
  ] as const
  const cases = [
    ["reset()", "clear_quota", () => ApiQuota.reset()],
    ["resetWithSecret()", "v2", () => ApiQuota.resetWithSecret()]
  ] as const
  for (const [call, endpoint, reset] of cases) {
    for (const [name, reply] of lost) {
      it.effect(`${call} after ${name}: fails, sent once`, () => {
        const stub = makeStub({ [endpoint]: (_: unknown, n: number) => n === 1 ? Effect.succeed(reply) : ok })
        return Effect.gen(function*() {
          yield* storeTicket()
          const fiber = yield* Effect.fork(Effect.either(reset()))
          yield* TestClock.adjust("10 minutes")
          const result = yield* Fiber.join(fiber)
          assert.isTrue(Either.isLeft(result), name)
          assert.strictEqual(stub.count(endpoint), 1)
        }).pipe(Effect.provide(AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))))
      })
    }
    it.effect(`${call} after -1 (WeChat did nothing): sent again, and succeeds`, () => {
      const stub = makeStub({
        [endpoint]: (_: unknown, n: number) => n === 1 ? Effect.succeed({ json: { errcode: -1, errmsg: "system error rid: 1-2-3" } }) : ok
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(reset())
        yield* TestClock.adjust("10 minutes")
        yield* Fiber.join(fiber)
        assert.strictEqual(stub.count(endpoint), 2)
      }).pipe(Effect.provide(AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))))
    })
  }
})

describe("ApiQuota.resetWithSecret", () => {
  it.effect("POSTs clear_quota/v2 {component_appid, appsecret} without a token", () => {
    const stub = makeStub({ v2: () => ok })
    return Effect.gen(function*() {
      yield* ApiQuota.resetWithSecret()
      const [request] = stub.requests
      assert.strictEqual(request!.url.pathname, "/cgi-bin/component/clear_quota/v2")
      assert.deepStrictEqual(request!.body, { component_appid: appId, appsecret: appSecret })
      assert.strictEqual(request!.url.search, "")
      assert.strictEqual(stub.requests.length, 1)
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("for an account: appid in the body", () => {
    const stub = makeStub({ v2: () => ok })
    return Effect.gen(function*() {
      yield* ApiQuota.resetWithSecret({ appId: account })
      assert.deepStrictEqual(stub.requests[0]!.body, { component_appid: appId, appsecret: appSecret, appid: account })
    }).pipe(Effect.provide(setup(stub)))
  })

  for (
    const [name, reply] of [
      ["48006", { json: { errcode: 48006, errmsg: "forbid to clear quota because of reaching the limit rid: 4-5-6" } }],
      ["a wrong secret (40125)", { json: { errcode: 40125, errmsg: "invalid appsecret rid: 4-5-6" } }],
      ["a transport failure", { transport: "ECONNRESET" }]
    ] as const
  ) {
    it.effect(`the app secret reaches no log, span or error on ${name}`, () => {
      const capture = makeCapture()
      const stub = makeStub({ v2: () => Effect.succeed(reply) })
      return Effect.gen(function*() {
        const error = yield* Effect.flip(ApiQuota.resetWithSecret())
        yield* Effect.logError("reset failed", error)
        const texts = capture.texts.join("\n") + error.message + JSON.stringify(error) + String(error)
        assert.include(texts, "ApiQuota.resetWithSecret")
        assert.notInclude(texts, appSecret)
        if (name === "48006") assert.isTrue(error instanceof WeChatError.QuotaError && error.reason === "NoResetsLeft")
      }).pipe(Effect.provide(setup(stub)), Effect.provide(capture.layer))
    })
  }
})

describe("a 45009 is never reset for you", () => {
  it.effect("a component call answered 45009 fails with QuotaError (Daily), sent once, and no reset is sent", () => {
    const stub = makeStub({ api_create_preauthcode: () => daily })
    return Effect.gen(function*() {
      yield* withAccount
      const error = yield* Effect.flip(PreAuthCode.create)
      assert.isTrue(error instanceof WeChatError.QuotaError && error.reason === "Daily")
      assert.include(error.message, "ApiQuota.reset")
      assert.strictEqual(stub.count("api_create_preauthcode"), 1)
      assert.strictEqual(resets(stub), 0)
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("an account call answered 45009 fails, sent once, and no reset is sent", () => {
    const stub = makeStub({ get_api_domain_ip: () => daily })
    return Effect.gen(function*() {
      yield* withAccount
      const client = yield* AuthorizerClient.make(account)
      const error = yield* Effect.flip(client.get("/cgi-bin/get_api_domain_ip", Schema.Unknown))
      assert.isTrue(error instanceof WeChatError.QuotaError && error.reason === "Daily")
      assert.strictEqual(stub.count("get_api_domain_ip"), 1)
      assert.strictEqual(resets(stub), 0)
    }).pipe(Effect.provide(setup(stub)))
  })
})
