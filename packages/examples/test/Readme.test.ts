import { assert, describe, it } from "@effect/vitest"
import { MockServer } from "@wxopen/mock-server"
import { ConfigProvider, Effect, Layer, Schedule } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { App as MessagesApp } from "./fixtures/readme-account-messages.js"
import { program, WeChat } from "./fixtures/readme-account.js"
import { App as ReleaseCheckApp } from "./fixtures/readme-release-check.js"

// The README's program for acting as an account: shown word for word (its last statement is the fixture's `main`),
// and run against the mock.
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
const normalize = (text: string) => text.replace(/^export const main = \(\) => /gm, "").replace(/^export /gm, "").trim()

describe("the README's programs, word for word", () => {
  for (const marker of ["account-messages", "release-check"]) {
    it(`shows the ${marker} program`, () => {
      const at = readme.indexOf(`<!-- readme:${marker} -->`)
      assert.isAbove(at, -1, `README.md has no <!-- readme:${marker} --> block`)
      const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? ""
      assert.strictEqual(normalize(block), normalize(readFileSync(new URL(`./fixtures/readme-${marker}.ts`, import.meta.url), "utf8")))
    })
  }
})

describe("the README's account program", () => {
  it("is shown word for word", () => {
    const at = readme.indexOf("<!-- readme:account -->")
    assert.isAbove(at, -1, "README.md has no <!-- readme:account --> block")
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? ""
    assert.strictEqual(normalize(block), normalize(readFileSync(new URL("./fixtures/readme-account.ts", import.meta.url), "utf8")))
  })

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
      assert.strictEqual(click.reply?.kind, "success", JSON.stringify(click))
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
