import { assert, describe, it } from "@effect/vitest"
import { MessageCrypto } from "@wxopen/core"
import { Effect, Either, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as MockServer from "../src/MockServer.js"
import { defaults } from "../src/MockConfig.js"
import { crypto, startPlatform, textReply } from "./platform.js"
import { accountCall, appId, authorizeAccount, component, errcodeOf, miniProgram, officialAccount, startReceiver, withMock } from "./utils.js"

const adminError = (work: Promise<unknown>) =>
  Effect.promise(() => work.then(() => "succeeded", (error: Error) => error.message))

describe("account messages", () => {
  it.live("a text message goes to the message URL encrypted and signed as WeChat does; the encrypted reply is verified", () =>
    Effect.gen(function*() {
      const platform = yield* startPlatform((received) => ({ reply: textReply(received, `echo: ${received.fields.Content}`) }))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const delivery = yield* Effect.promise(() =>
        mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "text", Content: "你好", FromUserName: "oFan1" })
      )
      const [received] = platform.received
      assert.strictEqual(received!.path, `/messages/${officialAccount.appId}/callback`)
      assert.isUndefined(received!.error)
      const query = received!.query
      assert.deepStrictEqual([...query.keys()].sort(), ["encrypt_type", "msg_signature", "nonce", "openid", "signature", "timestamp"])
      assert.strictEqual(query.get("encrypt_type"), "aes")
      assert.strictEqual(query.get("openid"), "oFan1")
      const plainSignature = Crypto.createHash("sha1")
        .update([component.token, query.get("timestamp")!, query.get("nonce")!].sort().join(""))
        .digest("hex")
      assert.strictEqual(query.get("signature"), plainSignature)
      assert.match(received!.body, /^<xml><ToUserName><!\[CDATA\[gh_[0-9a-f]{12}\]\]><\/ToUserName><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><\/xml>$/)
      const fields = received!.fields
      assert.strictEqual(fields.ToUserName, `gh_${officialAccount.appId.slice(-12)}`)
      assert.strictEqual(fields.FromUserName, "oFan1")
      assert.strictEqual(fields.MsgType, "text")
      assert.strictEqual(fields.Content, "你好")
      assert.match(fields.CreateTime!, /^\d{10}$/)
      assert.match(fields.MsgId!, /^\d+$/)

      assert.strictEqual(delivery.status, 200)
      assert.strictEqual(delivery.url, `${platform.messageUrl.replace("$APPID$", officialAccount.appId)}`)
      const reply = delivery.reply!
      assert.strictEqual(reply.kind, "encrypted")
      if (reply.kind !== "encrypted" || !reply.verified) return assert.fail(`not verified: ${JSON.stringify(reply)}`)
      assert.strictEqual(reply.fields.Content, "echo: 你好")
      assert.strictEqual(reply.fields.ToUserName, "oFan1")
      assert.strictEqual(reply.fields.MsgType, "text")
    }).pipe(Effect.scoped))

  it.live("an event carries no MsgId; success and an empty answer are read as such", () =>
    Effect.gen(function*() {
      let n = 0
      const platform = yield* startPlatform(() => ({ raw: n++ === 0 ? "success" : "" }))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const first = yield* Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "event", Event: "subscribe" }))
      const second = yield* Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "event", Event: "unsubscribe" }))
      assert.deepStrictEqual(first.reply, { kind: "success" })
      assert.deepStrictEqual(second.reply, { kind: "empty" })
      assert.isUndefined(platform.received[0]!.fields.MsgId)
      assert.strictEqual(platform.received[0]!.fields.Event, "subscribe")
      // Without FromUserName, the account's default user sends.
      assert.match(platform.received[0]!.fields.FromUserName!, /^o[A-Za-z0-9_-]{27}$/)
    }).pipe(Effect.scoped))

  it.live("a reply with a bad signature, for another appid, or not encrypted fails verification, saying why", () =>
    Effect.gen(function*() {
      const other = Either.getOrThrow(MessageCrypto.make({
        appId: "wx00000000000000aa",
        token: Redacted.make(component.token),
        encodingAesKey: Redacted.make(component.encodingAesKey)
      }))
      const answers = [
        (r: Parameters<typeof textReply>[0]) => ({ reply: textReply(r, "x"), badSignature: true }),
        (r: Parameters<typeof textReply>[0]) => ({ reply: textReply(r, "x"), with: other }),
        () => ({ raw: "<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[plain]]></Content></xml>" })
      ]
      let n = 0
      const platform = yield* startPlatform((received) => answers[n++]!(received))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const replies = []
      for (let i = 0; i < answers.length; i++) {
        replies.push((yield* Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "text", Content: "hi" }))).reply)
      }
      const [badSignature, otherAppId, plain] = replies as Array<any>
      assert.strictEqual(badSignature.kind, "encrypted")
      assert.strictEqual(badSignature.verified, false)
      assert.match(badSignature.error, /signature/i)
      assert.strictEqual(otherAppId.verified, false)
      assert.include(otherAppId.error, "wx00000000000000aa")
      assert.strictEqual(plain.kind, "unencrypted")
      assert.strictEqual(plain.fields.Content, "plain")
      assert.isDefined(crypto)
    }).pipe(Effect.scoped))

  it.live("a redirect is reported, not followed", () =>
    Effect.gen(function*() {
      const platform = yield* startPlatform(() => ({ raw: "", status: 302, headers: { location: "http://127.0.0.1:1/elsewhere" } }))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const delivery = yield* Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "text", Content: "hi" }))
      assert.strictEqual(delivery.status, 302)
      assert.isUndefined(delivery.reply)
      assert.strictEqual(platform.received.length, 1)
    }).pipe(Effect.scoped))

  it.live("no answer within 5 seconds is reported as such", () =>
    Effect.gen(function*() {
      const platform = yield* startPlatform(() => ({ hang: true }))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const delivery = yield* Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "text", Content: "hi" }))
      assert.strictEqual(delivery.error, "no answer within WeChat's 5 seconds")
      assert.isAtLeast(delivery.elapsedMs, 4_900)
    }).pipe(Effect.scoped), 30_000)

  it.live("the admin API refuses what WeChat would not push", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const push = (authorizerAppId: string, message: unknown) =>
        adminError(fetch(`${mock.url}/__admin/components/${appId}/messages`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ authorizerAppId, message })
        }).then(async (response) => {
          if (!response.ok) throw new Error(`${response.status} ${await response.text()}`)
        }))
      assert.match(yield* push(officialAccount.appId, { MsgType: "text", Content: "hi" }), /^400 .*has not authorized/)
      yield* authorizeAccount(mock, officialAccount.appId)
      assert.match(yield* push(officialAccount.appId, { MsgType: "text", Content: "hi" }), /^400 .*no messageUrl/)
      assert.match(yield* push(officialAccount.appId, { Content: "hi" }), /^400 .*MsgType is required/)
      assert.match(yield* push(officialAccount.appId, { MsgType: "text", Content: { nested: 1 } }), /^400 .*string or a number/)
      assert.match(yield* push(officialAccount.appId, { MsgType: "text", ToUserName: "gh_x" }), /^400 .*the mock sets it/)
    }).pipe(Effect.scoped))

  it.live("messageUrl is checked as pushUrl is: in the configuration and by PUT message-url", () =>
    Effect.gen(function*() {
      const started = yield* Effect.promise(() =>
        MockServer.start({ config: { ...defaults, components: [{ ...component, messageUrl: "https://platform.example.com/$APPID$/callback" }] } })
          .then((mock) => mock.close().then(() => "started"), (error: Error) => error.message)
      )
      assert.match(started, /components\.0\.messageUrl: pushes go only to this machine/)
      const mock = yield* withMock({ pushHosts: ["platform.internal"] })
      assert.match(yield* adminError(mock.admin.setMessageUrl(appId, "http://203.0.113.9/$APPID$")), /HTTP 400 .*pushes go only to this machine/)
      assert.strictEqual(yield* adminError(mock.admin.setMessageUrl(appId, "http://platform.internal/$APPID$/callback")), "succeeded")
      const state = yield* Effect.promise(() => mock.admin.state())
      assert.strictEqual((state.components[0] as { messageUrl?: string }).messageUrl, "http://platform.internal/$APPID$/callback")
    }).pipe(Effect.scoped))
})

