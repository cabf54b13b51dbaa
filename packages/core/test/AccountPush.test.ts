import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FiberId, Layer, Logger, Option, TestClock } from "effect"
import * as AccountMessage from "../src/AccountMessage.js"
import * as AccountPush from "../src/AccountPush.js"
import * as PassiveReply from "../src/PassiveReply.js"
import {
  account,
  encodingAesKey,
  eventXml,
  makeLayer,
  makeStub,
  messageToken,
  noRetries,
  openReply,
  sealMessage,
  settle,
  textXml
} from "./utils.js"

const receiver = <R = never>(options: AccountPush.Options<R> = {}) =>
  Layer.provideMerge(AccountPush.layer(options), makeLayer(makeStub(), {}, noRetries))

const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message, annotations }) => {
    lines.push(`${logLevel.label} ${JSON.stringify(message)} ${JSON.stringify([...annotations])}`)
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

describe("AccountPush.receive", () => {
  it.effect("a handler's text reply is encrypted for the component, signed, and addressed back to the user", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1700000500 seconds")
      const answer = yield* AccountPush.receive(account, sealMessage(textXml("hi")))
      assert.strictEqual(answer.message._tag, "TextMessage")
      const { envelope, reply } = openReply(answer.body)
      assert.strictEqual(envelope.TimeStamp, "1700000500")
      assert.deepStrictEqual(reply, {
        ToUserName: "o-user-1",
        FromUserName: "gh_account",
        CreateTime: "1700000500",
        MsgType: "text",
        Content: `${account} said hi`
      })
    }).pipe(Effect.provide(receiver({
      onMessage: (message, appid) =>
        Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text(`${appid} said ${message.content}`) : undefined)
    }))))

  it.effect("a reply whose content closes its CDATA arrives at the user as written", () =>
    Effect.gen(function*() {
      const hostile = "]]></Content><MsgType>news</MsgType><Content><![CDATA["
      const answer = yield* AccountPush.receive(account, sealMessage(textXml("x")))
      const { reply } = openReply(answer.body)
      assert.strictEqual(reply.Content, hostile)
      assert.strictEqual(reply.MsgType, "text")
    }).pipe(Effect.provide(receiver({ onMessage: () => Effect.succeed(PassiveReply.text("]]></Content><MsgType>news</MsgType><Content><![CDATA[")) }))))

  it.effect("no handler, or a handler that answers nothing: an empty body", () =>
    Effect.gen(function*() {
      const answer = yield* AccountPush.receive(account, sealMessage(eventXml("subscribe")))
      assert.strictEqual(answer.body, "")
      assert.strictEqual(answer.message._tag, "SubscribeEvent")
      assert.isUndefined(answer.reply)
    }).pipe(Effect.provide(receiver({ onMessage: () => Effect.void }))))

  it.effect("an unknown kind reaches the handler as OtherMessage", () => {
    const seen: Array<string> = []
    return Effect.gen(function*() {
      yield* AccountPush.receive(account, sealMessage(eventXml("weapp_audit_success")))
      assert.deepStrictEqual(seen, ["OtherMessage:weapp_audit_success"])
    }).pipe(Effect.provide(receiver({
      onMessage: (message) => Effect.sync(() => void seen.push(`${message._tag}:${AccountMessage.eventOf(message)}`))
    })))
  })

  it.effect("a failing handler, or a reply WeChat would refuse, is logged and answered with an empty body", () => {
    const { layer, lines } = capture()
    return Effect.gen(function*() {
      assert.strictEqual((yield* AccountPush.receive(account, sealMessage(textXml("fail")))).body, "")
      assert.strictEqual((yield* AccountPush.receive(account, sealMessage(textXml("empty")))).body, "")
      assert.isTrue(lines.some((l) => l.includes("the handler of a text message to wxfedcba9876543210 failed")), lines.join("\n"))
      assert.isTrue(lines.some((l) => l.includes("the handler's reply cannot be sent")), lines.join("\n"))
    }).pipe(Effect.provide(Layer.merge(receiver({
      onMessage: (message) =>
        message._tag === "TextMessage" && message.content === "fail" ? Effect.fail("broken") : Effect.succeed(PassiveReply.text(""))
    }), layer)))
  })

  it.effect("a handler past its budget: an empty body when the budget ends, the handler goes on, its reply dropped", () => {
    const finished = Deferred.unsafeMake<void>(FiberId.none)
    const { layer, lines } = capture()
    return Effect.gen(function*() {
      const receiving = yield* Effect.fork(AccountPush.receive(account, sealMessage(textXml("slow"))))
      yield* settle
      yield* TestClock.adjust("3999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(receiving)))
      yield* TestClock.adjust("1 millis")
      const answer = yield* Fiber.join(receiving)
      assert.strictEqual(answer.body, "")
      assert.isFalse(yield* Deferred.isDone(finished))
      assert.isTrue(lines.some((l) => l.includes("still running after 4s")), lines.join("\n"))
      yield* TestClock.adjust("6 seconds")
      yield* Deferred.await(finished)
    }).pipe(Effect.provide(Layer.merge(receiver({
      onMessage: () =>
        Effect.sleep("10 seconds").pipe(Effect.zipRight(Deferred.succeed(finished, undefined)), Effect.as(PassiveReply.text("late")))
    }), layer)))
  })

  it.effect("a shorter budget is taken; one over 4 s is refused", () =>
    Effect.gen(function*() {
      const receiving = yield* Effect.fork(AccountPush.receive(account, sealMessage(textXml("x"))))
      yield* settle
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(receiving)).body, "")
      const error = yield* Effect.flip(Layer.build(receiver({ handlerBudget: "4001 millis" })))
      assert.include(String(error), "handlerBudget")
    }).pipe(Effect.scoped, Effect.provide(receiver({ handlerBudget: "1 second", onMessage: () => Effect.never }))))

  describe("refuses what is not an authentic message", () => {
    const good = sealMessage(textXml("x"))
    const forged = { query: new URLSearchParams(good.query), body: good.body }
    forged.query.set("msg_signature", "0".repeat(40))
    const cases: ReadonlyArray<readonly [string, string, AccountPush.Delivery, string, number]> = [
      ["a forged signature", account, forged, "BadSignature", 403],
      ["a message sealed for another component", account, sealMessage(textXml("x"), { forAppId: "wxaaaaaaaaaaaaaaaa" }), "WrongAppId", 403],
      ["a path whose appid is not one", "$APPID$", good, "InvalidAppId", 400],
      ["no msg_signature", account, { query: new URLSearchParams({ timestamp: "1", nonce: "2" }), body: good.body }, "MissingParameter", 400],
      ["no Encrypt", account, { query: good.query, body: "<xml><ToUserName>gh</ToUserName></xml>" }, "MalformedEnvelope", 400],
      ["an authentic payload that is no message", account, sealMessage("<xml><Content>x</Content></xml>"), "UnexpectedShape", 400]
    ]
    for (const [name, appid, delivery, reason, status] of cases) {
      it.effect(`${name}: ${reason}, HTTP ${status}, the handler not run`, () => {
        let ran = 0
        return Effect.gen(function*() {
          const error = yield* Effect.flip(AccountPush.receive(appid, delivery))
          assert.strictEqual(error.reason, reason)
          assert.strictEqual(AccountPush.statusOf(error), status)
          assert.strictEqual(ran, 0)
        }).pipe(Effect.provide(receiver({ onMessage: () => Effect.sync(() => void ran++) })))
      })
    }
  })

  it.effect("logs name the kind and the account, never the content, the token or the key", () => {
    const { layer, lines } = capture()
    return Effect.gen(function*() {
      yield* AccountPush.receive(account, sealMessage(textXml("QUERY_AUTH_CODE:queryauthcode@@@private")))
      const forged = sealMessage(textXml("QUERY_AUTH_CODE:queryauthcode@@@private"))
      forged.query.set("msg_signature", "0".repeat(40))
      yield* Effect.flip(AccountPush.receive(account, forged))
      assert.isAbove(lines.length, 1)
      for (const line of lines) {
        for (const secret of ["queryauthcode@@@private", messageToken, encodingAesKey]) assert.notInclude(line, secret)
      }
    }).pipe(Effect.provide(Layer.merge(receiver({ onMessage: () => Effect.fail("no") }), layer)))
  })
})

