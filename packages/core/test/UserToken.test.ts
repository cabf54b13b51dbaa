import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, Fiber, Option, Redacted, Schema, TestClock } from "effect"
import * as MiniProgramSession from "../src/MiniProgramSession.js"
import * as UserToken from "../src/UserToken.js"
import type * as WeChatError from "../src/WeChatError.js"
import type * as ComponentToken from "../src/ComponentToken.js"
import type * as TokenStore from "../src/TokenStore.js"
import type * as WeChatClient from "../src/WeChatClient.js"
import { appId, appSecret, type Handler, makeCapture, makeLayer, makeStub, noRetries, storeTicket, ticketValue } from "./utils.js"

const account = "wxa1b2c3d4e5f60001"
const code = "CODE-0a1b2c-SECRET"
const userAccess = "USER-ACCESS-9f8e7d"
const userRefresh = "USER-REFRESH-6c5b4a"
const sessionKey = "SESSION-KEY-3d2c1b"

const tokenAnswer = (extra: Record<string, unknown> = {}) => ({
  json: { access_token: userAccess, expires_in: 7200, refresh_token: userRefresh, openid: "o-user-1", scope: "snsapi_userinfo", ...extra }
})
const errcode = (code: number, errmsg = "some text") => ({ json: { errcode: code, errmsg: `${errmsg} rid: 1-2-3` } })