describe("large answers", () => {
  it.live("of a 5 MB answer the mock reads 64 KiB, keeps those, and reports the cut; 64 KiB exactly is read whole", () =>
    Effect.gen(function*() {
      let size = 5 * 1024 * 1024
      const platform = yield* startPlatform(() => ({ raw: "x".repeat(size) }))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const push = () => Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "event", Event: "subscribe" }))
      const delivery = yield* push()
      assert.strictEqual(delivery.status, 200)
      assert.strictEqual(delivery.bodyTruncated, true)
      assert.strictEqual(delivery.body, "x".repeat(64 * 1024))
      assert.deepStrictEqual(delivery.reply, { kind: "other", error: "the answer is longer than 64 KiB: the mock read no further" })
      size = 64 * 1024
      const whole = yield* push()
      assert.isUndefined(whole.bodyTruncated)
      assert.strictEqual(whole.body?.length, 64 * 1024)
    }).pipe(Effect.scoped))

  it.live("a push answered with 5 MB records the cut and its first 200 characters", () =>
    Effect.gen(function*() {
      const receiver = yield* startReceiver(() => "y".repeat(5 * 1024 * 1024))
      const mock = yield* withMock({ components: [{ ...component, pushUrl: receiver.url }], pushRetryDelaysMs: [] })
      const { push } = yield* Effect.promise(() => mock.admin.pushTicket(appId))
      assert.isFalse(push!.delivered)
      assert.deepStrictEqual(push!.attempts.map((a) => [a.status, a.answer, a.answerTruncated]), [[200, "y".repeat(200), true]])
    }).pipe(Effect.scoped))
})

