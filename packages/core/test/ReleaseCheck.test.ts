import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Logger, Redacted, TestClock } from "effect"
import * as AccountPush from "../src/AccountPush.js"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as PassiveReply from "../src/PassiveReply.js"
import * as ReleaseCheck from "../src/ReleaseCheck.js"
import * as TokenStore from "../src/TokenStore.js"
import {
  account,
  appId,
  eventXml,
  type Handler,
  makeLayer,
  makeStub,
  noRetries,
  openReply,
  recordingTracer,
  sealMessage,
  settle,
  storeTicket,
  textXml
} from "./utils.js"

const testAccount = "wx570bc396a51b8ff8"
const code = "queryauthcode@@@release-check"

const queryAuth: Handler = () =>
  Effect.succeed({
    json: {
      authorization_info: {
        authorizer_appid: testAccount,
        authorizer_access_token: "at-test-account",
        expires_in: 7200,
        authorizer_refresh_token: "rt-test-account",
        func_info: []
      }
    }
  })

const setup = (handlers: Parameters<typeof makeStub>[0] = {}) => {
  const stub = makeStub({ api_query_auth: queryAuth, send: () => Effect.succeed({ json: { errcode: 0, errmsg: "ok" } }), ...handlers })
  const lines: Array<string> = []
  const logger = Logger.make(({ cause, logLevel, message }) => lines.push(`${logLevel.label} ${String(message)} ${cause}`))
  const wechat = AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub, {}, noRetries)))
  const layer = AccountPush.layer({
    onMessage: ReleaseCheck.handler((message) =>
      Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text(`yours: ${message.content}`) : undefined)
    )
  }).pipe(Layer.provideMerge(wechat), Layer.merge(Logger.replace(Logger.defaultLogger, logger)))
  return { stub, lines, layer }
}

const replyOf = (body: string) => openReply(body).reply.Content as string

