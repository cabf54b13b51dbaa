import { assert, describe, it } from "@effect/vitest"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Authorization, AuthorizerToken, ComponentConfig, ComponentToken, RetryPolicy, TokenStore, WeChatClient } from "@wxopen/core"
import { MockConfig, MockServer } from "@wxopen/mock-server"
import { ConfigProvider, Effect, Layer, Logger, Redacted, Schedule } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { App as MessagesApp } from "./fixtures/readme-account-messages.js"
import { program, WeChat } from "./fixtures/readme-account.js"
import { menuOpen, unblock } from "./fixtures/readme-diagnostics.js"
import { App as ReleaseCheckApp } from "./fixtures/readme-release-check.js"
import { App as UserLoginApp } from "./fixtures/readme-user-login.js"

// The README's program for acting as an account: shown word for word (its last statement is the fixture's `main`),
// and run against the mock.
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
const normalize = (text: string) => text.replace(/^export const main = \(\) => /gm, "").replace(/^export /gm, "").trim()

const shownWordForWord = (marker: string, fixture: string) =>
  it("is shown word for word", () => {
    const at = readme.indexOf(`<!-- readme:${marker} -->`)
    assert.isAbove(at, -1, `README.md has no <!-- readme:${marker} --> block`)
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? ""
    assert.strictEqual(normalize(block), normalize(readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), "utf8")))
  })

describe("the README's account program", () => {
  shownWordForWord("account", "readme-account.ts")

  it.live("refills the refresh tokens from WeChat's list and reports each account, as the README shows", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const component = mock.config.components[0]!
      for (const authorizer of mock.config.authorizers) {
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: component.appId, authorizerAppId: authorizer.appId }))
      }
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      const lines: Array<string> = []
      const log = console.log
      console.log = (line: string) => lines.push(line)
      yield* program.pipe(
        Effect.provide(WeChat),
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["WXOPEN_COMPONENT_APPID", component.appId],
            ["WXOPEN_COMPONENT_APPSECRET", component.appSecret],
            ["WXOPEN_API_BASE_URL", mock.url],
            ["WXOPEN_COMPONENT_VERIFY_TICKET", ticket]
          ])
        )),
        Effect.ensuring(Effect.sync(() => console.log = log))
      )
      const shown = /<!-- readme:account-output -->\n```text\n([\s\S]*?)```/.exec(readme)?.[1] ?? "README.md shows no account output"
      assert.strictEqual(lines.join("\n") + "\n", shown)
    }).pipe(Effect.scoped))
})

const freePort = Effect.async<number>((resume) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = (probe.address() as AddressInfo)
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/** One hop, as a browser makes it: the status, where it is sent next, and the body. */
const open = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { ...init, redirect: "manual" })
    return { status: response.status, location: response.headers.get("location") ?? "", body: await response.text() }
  })