describe("AccountPush.httpApp", () => {
  const router = HttpRouter.empty.pipe(HttpRouter.post("/wechat/accounts/:appid/messages", AccountPush.httpApp))
  const post = (path: string, delivery: { readonly query: URLSearchParams; readonly body: string }) =>
    Effect.gen(function*() {
      const request = HttpServerRequest.fromWeb(
        new Request(`http://receiver.test${path}?${delivery.query}`, { method: "POST", body: delivery.body })
      )
      const response = HttpServerResponse.toWeb(
        yield* router.pipe(Effect.provideService(HttpServerRequest.HttpServerRequest, request))
      )
      return { status: response.status, type: response.headers.get("content-type"), text: yield* Effect.promise(() => response.text()) }
    })

  it.effect("reads the appid from the path and answers the encrypted reply as XML", () =>
    Effect.gen(function*() {
      const answer = yield* post(`/wechat/accounts/${account}/messages`, sealMessage(textXml("hi")))
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(answer.type, "application/xml")
      assert.strictEqual(openReply(answer.text).reply.Content, `to ${account}`)
    }).pipe(Effect.provide(receiver({ onMessage: (_, appid) => Effect.succeed(PassiveReply.text(`to ${appid}`)) }))))

  it.effect("answers an empty body, 403 for a forgery, 400 for a path without an appid, 413 past 64 KiB", () =>
    Effect.gen(function*() {
      const good = sealMessage(eventXml("unsubscribe"))
      assert.deepStrictEqual((yield* post(`/wechat/accounts/${account}/messages`, good)).text, "")
      const forged = { query: new URLSearchParams(good.query), body: good.body }
      forged.query.set("msg_signature", "0".repeat(40))
      assert.strictEqual((yield* post(`/wechat/accounts/${account}/messages`, forged)).status, 403)
      const noAppId = yield* post(`/wechat/accounts/wxNOTANAPPID/messages`, good)
      assert.strictEqual(noAppId.status, 400)
      assert.include(noAppId.text, "invalid appid")
      const large = { query: good.query, body: good.body + " ".repeat(64 * 1024) }
      assert.strictEqual((yield* post(`/wechat/accounts/${account}/messages`, large)).status, 413)
    }).pipe(Effect.provide(receiver())))
})
