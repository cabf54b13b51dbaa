import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Redacted, Schema } from "effect"
import * as AuthorizerClient from "../src/AuthorizerClient.js"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as RequestRecord from "../src/RequestRecord.js"
import * as WeChatError from "../src/WeChatError.js"
import { appId, type Handler, makeCapture, makeLayer, makeStub, storeAccount } from "./utils.js"

const account = "wxfedcba9876543210"
const rid = "6571a2b3-1c2d3e4f-5a6b7c8d"
const requestBody = `{"component_appid":"${appId}","secret-ish":"BODY-SECRET-1"}`
const responseBody = `{"errcode":40001,"errmsg":"RESPONSE-SECRET-2"}`

const record = {
  json: {
    errcode: 0,
    errmsg: "ok",
    request: {
      invoke_time: 1_700_000_123,
      cost_in_ms: 42,
      request_url: "/cgi-bin/component/api_create_preauthcode?component_access_token=***",
      request_body: requestBody,
      response_body: responseBody,
      client_ip: "203.0.113.7"
    }
  }
}

const ridGet = (answer: Handler): Handler => (request, n) =>
  request.url.pathname === "/cgi-bin/openapi/rid/get" ? answer(request, n) : Effect.succeed({ status: 404, text: "no" })

const setup = (stub: ReturnType<typeof makeStub>) => AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))

const withAccount = storeAccount(account, "account-token")

