import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import {
  AccountPush,
  AuthorizerToken,
  ComponentConfig,
  ComponentToken,
  PassiveReply,
  ReleaseCheck,
  RetryPolicy,
  TokenStore,
  WeChatClient
} from "@wxopen/core"
import { Effect, Layer, Redacted, Schedule, type Scope } from "effect"
import { createServer } from "node:http"
import type * as MockServer from "../src/MockServer.js"
import { appId, component, miniProgram, officialAccount, withMock } from "./utils.js"

// A real wxopen receiver on a socket, the mock pushing authorized accounts' messages to it as WeChat does: its
// encrypted replies must verify at the mock, and the mock's release check must pass against ReleaseCheck.handler.

/** The mock, and a platform serving the accounts' message URL with `onMessage`, the mock pointed at it. */
const setup = (onMessage: ReleaseCheck.Handler<ReleaseCheck.Requirements | Scope.Scope>) =>
  Effect.gen(function*() {
    const mock = yield* withMock()
    const services = AuthorizerToken.layer.pipe(
      Layer.provideMerge(ComponentToken.layer),
      Layer.provideMerge(WeChatClient.layer().pipe(Layer.provide(RetryPolicy.layer(Schedule.stop)))),
      Layer.provideMerge(ComponentConfig.layer({
        appId,
        appSecret: Redacted.make(component.appSecret),
        apiBaseUrl: mock.url,
        messageToken: Redacted.make(component.token),
        encodingAesKey: Redacted.make(component.encodingAesKey)
      })),
      Layer.provideMerge(TokenStore.layerMemory),
      Layer.provideMerge(NodeHttpClient.layerUndici)
    )
    const platform = HttpRouter.empty.pipe(
      HttpRouter.post("/wechat/accounts/:appid/messages", AccountPush.httpApp),
      HttpServer.serve(),
      Layer.provide(AccountPush.layer({ onMessage })),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
      Layer.provideMerge(services)
    )
    const context = yield* Layer.build(platform)
    const address = (yield* HttpServer.HttpServer.pipe(Effect.provide(context))).address
    const port = address._tag === "TcpAddress" ? address.port : 0
    yield* Effect.promise(() => mock.admin.setMessageUrl(appId, `http://127.0.0.1:${port}/wechat/accounts/$APPID$/messages`))
    const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
    yield* ComponentToken.storeTicket(Redacted.make(ticket)).pipe(Effect.provide(context))
    return { mock, port }
  })

const authorize = (mock: MockServer.RunningMock, authorizerAppId: string) =>
  Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId }))

const push = (mock: MockServer.RunningMock, authorizerAppId: string, message: Record<string, string | number>) =>
  Effect.promise(() => mock.admin.pushMessage(appId, authorizerAppId, message))

describe("AccountPush against the mock, over real sockets", () => {
  it.live("a text is answered with an encrypted reply that verifies at the mock, addressed back to the user", () =>
    Effect.gen(function*() {
      const { mock } = yield* setup((message, authorizerAppId) =>
        Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text(`${authorizerAppId} heard: ${message.content}`) : undefined)
      )
      yield* authorize(mock, officialAccount.appId)
      const delivery = yield* push(mock, officialAccount.appId, { MsgType: "text", Content: "hello" })
      assert.strictEqual(delivery.status, 200, JSON.stringify(delivery))
      const reply = delivery.reply
      assert.isTrue(reply?.kind === "encrypted" && reply.verified, JSON.stringify(delivery))
      if (reply?.kind === "encrypted" && reply.verified) {
        assert.strictEqual(reply.fields.MsgType, "text")
        assert.strictEqual(reply.fields.Content, `${officialAccount.appId} heard: hello`)
        assert.strictEqual(reply.fields.ToUserName, delivery.message.FromUserName)
      }
      assert.include(delivery.url, `/wechat/accounts/${officialAccount.appId}/messages`)
    }).pipe(Effect.scoped))

  // The mock reads fields without joining split CDATA sections, so the decrypted XML is checked: the content is in
  // sections that an XML parser joins back (core's PassiveReply tests parse it), and the injection changed no field.
  it.live("content that closes its CDATA stays inside its element at the mock", () =>
    Effect.gen(function*() {
      const hostile = "a]]></Content><MsgType><![CDATA[news]]></MsgType><Content><![CDATA[b"
      const { mock } = yield* setup(() => Effect.succeed(PassiveReply.text(hostile)))
      yield* authorize(mock, officialAccount.appId)
      const delivery = yield* push(mock, officialAccount.appId, { MsgType: "text", Content: "x" })
      const reply = delivery.reply
      assert.isTrue(reply?.kind === "encrypted" && reply.verified, JSON.stringify(delivery))
      if (reply?.kind === "encrypted" && reply.verified) {
        assert.include(reply.xml, `<Content>${PassiveReply.cdata(hostile)}</Content></xml>`)
        assert.strictEqual(reply.fields.MsgType, "text")
      }
    }).pipe(Effect.scoped))

  it.live("an event the handler does not answer, and a kind wxopen does not type, are answered with an empty body", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const { mock } = yield* setup((message) => Effect.sync(() => void seen.push(message._tag)))
      yield* authorize(mock, miniProgram.appId)
      for (const message of [{ MsgType: "event", Event: "subscribe" }, { MsgType: "event", Event: "weapp_audit_success", SuccTime: 1 }]) {
        const delivery = yield* push(mock, miniProgram.appId, message)
        assert.strictEqual(delivery.reply?.kind, "empty", JSON.stringify(delivery))
      }
      assert.deepStrictEqual(seen, ["SubscribeEvent", "OtherMessage"])
    }).pipe(Effect.scoped))
})

describe("ReleaseCheck.handler passes the mock's release check", () => {
  for (const kind of ["officialAccount", "miniProgram"] as const) {
    it.live(`as ${kind}: every case passes`, () =>
      Effect.gen(function*() {
        const { mock } = yield* setup(ReleaseCheck.handler())
        const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId, { kind, waitSeconds: 20 }))
        assert.isTrue(report.passed, JSON.stringify(report, null, 2))
        assert.isAbove(report.cases.length, 0)
        for (const c of report.cases) assert.isTrue(c.passed, JSON.stringify(c))
        const sent = yield* Effect.promise(() => mock.admin.customerMessages(report.authorizerAppId))
        assert.strictEqual(sent.length, 1)
      }).pipe(Effect.scoped), 60_000)
  }
})