describe("the README's user login server", () => {
  shownWordForWord("user-login", "readme-user-login.ts")

  it.live("logs a web page's user in through the mock's OAuth page, and a Mini Program's user with a wx.login() code", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const component = mock.config.components[0]!
      const [officialAccount, miniProgram] = mock.config.authorizers
      for (const authorizer of [officialAccount!, miniProgram!]) {
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: component.appId, authorizerAppId: authorizer.appId }))
      }
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      const port = yield* freePort
      const base = `http://127.0.0.1:${port}`
      yield* Layer.launch(UserLoginApp).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["WXOPEN_COMPONENT_APPID", component.appId],
            ["WXOPEN_COMPONENT_APPSECRET", component.appSecret],
            ["WXOPEN_API_BASE_URL", mock.url],
            ["WXOPEN_COMPONENT_VERIFY_TICKET", ticket],
            ["WXOPEN_OPEN_BASE_URL", mock.url],
            ["PUBLIC_URL", base],
            ["PORT", String(port)]
          ])
        )),
        Effect.forkScoped
      )
      yield* Effect.promise(() => fetch(base).catch(() => undefined)).pipe(
        Effect.filterOrFail((response) => response !== undefined),
        Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.upTo("20 seconds")))
      )

      // The web page: the server sends the user to WeChat (the mock), which sends the user back with a code.
      const toWeChat = yield* open(`${base}/accounts/${officialAccount!.appId}/login`)
      assert.strictEqual(toWeChat.status, 302, toWeChat.body)
      assert.isTrue(toWeChat.location.startsWith(`${mock.url}/connect/oauth2/authorize?`), toWeChat.location)
      assert.strictEqual(new URL(toWeChat.location).searchParams.get("component_appid"), component.appId)
      const back = yield* open(toWeChat.location)
      assert.strictEqual(back.status, 302, back.body)
      assert.isTrue(back.location.startsWith(`${base}/accounts/${officialAccount!.appId}/login/done?code=`), back.location)
      const done = yield* open(back.location)
      assert.strictEqual(done.status, 200, done.body)
      assert.match(done.body, /^logged in: Mock User \S+ \(o[\w-]+\)$/)
      const replayed = yield* open(back.location)
      assert.deepStrictEqual([replayed.status, replayed.body], [400, "this login is not one we started: log in again"])

      // The Mini Program: its wx.login() code (issued by the mock) posted to the server.
      const { code, openid } = yield* Effect.promise(() =>
        mock.admin.jsCode({ componentAppId: component.appId, authorizerAppId: miniProgram!.appId })
      )
      const post = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }) }
      const mini = yield* open(`${base}/accounts/${miniProgram!.appId}/mini-login`, post)
      assert.deepStrictEqual([mini.status, JSON.parse(mini.body)], [200, { openid }], mini.body)
      const miniAgain = yield* open(`${base}/accounts/${miniProgram!.appId}/mini-login`, post)
      assert.strictEqual(miniAgain.status, 400, miniAgain.body)
      assert.include(miniAgain.body, "errcode 40163")
      assert.include(miniAgain.body, "call wx.login() in the Mini Program again")
      assert.notInclude(miniAgain.body, code)
    }).pipe(Effect.scoped))
})

/** A README platform launched on a free port, configured for the mock's component as the README says, once it listens. */
const launch = (app: Layer.Layer<never, unknown>, mock: MockServer.RunningMock) =>
  Effect.gen(function*() {
    const component = mock.config.components[0]!
    const port = yield* freePort
    yield* Layer.launch(app).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(
        new Map([
          ["WXOPEN_COMPONENT_APPID", component.appId],
          ["WXOPEN_COMPONENT_APPSECRET", component.appSecret],
          ["WXOPEN_COMPONENT_TOKEN", component.token],
          ["WXOPEN_COMPONENT_ENCODING_AES_KEY", component.encodingAesKey],
          ["WXOPEN_API_BASE_URL", mock.url],
          ["PORT", String(port)]
        ])
      )),
      Effect.forkScoped
    )
    const base = `http://127.0.0.1:${port}`
    // Answered at all (a 404 here) once the port is open; refused before. Many seconds tell "listening" from "hung".
    yield* Effect.tryPromise(() => fetch(`${base}/`)).pipe(Effect.retry({ times: 250, schedule: Schedule.spaced("40 millis") }), Effect.orDie)
    return { base, component }
  })

