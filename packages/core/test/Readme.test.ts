import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, Redacted, Schedule } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as TokenStore from "../src/TokenStore.js"
import { App } from "./fixtures/readme-effect-receiver.js"
import { menuOf } from "./fixtures/readme-any-api.js"
import { program, WeChat } from "./fixtures/readme-program.js"
import { appId, appSecret, encodingAesKey, makeLayer, makeStub, messageToken, seal, startFakeWeChat, storeTicket, ticketXml } from "./utils.js"

// Each program in the README is a fixture here, compiled with the tests; the README must show it word for word (the
// fixture's `main` is the README's last statement, which runs the program; the consumer test runs it as written).
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
const fixtures = {
  program: "readme-program.ts",
  "effect-receiver": "readme-effect-receiver.ts",
  "node-receiver": "readme-node-receiver.ts",
  "any-api": "readme-any-api.ts",
  "http-client": "readme-http-client.ts"
}

const normalize = (text: string) =>
  text
    .replace(`from "../../src/index.js"`, `from "@wxopen/core"`)
    .replace(/^export const main = \(\) => /gm, "")
    .replace(/^export /gm, "")
    .trim()

describe("the README", () => {
  for (const [marker, file] of Object.entries(fixtures)) {
    it(`shows the ${marker} fixture word for word`, () => {
      const at = readme.indexOf(`<!-- readme:${marker} -->`)
      assert.isAbove(at, -1, `README.md has no <!-- readme:${marker} --> block`)
      const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? ""
      assert.strictEqual(normalize(block), normalize(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), "utf8")))
    })
  }

  it("the package README shows the README's install command and first program, word for word", () => {
    const packageReadme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    for (const marker of ["install", "program"]) {
      const block = (text: string) => /```\w+\n[\s\S]*?```/.exec(text.slice(text.indexOf(`<!-- readme:${marker} -->`)))?.[0]
      assert.isDefined(block(readme), marker)
      assert.strictEqual(block(packageReadme), block(readme), marker)
    }
  })

  it.live("program: runs against WeChat's API and prints both links", () =>
    Effect.gen(function*() {
      const fake = yield* startFakeWeChat
      const lines: Array<string> = []
      const log = console.log
      console.log = (line: string) => lines.push(line)
      yield* program.pipe(
        Effect.provide(WeChat),
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["WXOPEN_COMPONENT_APPID", appId],
            ["WXOPEN_COMPONENT_APPSECRET", appSecret],
            ["WXOPEN_API_BASE_URL", fake.url],
            ["WXOPEN_COMPONENT_VERIFY_TICKET", "ticket@@@given"]
          ])
        )),
        Effect.ensuring(Effect.sync(() => console.log = log))
      )
      assert.strictEqual(lines.length, 2)
      assert.match(lines[0]!, /^PC: {5}https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?component_appid=wx0123456789abcdef&pre_auth_code=preauthcode%40%40%40http-1&redirect_uri=https%3A%2F%2Fexample\.com%2Fwechat%2Fauthorized&auth_type=3$/)
      assert.match(lines[1]!, /^mobile: https:\/\/open\.weixin\.qq\.com\/wxaopen\/safe\/bindcomponent\?action=bindcomponent&no_scan=1&.*#wechat_redirect$/)
      assert.strictEqual(fake.received[0]?.body.component_verify_ticket, "ticket@@@given")
    }).pipe(Effect.scoped))

  // The receivers read their configuration from the environment, as the README shows.
  const withEnv = <A, E, R>(env: Record<string, string>, effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
        Object.assign(process.env, env)
        return saved
      }),
      () => effect,
      (saved) =>
        Effect.sync(() => {
          for (const [key, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[key]
            else process.env[key] = value
          }
        })
    )
  const env = (apiBaseUrl: string) => ({
    WXOPEN_COMPONENT_APPID: appId,
    WXOPEN_COMPONENT_APPSECRET: appSecret,
    WXOPEN_COMPONENT_TOKEN: messageToken,
    WXOPEN_COMPONENT_ENCODING_AES_KEY: encodingAesKey,
    WXOPEN_API_BASE_URL: apiBaseUrl
  })
  const post = (url: string, delivery: { readonly query: URLSearchParams; readonly body: string }) =>
    Effect.promise(async () => {
      const response = await fetch(`${url}?${delivery.query}`, { method: "POST", body: delivery.body })
      return [response.status, await response.text()] as const
    })
  const freePort = Effect.async<number>((resume) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resume(Effect.succeed(port)))
    })
  })

  it.live("effect receiver: stores a pushed ticket that its authorize route then uses", () =>
    Effect.gen(function*() {
      const fake = yield* startFakeWeChat
      const port = yield* freePort
      const logs: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${message}`)))
      yield* withEnv({ ...env(fake.url), PORT: String(port) }, Effect.gen(function*() {
        yield* Layer.launch(App).pipe(Effect.provide(capture), Effect.forkScoped)
        const base = `http://127.0.0.1:${port}`
        yield* Effect.promise(() => fetch(`${base}/`).catch(() => undefined)).pipe(
          Effect.filterOrFail((response) => response !== undefined),
          Effect.retry({ times: 50, schedule: Schedule.spaced("20 millis") })
        )
        assert.include(logs, `INFO Listening on http://0.0.0.0:${port}`)
        // Before any ticket: the route answers what to do, and the log says why.
        const early = yield* Effect.promise(async () => {
          const response = await fetch(`${base}/wechat/authorize`, { redirect: "manual" })
          return [response.status, await response.text()] as const
        })
        assert.deepStrictEqual(early, [503, "WeChat's authorization page is out of reach: try again in a minute"])
        assert.isTrue(logs.some((line) => line.startsWith("ERROR cannot send the merchant to WeChat: ") && line.includes("no component_verify_ticket has been received")), logs.join("\n"))
        const push = seal(ticketXml("ticket@@@effect", Math.floor(Date.now() / 1000)))
        assert.deepStrictEqual(yield* post(`${base}/wechat/component/events`, push), [200, "success"])
        const location = yield* Effect.promise(async () => {
          const response = await fetch(`${base}/wechat/authorize`, { redirect: "manual" })
          return [response.status, response.headers.get("location")] as const
        })
        assert.strictEqual(location[0], 302)
        assert.match(location[1] ?? "", /^https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?.*pre_auth_code=preauthcode%40%40%40http-1/)
        assert.strictEqual(fake.received[0]?.body.component_verify_ticket, "ticket@@@effect")
      }))
    }).pipe(Effect.scoped))

  it.live("node receiver: stores a pushed ticket that PreAuthCode.create on its runtime then uses", () =>
    Effect.gen(function*() {
      const fake = yield* startFakeWeChat
      yield* withEnv(env(fake.url), Effect.gen(function*() {
        const { runtime, server } = yield* Effect.promise(() => import("./fixtures/readme-node-receiver.js"))
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
          () =>
            Effect.promise(() => runtime.dispose()).pipe(
              Effect.zipRight(Effect.async<void>((resume) => void server.close(() => resume(Effect.void))))
            )
        )
        const { port } = server.address() as AddressInfo
        const push = seal(ticketXml("ticket@@@node", Math.floor(Date.now() / 1000)))
        assert.deepStrictEqual(yield* post(`http://127.0.0.1:${port}/`, push), [200, "success"])
        const code = yield* Effect.promise(() => runtime.runPromise(PreAuthCode.create))
        assert.strictEqual(code.code, "preauthcode@@@http-1")
        assert.strictEqual(fake.received[0]?.body.component_verify_ticket, "ticket@@@node")
        const [huge] = yield* post(`http://127.0.0.1:${port}/`, { query: push.query, body: "x".repeat(200_000) })
          .pipe(Effect.catchAllDefect(() => Effect.succeed([0, ""] as const)))
        assert.notStrictEqual(huge, 200)
      }))
    }).pipe(Effect.scoped))

  it.effect("any-api: a component API and an Official Account API, each with its own token", () => {
    const stub = makeStub({
      api_get_authorizer_option: (request) =>
        Effect.succeed(
          request.token === "token-1" && request.body.option_name === "voice_recognize"
            ? { json: { authorizer_appid: request.body.authorizer_appid, option_name: "voice_recognize", option_value: "1" } }
            : { json: { errcode: 40001, errmsg: "invalid credential rid: 1-2-3" } }
        ),
      get_current_selfmenu_info: (request) =>
        Effect.succeed(
          request.method === "GET" && request.url.searchParams.get("access_token") === "account-token"
            ? { json: { is_menu_open: 1 } }
            : { json: { errcode: 40001, errmsg: "invalid credential rid: 1-2-3" } }
        )
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      const store = yield* TokenStore.TokenStore
      yield* store.setAuthorizer(appId, "wxfedcba9876543210", {
        accessToken: Redacted.make("account-token"),
        expiresAt: 7_200_000,
        refreshToken: Redacted.make("refresh-token"),
        authorizedAt: 0
      })
      assert.deepStrictEqual(yield* menuOf("wxfedcba9876543210"), { voiceRecognition: true, menuOpen: true })
    }).pipe(Effect.provide(AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))))
  })
})
