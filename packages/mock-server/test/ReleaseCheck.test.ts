import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as MockServer from "../src/MockServer.js"
import { type Answer, type Received, startPlatform, textReply } from "./platform.js"
import { appId, component, withMock } from "./utils.js"

/** How the test platform gets things wrong, if it does. */
interface Faults {
  readonly textReply?: string
  readonly eventSuffix?: string
  readonly queryAnswer?: "passive" | "success"
  readonly customText?: (code: string) => string
  readonly skipExchange?: boolean
}

const post = async (url: string, body: unknown) =>
  (await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as Record<
    string,
    any
  >

/** What a platform does with the code: exchanges it, then sends the customer-service message, as the check expects. */
const answerCode = async (mock: MockServer.RunningMock, received: Received, code: string, faults: Faults) => {
  const { ticket } = await mock.admin.ticket(appId)
  const { component_access_token } = await post(`${mock.url}/cgi-bin/component/api_component_token`, {
    component_appid: appId,
    component_appsecret: component.appSecret,
    component_verify_ticket: ticket
  })
  let token = "not-exchanged"
  if (faults.skipExchange !== true) {
    const { authorization_info } = await post(
      `${mock.url}/cgi-bin/component/api_query_auth?component_access_token=${encodeURIComponent(component_access_token)}`,
      { component_appid: appId, authorization_code: code }
    )
    token = authorization_info.authorizer_access_token
  }
  await post(`${mock.url}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`, {
    touser: received.fields.FromUserName,
    msgtype: "text",
    text: { content: (faults.customText ?? ((c: string) => `${c}_from_api`))(code) }
  })
}

/** A platform that answers the release check (rightly, but for `faults`). */
const platformFor = (mock: () => MockServer.RunningMock, faults: Faults = {}) =>
  startPlatform((received): Answer => {
    const { Content, Event, MsgType } = received.fields
    if (MsgType === "event") return { reply: textReply(received, `${Event}${faults.eventSuffix ?? "from_callback"}`) }
    if (Content === "TESTCOMPONENT_MSG_TYPE_TEXT") return { reply: textReply(received, faults.textReply ?? "TESTCOMPONENT_MSG_TYPE_TEXT_callback") }
    if (Content?.startsWith("QUERY_AUTH_CODE:")) {
      void answerCode(mock(), received, Content.slice("QUERY_AUTH_CODE:".length), faults).catch(() => {})
      return faults.queryAnswer === "passive"
        ? { reply: textReply(received, "ok") }
        : { raw: faults.queryAnswer === "success" ? "success" : "" }
    }
    return { raw: "success" }
  })

/** A mock whose component's message URL is a test platform with `faults`. */
const setUp = (faults: Faults = {}) =>
  Effect.gen(function*() {
    let mock: MockServer.RunningMock | undefined
    const platform = yield* platformFor(() => mock!, faults)
    mock = yield* withMock({ components: [{ ...component, messageUrl: platform.messageUrl }] })
    return { mock, platform }
  })

describe("release check", () => {
  it.live("a platform that answers rightly passes every case of the Official Account", () =>
    Effect.gen(function*() {
      const { mock, platform } = yield* setUp()
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId))
      assert.isTrue(report.passed, JSON.stringify(report, null, 2))
      assert.deepStrictEqual(report.cases.map((c) => c.name), ["text: TESTCOMPONENT_MSG_TYPE_TEXT", "api: QUERY_AUTH_CODE", "event: LOCATION"])
      assert.strictEqual(report.authorizerAppId, "wx570bc396a51b8ff8")
      // WeChat's test account, with its original id.
      assert.strictEqual(platform.received[0]!.path, "/messages/wx570bc396a51b8ff8/callback")
      assert.strictEqual(platform.received[0]!.fields.ToUserName, "gh_3c884a361561")
      assert.strictEqual(platform.received[2]!.fields.Event, "LOCATION")
      assert.include(report.cases[1]!.received, "<auth_code>_from_api")
      // The code itself never appears in the report.
      const code = platform.received[1]!.fields.Content!.slice("QUERY_AUTH_CODE:".length)
      assert.notInclude(JSON.stringify(report), code)
      // The test account is authorized, as WeChat does, but is not one of the configured accounts.
      const state = yield* Effect.promise(() => mock.admin.state())
      assert.isDefined(state.authorizations[`${appId}:wx570bc396a51b8ff8`])
      assert.notInclude(state.authorizers.map((a) => a.appId), "wx570bc396a51b8ff8")
      assert.strictEqual((yield* Effect.promise(() => mock.admin.customerMessages("wx570bc396a51b8ff8"))).length, 1)
    }).pipe(Effect.scoped))

  it.live("the code in the customer-service text shows masked in the journal and the admin list", () =>
    Effect.gen(function*() {
      const { mock, platform } = yield* setUp()
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId, { kind: "miniProgram" }))
      assert.isTrue(report.passed, JSON.stringify(report, null, 2))
      const code = platform.received[0]!.fields.Content!.slice("QUERY_AUTH_CODE:".length)
      assert.match(code, /^queryauthcode@@@/)
      const [entry] = yield* Effect.promise(() => mock.admin.journal({ endpoint: "/cgi-bin/message/custom/send" }))
      assert.deepStrictEqual((entry!.body as { text: unknown }).text, { content: "***_from_api" })
      const [sent] = yield* Effect.promise(() => mock.admin.customerMessages(report.authorizerAppId))
      assert.deepStrictEqual(sent!.body.text, { content: "***_from_api" })
      const everything = JSON.stringify(yield* Effect.promise(() => Promise.all([mock.admin.journal(), mock.admin.customerMessages()])))
      assert.notInclude(everything, code)
    }).pipe(Effect.scoped))

  it.live("the Mini Program's check is the customer-service case, and passes", () =>
    Effect.gen(function*() {
      const { mock, platform } = yield* setUp()
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId, { kind: "miniProgram" }))
      assert.isTrue(report.passed, JSON.stringify(report, null, 2))
      assert.deepStrictEqual(report.cases.map((c) => c.name), ["api: QUERY_AUTH_CODE"])
      assert.strictEqual(platform.received[0]!.fields.ToUserName, "gh_8dad206e9538")
    }).pipe(Effect.scoped))

  it.live("a wrong text reply fails that case only, with what was expected and what came back", () =>
    Effect.gen(function*() {
      const { mock } = yield* setUp({ textReply: "TESTCOMPONENT_MSG_TYPE_TEXT" })
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId))
      assert.isFalse(report.passed)
      assert.deepStrictEqual(report.cases.map((c) => c.passed), [false, true, true])
      const [text] = report.cases
      assert.include(text!.expected, `Content "TESTCOMPONENT_MSG_TYPE_TEXT_callback"`)
      assert.include(text!.received, `an encrypted text reply`)
      assert.include(text!.received, `Content "TESTCOMPONENT_MSG_TYPE_TEXT"`)
      assert.strictEqual(text!.detail, "the Content differs")
    }).pipe(Effect.scoped))

  it.live("a wrong event reply fails the event case only", () =>
    Effect.gen(function*() {
      const { mock } = yield* setUp({ eventSuffix: "_from_callback" })
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId))
      assert.deepStrictEqual(report.cases.map((c) => c.passed), [true, true, false])
      assert.include(report.cases[2]!.expected, `"LOCATIONfrom_callback"`)
      assert.include(report.cases[2]!.received, `"LOCATION_from_callback"`)
    }).pipe(Effect.scoped))

  it.live("a wrong customer-service text fails the api case only, saying what was sent", () =>
    Effect.gen(function*() {
      const { mock } = yield* setUp({ customText: (code) => `${code}from_api` })
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId, { waitSeconds: 1 }))
      assert.deepStrictEqual(report.cases.map((c) => c.passed), [true, false, true])
      const api = report.cases[1]!
      assert.include(api.expected, `"<auth_code>_from_api"`)
      assert.include(api.received, "the code exchanged")
      assert.include(api.received, `"<auth_code>from_api"`)
      assert.match(api.detail, /^no customer-service text "<auth_code>_from_api" to o[\w-]+ within 1 s$/)
    }).pipe(Effect.scoped))

  it.live("a passive reply to QUERY_AUTH_CODE, or no exchange of the code, fails the api case", () =>
    Effect.gen(function*() {
      const passive = yield* setUp({ queryAnswer: "passive" })
      const first = yield* Effect.promise(() => passive.mock.admin.releaseCheck(passive.mock.config.components[0]!.appId, { waitSeconds: 1 }))
      assert.deepStrictEqual(first.cases.map((c) => c.passed), [true, false, true])
      assert.match(first.cases[1]!.detail, /^the first answer must be an empty body \(""\), at once/)
      assert.match(first.cases[1]!.received, /^"<xml><Encrypt>.*\(an encrypted text reply to o[\w-]+: Content "ok"\)$/)

      const lazy = yield* setUp({ skipExchange: true })
      const second = yield* Effect.promise(() => lazy.mock.admin.releaseCheck(appId, { waitSeconds: 1 }))
      assert.deepStrictEqual(second.cases.map((c) => c.passed), [true, false, true])
      assert.strictEqual(second.cases[1]!.detail, "api_query_auth was not called with the code within 1 s")
      assert.include(second.cases[1]!.received, "the code not exchanged; no customer-service message")
    }).pipe(Effect.scoped))

  it.live("success in answer to QUERY_AUTH_CODE fails the api case: WeChat asks for an empty body", () =>
    Effect.gen(function*() {
      const { mock } = yield* setUp({ queryAnswer: "success" })
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId, { kind: "miniProgram", waitSeconds: 1 }))
      assert.isFalse(report.passed)
      const [api] = report.cases
      assert.strictEqual(api!.passed, false)
      assert.match(api!.expected, /^"" \(an empty body\) at once/)
      assert.strictEqual(api!.received, `"success"`)
      assert.match(api!.detail, /立即返回空字符串, and success is not empty$/)
    }).pipe(Effect.scoped))

  it.live("without a message URL, or with bad options, the check does not run", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const refused = (options: unknown) =>
        Effect.promise(() =>
          mock.admin.releaseCheck(appId, options as never).then(() => "ran", (error: Error) => error.message)
        )
      assert.match(yield* refused({}), /HTTP 400 .*no messageUrl/)
      assert.match(yield* refused({ kind: "subscription" }), /HTTP 400 .*kind must be/)
      assert.match(yield* refused({ waitSeconds: 600 }), /HTTP 400 .*waitSeconds must be/)
      assert.match(
        yield* Effect.promise(() => mock.admin.releaseCheck("wx00000000000000ff").then(() => "ran", (e: Error) => e.message)),
        /HTTP 404/
      )
    }).pipe(Effect.scoped))
})