describe("UserToken.exchange", () => {
  it.effect("sends a GET with every parameter, component_appid and the component token, and decodes the tokens", () => {
    const stub = makeStub({ access_token: () => Effect.succeed(tokenAnswer({ unionid: "u-1" })) })
    return Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      yield* storeTicket()
      const token = yield* UserToken.exchange(account, code)
      const [request] = stub.requests.filter((r) => r.endpoint === "access_token")
      assert.strictEqual(request!.method, "GET")
      assert.strictEqual(request!.url.pathname, "/sns/oauth2/component/access_token")
      assert.deepStrictEqual(Object.fromEntries(request!.url.searchParams), {
        appid: account,
        code,
        grant_type: "authorization_code",
        component_appid: appId,
        component_access_token: "token-1"
      })
      assert.strictEqual(request!.rawBody, "")
      assert.strictEqual(token.openid, "o-user-1")
      assert.strictEqual(token.scope, "snsapi_userinfo")
      assert.strictEqual(token.authorizerAppId, account)
      assert.strictEqual(token.unionid, "u-1")
      assert.isTrue(Redacted.isRedacted(token.accessToken) && Redacted.isRedacted(token.refreshToken))
      assert.strictEqual(Redacted.value(token.accessToken), userAccess)
      assert.strictEqual(Redacted.value(token.refreshToken), userRefresh)
      assert.isTrue(DateTime.Equivalence(token.expiresAt, DateTime.unsafeMake(1_700_000_000_000 + 7_200_000)))
      assert.notInclude(JSON.stringify(token) + String(token), userAccess)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("leaves unionid out when WeChat sends none", () => {
    const stub = makeStub({ access_token: () => Effect.succeed(tokenAnswer()) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const token = yield* UserToken.exchange(account, Redacted.make(code))
      assert.isFalse("unionid" in token)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("replaces a refused component token and sends the code once more (WeChat refused it unread)", () => {
    const stub = makeStub({
      access_token: (request) => Effect.succeed(request.token === "token-1" ? errcode(40001) : tokenAnswer())
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const token = yield* UserToken.exchange(account, code)
      assert.strictEqual(token.openid, "o-user-1")
      assert.deepStrictEqual(stub.requests.filter((r) => r.endpoint === "access_token").map((r) => r.token), ["token-1", "token-2"])
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  const codeErrors: ReadonlyArray<readonly [number, WeChatError.UserCodeError["reason"], string]> = [
    [40029, "Invalid", "issued for another account"],
    [40163, "Used", "single use"],
    [42003, "Expired", "5 minutes"]
  ]
  for (const [errcodeValue, reason, advice] of codeErrors) {
    it.effect(`${errcodeValue} is a UserCodeError (${reason}), sent once, saying to send the user through the link again`, () => {
      const stub = makeStub({ access_token: () => Effect.succeed(errcode(errcodeValue, "invalid code")) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(UserToken.exchange(account, code))
        assert.strictEqual(error._tag, "UserCodeError")
        assert.strictEqual<string | false>(error._tag === "UserCodeError" && error.reason, reason)
        assert.include(error.message, advice)
        assert.include(error.message, "authorization link again")
        assert.include(error.message, "/sns/oauth2/component/access_token answered errcode")
        assert.notInclude(error.message, code)
        assert.strictEqual(stub.count("access_token"), 1)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  }

  it.effect("a transport failure is not retried: the code may have been spent", () => {
    const stub = makeStub({ access_token: () => Effect.succeed({ transport: "ECONNRESET" }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const fiber = yield* Effect.fork(Effect.flip(UserToken.exchange(account, code)))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(stub.count("access_token"), 1)
      assert.notInclude(error.message, code)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("-1 (WeChat did nothing) is retried", () => {
    const stub = makeStub({ access_token: (_, n) => Effect.succeed(n === 1 ? errcode(-1, "system error") : tokenAnswer()) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const fiber = yield* Effect.fork(UserToken.exchange(account, code))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* Fiber.join(fiber)).openid, "o-user-1")
      assert.strictEqual(stub.count("access_token"), 2)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("refuses a malformed appid and an empty code before anything is sent", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      const badAppId = yield* Effect.flip(UserToken.exchange("wx123", code))
      assert.strictEqual(badAppId._tag === "InvalidRequestError" && badAppId.reason, "InvalidAppId")
      const empty = yield* Effect.flip(UserToken.exchange(account, " "))
      assert.strictEqual(empty._tag === "InvalidRequestError" && empty.reason, "EmptyValue")
      assert.include(empty.message, "/sns/oauth2/component/access_token was not sent")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("an answer without access_token is a MalformedResponseError naming the field, not a value", () => {
    const stub = makeStub({
      access_token: () => Effect.succeed({ json: { expires_in: 7200, refresh_token: userRefresh, openid: "o", scope: "s" } })
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const error = yield* Effect.flip(UserToken.exchange(account, code))
      assert.strictEqual(error._tag, "MalformedResponseError")
      assert.include(error.message, "access_token")
      assert.notInclude(error.message, userRefresh)
    }).pipe(Effect.provide(makeLayer(stub)))
  })
})

describe("the UserToken schema", () => {
  it.effect("encodes a token for a session store, secrets as strings, and decodes it back", () => {
    const stub = makeStub({ access_token: () => Effect.succeed(tokenAnswer({ unionid: "u-1" })) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const token = yield* UserToken.exchange(account, code)
      const stored = JSON.stringify(yield* Schema.encode(UserToken.UserToken)(token))
      assert.include(stored, userAccess)
      assert.include(stored, userRefresh)
      const back = yield* Schema.decode(Schema.parseJson(UserToken.UserToken))(stored)
      assert.strictEqual(Redacted.value(back.accessToken), userAccess)
      assert.strictEqual(Redacted.value(back.refreshToken), userRefresh)
      assert.isTrue(DateTime.Equivalence(back.expiresAt, token.expiresAt))
      assert.deepStrictEqual([back.openid, back.scope, back.unionid, back.authorizerAppId], [token.openid, token.scope, "u-1", account])
    }).pipe(Effect.provide(makeLayer(stub)))
  })
})

describe("UserToken.refresh", () => {
  it.effect("sends the refresh token with component_appid and the component token, and decodes the new tokens", () => {
    const stub = makeStub({ refresh_token: () => Effect.succeed(tokenAnswer({ access_token: "USER-ACCESS-2" })) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const token = yield* UserToken.refresh(account, Redacted.make(userRefresh))
      const [request] = stub.requests.filter((r) => r.endpoint === "refresh_token")
      assert.strictEqual(request!.method, "GET")
      assert.strictEqual(request!.url.pathname, "/sns/oauth2/component/refresh_token")
      assert.deepStrictEqual(Object.fromEntries(request!.url.searchParams), {
        appid: account,
        grant_type: "refresh_token",
        component_appid: appId,
        refresh_token: userRefresh,
        component_access_token: "token-1"
      })
      assert.strictEqual(Redacted.value(token.accessToken), "USER-ACCESS-2")
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  for (const [errcodeValue, reason, advice] of [[40030, "RefreshTokenInvalid", "authorization link again"], [42002, "RefreshTokenExpired", "30 days"]] as const) {
    it.effect(`${errcodeValue} is a UserTokenError (${reason}), not retried`, () => {
      const stub = makeStub({ refresh_token: () => Effect.succeed(errcode(errcodeValue, "invalid refresh_token")) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(UserToken.refresh(account, Redacted.make(userRefresh)))
        assert.strictEqual(error._tag === "UserTokenError" && error.reason, reason)
        assert.include(error.message, advice)
        assert.strictEqual(stub.count("refresh_token"), 1)
        assert.strictEqual(stub.count("api_component_token"), 1)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  }
})

describe("UserToken.userInfo", () => {
  const token = { accessToken: Redacted.make(userAccess), openid: "o-user-1" }

  it.effect("sends the user's token in access_token, with openid and lang, and no component token", () => {
    const stub = makeStub({
      userinfo: () =>
        Effect.succeed({
          json: { openid: "o-user-1", nickname: "小明", sex: 0, province: "", city: "", country: "", headimgurl: "https://img.example/a", privilege: ["chinaunicom"], unionid: "u-1" }
        })
    })
    return Effect.gen(function*() {
      const profile = yield* UserToken.userInfo(token, { lang: "en" })
      assert.deepStrictEqual(profile, { openid: "o-user-1", nickname: "小明", headImageUrl: "https://img.example/a", privileges: ["chinaunicom"], unionid: "u-1" })
      const [request] = stub.requests
      assert.strictEqual(request!.method, "GET")
      assert.strictEqual(request!.url.pathname, "/sns/userinfo")
      assert.deepStrictEqual(Object.fromEntries(request!.url.searchParams), { openid: "o-user-1", lang: "en", access_token: userAccess })
      assert.strictEqual(stub.requests.length, 1, "no component token was fetched")
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("asks in zh_CN by default, and takes a profile with only an openid", () => {
    const stub = makeStub({ userinfo: () => Effect.succeed({ json: { openid: "o-user-1" } }) })
    return Effect.gen(function*() {
      const profile = yield* UserToken.userInfo(token)
      assert.deepStrictEqual(profile, { openid: "o-user-1", nickname: "", headImageUrl: "", privileges: [] })
      assert.strictEqual(stub.requests[0]!.url.searchParams.get("lang"), "zh_CN")
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  const refusals: ReadonlyArray<readonly [number, WeChatError.UserTokenError["reason"]]> = [
    [40001, "AccessTokenInvalid"],
    [40014, "AccessTokenInvalid"],
    [41001, "AccessTokenInvalid"],
    [42001, "AccessTokenExpired"],
    [40003, "InvalidOpenId"],
    [48001, "ScopeTooNarrow"]
  ]
  for (const [errcodeValue, reason] of refusals) {
    it.effect(`${errcodeValue} is the user's UserTokenError (${reason}): no component token is fetched, nothing is resent`, () => {
      const stub = makeStub({ userinfo: () => Effect.succeed(errcode(errcodeValue, "invalid credential")) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(UserToken.userInfo(token))
        assert.strictEqual(error._tag, "UserTokenError")
        assert.strictEqual(error._tag === "UserTokenError" && error.reason, reason)
        assert.deepStrictEqual(stub.requests.map((r) => r.endpoint), ["userinfo"])
        assert.notInclude(error.message, userAccess)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  }

  it.effect("refuses an empty token before anything is sent", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      const error = yield* Effect.flip(UserToken.userInfo({ accessToken: Redacted.make(""), openid: "o" }))
      assert.strictEqual(error._tag === "InvalidRequestError" && error.reason, "EmptyValue")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(makeLayer(stub)))
  })
})

const componentToken = "COMPONENT-TOKEN-5e4d"
const echo = (value: string) => Effect.succeed({ transport: `connect ECONNREFUSED (${value})` })
const redactionScenarios: ReadonlyArray<readonly [string, Partial<Record<string, Handler>>]> = [
  ["successes", {
    access_token: () => Effect.succeed(tokenAnswer()),
    refresh_token: () => Effect.succeed(tokenAnswer()),
    userinfo: () => Effect.succeed({ json: { openid: "o-user-1" } }),
    jscode2session: () => Effect.succeed({ json: { openid: "o", session_key: sessionKey } })
  }],
  ["connection failures whose text echoes the URL", {
    access_token: () => echo(`/sns?code=${code}`),
    refresh_token: () => echo(`/sns?refresh_token=${userRefresh}`),
    userinfo: () => echo(`/sns/userinfo?access_token=${userAccess}`),
    jscode2session: () => echo(`/sns?js_code=${code}`)
  }],
  ["refusals", {
    access_token: () => Effect.succeed(errcode(40163, "code been used")),
    refresh_token: () => Effect.succeed(errcode(40030, "invalid refresh_token")),
    userinfo: () => Effect.succeed(errcode(42001, "access_token expired")),
    jscode2session: () => Effect.succeed(errcode(40029, "invalid code"))
  }],
  ["answers of the wrong shape", {
    access_token: () => Effect.succeed({ json: { access_token: userAccess, expires_in: "7200" } }),
    refresh_token: () => Effect.succeed({ status: 200, text: `{"access_token":"${userAccess}","refresh_token":"${userRefresh}` }),
    userinfo: () => Effect.succeed({ status: 502, text: `<html>${userAccess}</html>` }),
    jscode2session: () => Effect.succeed({ json: { session_key: sessionKey } })
  }]
]

describe("the user's codes and tokens stay out of errors, logs and spans", () => {
  for (const [name, handlers] of redactionScenarios) {
    it.effect(name, () => {
      const capture = makeCapture()
      const stub = makeStub({
        api_component_token: () => Effect.succeed({ json: { component_access_token: componentToken, expires_in: 7200 } }),
        ...handlers
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const calls: ReadonlyArray<Effect.Effect<unknown, WeChatError.WeChatError | TokenStore.TokenStoreError, WeChatClient.WeChatClient | ComponentToken.ComponentToken>> = [
          UserToken.exchange(account, code),
          UserToken.refresh(account, Redacted.make(userRefresh)),
          UserToken.userInfo({ accessToken: Redacted.make(userAccess), openid: "o-user-1" }),
          MiniProgramSession.exchange(account, code)
        ]
        for (const call of calls) {
          const exit = yield* Effect.exit(call)
          if (Exit.isFailure(exit)) {
            capture.texts.push(Cause.pretty(exit.cause))
            Option.map(Cause.failureOption(exit.cause), (error) => capture.texts.push(error.message, String(error), JSON.stringify(error)))
          } else {
            capture.texts.push(String(exit.value), JSON.stringify(exit.value))
          }
        }
        const names = capture.spans.map((s) => s.name)
        for (const span of ["UserToken.exchange", "UserToken.refresh", "UserToken.userInfo", "MiniProgramSession.exchange"]) {
          assert.include(names, span)
        }
        assert.strictEqual(
          capture.spans.find((s) => s.name === "UserToken.exchange")!.attributes.get("wechat.endpoint"),
          "/sns/oauth2/component/access_token"
        )
        const all = capture.texts.join("\n")
        for (const secret of [code, userAccess, userRefresh, sessionKey, componentToken, appSecret, ticketValue]) {
          assert.notInclude(all, secret)
        }
      }).pipe(Effect.provide(makeLayer(stub, {}, noRetries)), Effect.provide(capture.layer))
    })
  }

  it.effect("the capture would see a code that reached a span (the test can fail)", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      yield* Effect.void.pipe(Effect.withSpan("Leaky", { attributes: { code } }))
      assert.include(capture.texts.join("\n"), code)
    }).pipe(Effect.provide(capture.layer))
  })
})