describe("the README's account programs, against the mock", () => {
  describe("account-messages", () => shownWordForWord("account-messages", "readme-account-messages.ts"))
  describe("release-check", () => shownWordForWord("release-check", "readme-release-check.ts"))

  it.live("account-messages: the mock's pushed text, subscription and location get the replies the program gives", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const { base, component } = yield* launch(MessagesApp, mock)
      const account = mock.config.authorizers[0]!.appId
      yield* Effect.promise(() => mock.admin.setMessageUrl(component.appId, `${base}/wechat/accounts/$APPID$/messages`))
      yield* Effect.promise(() => mock.admin.authorize({ componentAppId: component.appId, authorizerAppId: account }))
      const push = (message: Record<string, string | number>) =>
        Effect.promise(() => mock.admin.pushMessage(component.appId, account, message)).pipe(
          Effect.map((delivery) => {
            const reply = delivery.reply
            assert.isTrue(reply?.kind === "encrypted" && reply.verified, JSON.stringify(delivery))
            return reply?.kind === "encrypted" && reply.verified ? reply.fields : {}
          })
        )
      assert.strictEqual((yield* push({ MsgType: "text", Content: "hello" })).Content, `${account} heard: hello`)
      assert.strictEqual((yield* push({ MsgType: "event", Event: "subscribe" })).MsgType, "news")
      const location = yield* push({ MsgType: "location", Location_X: 23.1, Location_Y: 113.3, Scale: 20, Label: "here" })
      assert.strictEqual(location.Content, "you are at 23.1, 113.3")
      const click = yield* Effect.promise(() => mock.admin.pushMessage(component.appId, account, { MsgType: "event", Event: "CLICK", EventKey: "k" }))
      assert.strictEqual(click.reply?.kind, "empty", JSON.stringify(click))
    }).pipe(Effect.scoped), 60_000)

  it.live("release-check: the mock's release check passes against the program, as an Official Account and a Mini Program", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const { base, component } = yield* launch(ReleaseCheckApp, mock)
      yield* Effect.promise(() => mock.admin.setPushUrl(component.appId, `${base}/wechat/component/events`))
      yield* Effect.promise(() => mock.admin.setMessageUrl(component.appId, `${base}/wechat/accounts/$APPID$/messages`))
      yield* Effect.promise(() => mock.admin.pushTicket(component.appId))
      for (const kind of ["officialAccount", "miniProgram"] as const) {
        const report = yield* Effect.promise(() => mock.admin.releaseCheck(component.appId, { kind }))
        assert.isTrue(report.passed, JSON.stringify(report, null, 2))
      }
      // Another account's text goes to the program's own handler.
      const account = mock.config.authorizers[0]!.appId
      yield* Effect.promise(() => mock.admin.authorize({ componentAppId: component.appId, authorizerAppId: account }))
      const other = yield* Effect.promise(() => mock.admin.pushMessage(component.appId, account, { MsgType: "text", Content: "TESTCOMPONENT_MSG_TYPE_TEXT" }))
      assert.isTrue(other.reply?.kind === "encrypted" && other.reply.verified && other.reply.fields.Content === "thanks, we will be in touch", JSON.stringify(other))
    }).pipe(Effect.scoped), 60_000)
})

describe("the README's diagnostics", () => {
  shownWordForWord("diagnostics", "readme-diagnostics.ts")

  it.live("logs what WeChat saw of a call refused with 45009, then lifts it with one deliberate reset", () =>
    Effect.gen(function*() {
      const menu = "/cgi-bin/get_current_selfmenu_info"
      const mock = yield* Effect.acquireRelease(
        Effect.promise(() => MockServer.start({ config: { ...MockConfig.defaults, apiQuotas: { [menu]: 1 } } })),
        (m) => Effect.promise(() => m.close())
      )
      const component = mock.config.components[0]!
      const account = mock.config.authorizers[0]!.appId
      const lines: Array<string> = []
      const services = AuthorizerToken.layer.pipe(
        Layer.provideMerge(ComponentToken.layer),
        Layer.provideMerge(WeChatClient.layer().pipe(Layer.provide(RetryPolicy.layer(Schedule.stop)))),
        Layer.provideMerge(
          ComponentConfig.layer({ appId: component.appId, appSecret: Redacted.make(component.appSecret), apiBaseUrl: mock.url })
        ),
        Layer.provideMerge(TokenStore.layerMemory),
        Layer.provideMerge(FetchHttpClient.layer),
        Layer.provideMerge(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message)))))
      )
      yield* Effect.gen(function*() {
        const { ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
        yield* ComponentToken.storeTicket(Redacted.make(ticket))
        const { authorizationCode } = yield* Effect.promise(() =>
          mock.admin.authorize({ componentAppId: component.appId, authorizerAppId: account })
        )
        yield* Authorization.exchange(authorizationCode)
        assert.isTrue(yield* menuOpen(account))
        const refused = yield* Effect.flip(menuOpen(account))
        assert.isTrue(refused._tag === "QuotaError" && refused.reason === "Daily")
        assert.strictEqual(lines.length, 1)
        assert.match(
          lines[0]!,
          /^WeChat saw \/cgi-bin\/get_current_selfmenu_info\?access_token=\*\*\* from 127\.0\.0\.1 at \d{4}-\d\d-\d\dT[\d:.]+Z, \d+ ms$/
        )
        const quota = yield* unblock(menu, account)
        assert.deepStrictEqual(quota, { dailyLimit: 1, used: 0, remain: 1 })
        assert.isTrue(yield* menuOpen(account))
        // Spent again: the refusal is looked up and logged, and nothing is reset but by unblock.
        yield* Effect.flip(menuOpen(account))
        assert.strictEqual(lines.length, 2)
        assert.strictEqual((yield* Effect.promise(() => mock.admin.journal({ endpoint: "/cgi-bin/clear_quota" }))).length, 1)
      }).pipe(Effect.provide(services))
    }).pipe(Effect.scoped))
})