describe("ReleaseCheck.handler", () => {
  it.effect("TESTCOMPONENT_MSG_TYPE_TEXT is answered TESTCOMPONENT_MSG_TYPE_TEXT_callback", () => {
    const { layer } = setup()
    return Effect.gen(function*() {
      const answer = yield* AccountPush.receive(testAccount, sealMessage(textXml("TESTCOMPONENT_MSG_TYPE_TEXT")))
      assert.strictEqual(replyOf(answer.body), "TESTCOMPONENT_MSG_TYPE_TEXT_callback")
    }).pipe(Effect.provide(layer))
  })

  for (const event of ["subscribe", "LOCATION", "weapp_audit_success"]) {
    it.effect(`an event (${event}) is answered ${event}from_callback`, () => {
      const { layer } = setup()
      return Effect.gen(function*() {
        const answer = yield* AccountPush.receive(testAccount, sealMessage(eventXml(event)))
        assert.strictEqual(replyOf(answer.body), `${event}from_callback`)
      }).pipe(Effect.provide(layer))
    })
  }

  it.effect("QUERY_AUTH_CODE: answered empty at once, then the code exchanged and <code>_from_api sent to the user", () => {
    const { layer, lines, stub } = setup()
    return Effect.gen(function*() {
      yield* storeTicket()
      const answer = yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      assert.strictEqual(answer.body, "")
      yield* settle
      assert.strictEqual(stub.requests.find((r) => r.endpoint === "api_query_auth")?.body.authorization_code, code)
      const sent = stub.requests.find((r) => r.endpoint === "send")
      assert.strictEqual(sent?.url.pathname, "/cgi-bin/message/custom/send")
      assert.strictEqual(sent?.url.searchParams.get("access_token"), "at-test-account")
      assert.deepStrictEqual(sent?.body, { touser: "o-user-1", msgtype: "text", text: { content: `${code}_from_api` } })
      for (const line of lines) assert.notInclude(line, code)
    }).pipe(Effect.provide(layer))
  })

  it.effect("the answer does not wait for the exchange: a slow WeChat still gets its empty answer at once", () => {
    const { layer, stub } = setup({ api_query_auth: () => Effect.zipRight(Effect.sleep("3 seconds"), queryAuth({} as never, 1)) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const answer = yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      assert.strictEqual(answer.body, "")
      assert.strictEqual(stub.count("send"), 0)
      yield* TestClock.adjust("3 seconds")
      yield* settle
      assert.strictEqual(stub.count("send"), 1, "the message follows the exchange, after the answer")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a code exchanged already (by ComponentPush on the authorized push) sends with the stored token", () => {
    const { layer, lines, stub } = setup({ api_query_auth: () => Effect.succeed({ json: { errcode: 61010, errmsg: "code is expired rid: 1" } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      const store = yield* TokenStore.TokenStore
      const now = yield* Clock.currentTimeMillis
      yield* store.setAuthorizer(appId, testAccount, {
        accessToken: Redacted.make("at-stored"),
        expiresAt: now + 7_200_000,
        refreshToken: Redacted.make("rt-stored"),
        authorizedAt: now
      })
      yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      yield* settle
      const sent = stub.requests.find((r) => r.endpoint === "send")
      assert.strictEqual(sent?.url.searchParams.get("access_token"), "at-stored")
      assert.deepStrictEqual(sent?.body, { touser: "o-user-1", msgtype: "text", text: { content: `${code}_from_api` } })
      assert.isFalse(lines.some((line) => line.startsWith("ERROR")), lines.join("\n"))
      for (const line of lines) assert.notInclude(line, code)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a failed exchange is logged as an error, without the code", () => {
    const { layer, lines, stub } = setup({ api_query_auth: () => Effect.succeed({ json: { errcode: 61004, errmsg: "access clientip is not registered rid: 1" } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      yield* settle
      assert.strictEqual(stub.count("send"), 0)
      const error = lines.find((line) => line.startsWith("ERROR release check: the QUERY_AUTH_CODE case"))
      assert.isDefined(error, lines.join("\n"))
      assert.include(error, "61004")
      for (const line of lines) assert.notInclude(line, code)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a code refused with nothing stored for the account is logged as an error, and nothing is sent", () => {
    const { layer, lines, stub } = setup({ api_query_auth: () => Effect.succeed({ json: { errcode: 61010, errmsg: "code is expired rid: 1" } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      yield* settle
      assert.strictEqual(stub.count("send"), 0)
      assert.isDefined(lines.find((line) => line.startsWith("ERROR release check: the QUERY_AUTH_CODE case")), lines.join("\n"))
      for (const line of lines) assert.notInclude(line, code)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a failed customer-service message is logged as an error", () => {
    const { layer, lines } = setup({ send: () => Effect.succeed({ json: { errcode: 45015, errmsg: "response out of time limit rid: 1" } }) })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      yield* settle
      assert.isTrue(lines.some((line) => line.startsWith("ERROR release check") && line.includes("45015")), lines.join("\n"))
    }).pipe(Effect.provide(layer))
  })

  it.effect("every other message of a test account, and every message of another account, goes to the platform's handler", () => {
    const { layer, stub } = setup()
    return Effect.gen(function*() {
      assert.strictEqual(replyOf((yield* AccountPush.receive(testAccount, sealMessage(textXml("hello")))).body), "yours: hello")
      for (const text of ["TESTCOMPONENT_MSG_TYPE_TEXT", `QUERY_AUTH_CODE:${code}`]) {
        assert.strictEqual(replyOf((yield* AccountPush.receive(account, sealMessage(textXml(text)))).body), `yours: ${text}`)
      }
      assert.strictEqual((yield* AccountPush.receive(account, sealMessage(eventXml("subscribe")))).body, "")
      yield* settle
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("the spans of the receiver and the background step name the accounts, never the code or a token", () => {
    const { layer } = setup()
    const tracer = recordingTracer()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* AccountPush.receive(testAccount, sealMessage(textXml(`QUERY_AUTH_CODE:${code}`)))
      yield* settle
      const names = tracer.spans.map((span) => span.name)
      for (const name of ["AccountPush.receive", "ReleaseCheck.answerAuthCode", "Authorization.exchange", "CustomerMessage.sendText"]) {
        assert.include(names, name)
      }
      const receive = tracer.spans.find((span) => span.name === "AccountPush.receive")!
      assert.strictEqual(receive.attributes.get("wechat.authorizer_appid"), testAccount)
      assert.strictEqual(receive.attributes.get("wechat.msg_type"), "text")
      for (const span of tracer.spans) {
        for (const value of span.attributes.values()) {
          for (const secret of [code, "at-test-account", "rt-test-account", "token-1"]) assert.notInclude(String(value), secret, span.name)
        }
      }
    }).pipe(Effect.provide(Layer.merge(layer, tracer.layer)))
  })

  it("knows the test accounts of all five groups WeChat documents", () => {
    assert.strictEqual(ReleaseCheck.testAccounts.length, 10)
    assert.isTrue(ReleaseCheck.isTestAccount("wx570bc396a51b8ff8"))
    assert.isTrue(ReleaseCheck.isTestAccount("wxd101a85aa106f53e"))
    assert.isFalse(ReleaseCheck.isTestAccount(account))
  })
})