describe("push destinations", () => {
  it.live("a URL with a fragment or whitespace is refused, in the configuration and by PUT message-url and push-url", () =>
    Effect.gen(function*() {
      for (const field of ["messageUrl", "pushUrl"] as const) {
        for (const url of ["http://127.0.0.1:9/m/$APPID$?x=1#frag", "http://127.0.0.1:9/m/$APPID$ x"]) {
          const started = yield* Effect.promise(() =>
            MockServer.start({ config: { ...defaults, components: [{ ...component, [field]: url }] } })
              .then((mock) => mock.close().then(() => "started"), (error: Error) => error.message)
          )
          assert.match(started, new RegExp(`components\\.0\\.${field}: an absolute http\\(s\\) URL, without whitespace or a fragment`))
        }
      }
      const mock = yield* withMock()
      for (const url of ["http://127.0.0.1:9/m/$APPID$?x=1#frag", "http://127.0.0.1:9/m/$APPID$ x"]) {
        assert.match(
          yield* adminError(mock.admin.setMessageUrl(appId, url)),
          /HTTP 400 .*messageUrl must be an absolute http\(s\) URL, without whitespace or a fragment/
        )
        assert.match(
          yield* adminError(mock.admin.setPushUrl(appId, url.replace("$APPID$", "p"))),
          /HTTP 400 .*pushUrl must be an absolute http\(s\) URL, without whitespace or a fragment/
        )
      }
      const state = yield* Effect.promise(() => mock.admin.state())
      assert.isUndefined((state.components[0] as { messageUrl?: string }).messageUrl)
      assert.isUndefined((state.components[0] as { pushUrl?: string }).pushUrl)
    }).pipe(Effect.scoped))

  it.live("a message URL with a query string gets the signature's parameters after it, once", () =>
    Effect.gen(function*() {
      const platform = yield* startPlatform(() => ({ raw: "success" }))
      const mock = yield* withMock({ components: [{ ...component, messageUrl: `${platform.messageUrl}?x=1&` }] })
      yield* authorizeAccount(mock, officialAccount.appId)
      const push = () => Effect.promise(() => mock.admin.pushMessage(appId, officialAccount.appId, { MsgType: "event", Event: "subscribe" }))
      yield* push()
      yield* Effect.promise(() => mock.admin.setMessageUrl(appId, `${platform.messageUrl}?x=1`))
      yield* push()
      yield* Effect.promise(() => mock.admin.setMessageUrl(appId, `${platform.messageUrl}?`))
      yield* push()
      const searches = platform.received.map((r) => r.search)
      assert.match(searches[0]!, /^\?x=1&signature=[0-9a-f]{40}&timestamp=/)
      assert.match(searches[1]!, /^\?x=1&signature=[0-9a-f]{40}&timestamp=/)
      assert.match(searches[2]!, /^\?signature=[0-9a-f]{40}&timestamp=/)
      for (const received of platform.received) {
        assert.isUndefined(received.error)
        assert.strictEqual(received.query.get("encrypt_type"), "aes")
      }
    }).pipe(Effect.scoped))
})

describe("customer-service messages", () => {
  it.live("an account's message is checked, kept, and listed by the admin API", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const mini = yield* authorizeAccount(mock, miniProgram.appId)
      const send = (token: string, body: unknown) => accountCall(mock, "/cgi-bin/message/custom/send", { token, body })
      const sent = yield* send(accessToken, { touser: "oFan1", msgtype: "text", text: { content: "hello" } })
      assert.deepStrictEqual(sent.body, { errcode: 0, errmsg: "ok" })
      yield* send(mini.accessToken, { touser: "oMini", msgtype: "text", text: { content: "hi mini" } })
      assert.strictEqual(errcodeOf((yield* send(accessToken, { msgtype: "text", text: { content: "x" } })).body), 40003)
      assert.strictEqual(errcodeOf((yield* send(accessToken, { touser: "o", msgtype: "telegram", telegram: {} })).body), 40008)
      assert.strictEqual(errcodeOf((yield* send(accessToken, { touser: "o", msgtype: "text", text: { content: "" } })).body), 44004)
      assert.strictEqual(errcodeOf((yield* send("nope", { touser: "o", msgtype: "text", text: { content: "x" } })).body), 40001)

      const listed = yield* Effect.promise(() => mock.admin.customerMessages(officialAccount.appId))
      assert.strictEqual(listed.length, 1)
      assert.strictEqual(listed[0]!.touser, "oFan1")
      assert.strictEqual(listed[0]!.componentAppId, appId)
      assert.deepStrictEqual(listed[0]!.body, { touser: "oFan1", msgtype: "text", text: { content: "hello" } })
      assert.strictEqual((yield* Effect.promise(() => mock.admin.customerMessages())).length, 2)
      yield* Effect.promise(() => mock.admin.reset())
      assert.strictEqual((yield* Effect.promise(() => mock.admin.customerMessages())).length, 0)
    }).pipe(Effect.scoped))
})
