import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import * as MiniProgramSession from "../src/MiniProgramSession.js"
import { appId, makeLayer, makeStub, storeTicket } from "./utils.js"

// The session key and codes stay out of errors, logs and spans: see UserToken.test.ts, whose scenarios call this too.
const account = "wxa1b2c3d4e5f60001"
const code = "CODE-0a1b2c-SECRET"
const sessionKey = "SESSION-KEY-3d2c1b"
const errcode = (code: number, errmsg = "some text") => ({ json: { errcode: code, errmsg: `${errmsg} rid: 1-2-3` } })

describe("MiniProgramSession.exchange", () => {
  it.effect("sends jscode2session with every parameter and the component token, and keeps session_key Redacted", () => {
    const stub = makeStub({
      jscode2session: () => Effect.succeed({ json: { openid: "o-mini-1", session_key: sessionKey, unionid: "u-9" } })
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const session = yield* MiniProgramSession.exchange(account, code)
      const [request] = stub.requests.filter((r) => r.endpoint === "jscode2session")
      assert.strictEqual(request!.method, "GET")
      assert.strictEqual(request!.url.pathname, "/sns/component/jscode2session")
      assert.deepStrictEqual(Object.fromEntries(request!.url.searchParams), {
        appid: account,
        js_code: code,
        grant_type: "authorization_code",
        component_appid: appId,
        component_access_token: "token-1"
      })
      assert.strictEqual(session.openid, "o-mini-1")
      assert.strictEqual(session.unionid, "u-9")
      assert.isTrue(Redacted.isRedacted(session.sessionKey))
      assert.strictEqual(Redacted.value(session.sessionKey), sessionKey)
      assert.notInclude(JSON.stringify(session) + String(session), sessionKey)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  for (const [errcodeValue, reason] of [[40029, "Invalid"], [40163, "Used"], [40226, "Blocked"]] as const) {
    it.effect(`${errcodeValue} is a UserCodeError (${reason}), sent once${reason === "Blocked" ? "" : ", saying to call wx.login() again"}`, () => {
      const stub = makeStub({ jscode2session: () => Effect.succeed(errcode(errcodeValue, "invalid code")) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(MiniProgramSession.exchange(account, code))
        assert.strictEqual(error._tag === "UserCodeError" && error.reason, reason)
        if (reason !== "Blocked") assert.include(error.message, "wx.login() in the Mini Program again")
        assert.strictEqual(stub.count("jscode2session"), 1)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  }

  it.effect("an errcode written as a string, as WeChat's jscode2session page shows it, is the same typed error", () => {
    const stub = makeStub({ jscode2session: () => Effect.succeed({ json: { errcode: "40029", errmsg: "invalid code rid: 1-2-3" } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const error = yield* Effect.flip(MiniProgramSession.exchange(account, code))
      assert.deepStrictEqual([error._tag, "errcode" in error ? error.errcode : undefined], ["UserCodeError", 40029])
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("the Session schema encodes the session_key for a session store, and decodes it back", () => {
    const stub = makeStub({ jscode2session: () => Effect.succeed({ json: { openid: "o-mini-1", session_key: sessionKey } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const session = yield* MiniProgramSession.exchange(account, code)
      const stored = JSON.stringify(yield* Schema.encode(MiniProgramSession.Session)(session))
      assert.include(stored, sessionKey)
      const back = yield* Schema.decode(Schema.parseJson(MiniProgramSession.Session))(stored)
      assert.strictEqual(Redacted.value(back.sessionKey), sessionKey)
      assert.deepStrictEqual([back.openid, back.authorizerAppId, "unionid" in back], ["o-mini-1", account, false])
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("61003 (the Mini Program has not authorized the component) is a PermissionError", () => {
    const stub = makeStub({ jscode2session: () => Effect.succeed(errcode(61003, "component is not authorized by this account")) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const error = yield* Effect.flip(MiniProgramSession.exchange(account, code))
      assert.strictEqual(error._tag === "PermissionError" && error.reason, "NotAuthorized")
    }).pipe(Effect.provide(makeLayer(stub)))
  })
})