describe("RequestRecord.get", () => {
  it.effect("POSTs {rid} with the component token in access_token and decodes the record, bodies Redacted", () => {
    const stub = makeStub({ get: ridGet(() => Effect.succeed(record)) })
    return Effect.gen(function*() {
      yield* withAccount
      const got = yield* RequestRecord.get(rid)
      const [request] = stub.requests.filter((r) => r.endpoint === "get")
      assert.strictEqual(request!.method, "POST")
      assert.deepStrictEqual(request!.body, { rid })
      assert.strictEqual(request!.url.searchParams.get("access_token"), "token-1")
      assert.strictEqual(got.rid, rid)
      assert.isTrue(DateTime.Equivalence(got.invokeTime, DateTime.unsafeMake(1_700_000_123_000)))
      assert.strictEqual(got.costMs, 42)
      assert.strictEqual(got.clientIp, "203.0.113.7")
      assert.strictEqual(got.requestUrl, "/cgi-bin/component/api_create_preauthcode?component_access_token=***")
      assert.isTrue(Redacted.isRedacted(got.requestBody) && Redacted.isRedacted(got.responseBody))
      assert.strictEqual(Redacted.value(got.requestBody), requestBody)
      assert.strictEqual(Redacted.value(got.responseBody), responseBody)
      assert.notInclude(JSON.stringify(got) + String(got), "BODY-SECRET-1")
      assert.notInclude(JSON.stringify(got) + String(got), "RESPONSE-SECRET-2")
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("masks the values of tokens, secrets and codes WeChat echoes in the URL", () => {
    const url = "/sns/component/jscode2session?appid=wx1&js_code=CODE-LEAK&component_access_token=TOKEN-LEAK&x=1&appsecret=S-LEAK"
    const stub = makeStub({
      get: ridGet(() => Effect.succeed({ json: { ...record.json, request: { ...record.json.request, request_url: url } } }))
    })
    return Effect.gen(function*() {
      yield* withAccount
      const got = yield* RequestRecord.get(rid)
      assert.strictEqual(got.requestUrl, "/sns/component/jscode2session?appid=wx1&js_code=***&component_access_token=***&x=1&appsecret=***")
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("masks them too when WeChat writes the query alone, as its own page shows (access_token=…), tickets included", () => {
    const urls = [
      ["access_token=50_Im7xxxx", "access_token=***"],
      ["component_access_token=TOK&x=1", "component_access_token=***&x=1"],
      ["/cgi-bin/x?component_verify_ticket=T&y=2", "/cgi-bin/x?component_verify_ticket=***&y=2"]
    ] as const
    return Effect.forEach(urls, ([url, expected]) => {
      const stub = makeStub({
        get: ridGet(() => Effect.succeed({ json: { ...record.json, request: { ...record.json.request, request_url: url } } }))
      })
      return Effect.gen(function*() {
        yield* withAccount
        assert.strictEqual((yield* RequestRecord.get(rid)).requestUrl, expected)
      }).pipe(Effect.provide(setup(stub)))
    }, { discard: true })
  })

  it.effect("with authorizerAppId, sends the account's token", () => {
    const stub = makeStub({ get: ridGet(() => Effect.succeed(record)) })
    return Effect.gen(function*() {
      yield* withAccount
      yield* RequestRecord.get(rid, { authorizerAppId: account })
      const [request] = stub.requests.filter((r) => r.endpoint === "get")
      assert.strictEqual(request!.url.searchParams.get("access_token"), "account-token")
      assert.strictEqual(stub.count("api_component_token"), 0)
    }).pipe(Effect.provide(setup(stub)))
  })

  const codes: ReadonlyArray<readonly [number, WeChatError.RidError["reason"], string]> = [
    [76001, "Unknown", "7 days"],
    [76002, "Malformed", "exactly as it appears"],
    [76003, "NotOwner", "another token"]
  ]
  for (const [code, reason, advice] of codes) {
    it.effect(`${code} is a RidError (${reason}) whose message says what to do`, () => {
      const stub = makeStub({ get: ridGet(() => Effect.succeed({ json: { errcode: code, errmsg: "rid error rid: 9-9-9" } })) })
      return Effect.gen(function*() {
        yield* withAccount
        const error = yield* Effect.flip(RequestRecord.get(rid))
        assert.isTrue(error instanceof WeChatError.RidError && error.reason === reason)
        assert.include(error.message, advice)
        assert.strictEqual(stub.count("get"), 1)
      }).pipe(Effect.provide(setup(stub)))
    })
  }

  it.effect("the bodies reach no log line, span or error", () => {
    const capture = makeCapture()
    const stub = makeStub({ get: ridGet(() => Effect.succeed(record)) })
    return Effect.gen(function*() {
      yield* withAccount
      const got = yield* RequestRecord.get(rid)
      yield* Effect.log(got)
      yield* Effect.logError("record", got)
      const texts = capture.texts.join("\n")
      assert.include(texts, "RequestRecord.get")
      assert.notInclude(texts, "BODY-SECRET-1")
      assert.notInclude(texts, "RESPONSE-SECRET-2")
    }).pipe(Effect.provide(setup(stub)), Effect.provide(capture.layer))
  })
})

describe("RequestRecord.lookup", () => {
  it.effect("looks a component call's error up with the component token", () => {
    const stub = makeStub({
      api_create_preauthcode: () => Effect.succeed({ json: { errcode: 61007, errmsg: `api unauthorized rid: ${rid}` } }),
      get: ridGet(() => Effect.succeed(record))
    })
    return Effect.gen(function*() {
      yield* withAccount
      const error = yield* Effect.flip(PreAuthCode.create)
      assert.isFalse("authorizerAppId" in error)
      const got = yield* RequestRecord.lookup(error)
      assert.strictEqual(got.clientIp, "203.0.113.7")
      const [request] = stub.requests.filter((r) => r.endpoint === "get")
      assert.deepStrictEqual(request!.body, { rid })
      assert.strictEqual(request!.url.searchParams.get("access_token"), "token-1")
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("looks an account call's error up with that account's token: the error names the account", () => {
    const stub = makeStub({
      get_api_domain_ip: () => Effect.succeed({ json: { errcode: 48001, errmsg: `api unauthorized rid: ${rid}` } }),
      get: ridGet(() => Effect.succeed(record))
    })
    return Effect.gen(function*() {
      yield* withAccount
      const client = yield* AuthorizerClient.make(account)
      const error = yield* Effect.flip(client.get("/cgi-bin/get_api_domain_ip", Schema.Unknown))
      assert.isTrue(error._tag === "PermissionError" && error.authorizerAppId === account && error.rid === rid)
      yield* RequestRecord.lookup(error)
      const [request] = stub.requests.filter((r) => r.endpoint === "get")
      assert.deepStrictEqual(request!.body, { rid })
      assert.strictEqual(request!.url.searchParams.get("access_token"), "account-token")
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("an error without an rid fails clearly, and nothing is sent", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* withAccount
      const error = yield* Effect.flip(
        RequestRecord.lookup(new WeChatError.TransportError({ endpoint: "/cgi-bin/x", reason: "Timeout", detail: "slow" }))
      )
      assert.isTrue(error._tag === "InvalidRequestError" && error.reason === "EmptyValue")
      assert.include(error.message, "carries no rid")
      assert.strictEqual(stub.count("get"), 0)
    }).pipe(Effect.provide(setup(stub)))
  })
})
