import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { readFileSync } from "node:fs"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as TokenStore from "../src/TokenStore.js"
import { program, WeChat } from "./fixtures/readme-program.js"
import { appId, appSecret, startFakeWeChat, storeTicket } from "./utils.js"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
]

describe("over a real socket", () => {
  for (const [name, client] of clients) {
    it.live(`${name}: a pre-authorization code, with WeChat's transport conventions`, () =>
      Effect.gen(function*() {
        const fake = yield* startFakeWeChat
        const live = ComponentToken.layer.pipe(
          Layer.provideMerge(
            Layer.mergeAll(
              ComponentConfig.layer({ appId, appSecret: Redacted.make(appSecret), apiBaseUrl: fake.url }),
              TokenStore.layerMemory,
              client
            )
          )
        )
        const codes = yield* Effect.gen(function*() {
          yield* storeTicket()
          return yield* Effect.all([PreAuthCode.create, PreAuthCode.create], { concurrency: 2 })
        }).pipe(Effect.provide(live))
        assert.deepStrictEqual(codes.map((c) => c.code).sort(), ["preauthcode@@@http-1", "preauthcode@@@http-2"])
        assert.deepStrictEqual(fake.received.map((r) => r.endpoint), ["api_component_token", "api_create_preauthcode", "api_create_preauthcode"])
        for (const request of fake.received) {
          assert.match(request.contentType ?? "", /^application\/json/)
          assert.notProperty(request.body, "component_access_token")
          assert.notInclude(request.url.search, appSecret)
          // HttpClient's tracing is off for these calls, so no trace headers travel to WeChat.
          assert.notProperty(request.headers, "traceparent")
          assert.notProperty(request.headers, "b3")
        }
      }).pipe(Effect.scoped))
  }
})

describe("the README's program", () => {
  it("is the one in README.md, word for word", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
    const fixture = readFileSync(new URL("./fixtures/readme-program.ts", import.meta.url), "utf8")
    const normalize = (text: string) =>
      text.replace(`from "../../src/index.js"`, `from "@wxopen/core"`).replace(/^export /gm, "").trim()
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("<!-- readme-program -->")))?.[1] ?? ""
    assert.strictEqual(normalize(block.replace(/\nEffect\.runPromise\(.*\)\n?$/, "\n")), normalize(fixture))
  })

  it.live("runs against WeChat's API and prints both links", () =>
    Effect.gen(function*() {
      const fake = yield* startFakeWeChat
      const lines: Array<string> = []
      const log = console.log
      console.log = (line: string) => lines.push(line)
      yield* Effect.zipRight(storeTicket(), program).pipe(
        Effect.provide(WeChat),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
          ["WXOPEN_COMPONENT_APPID", appId],
          ["WXOPEN_COMPONENT_APPSECRET", appSecret],
          ["WXOPEN_API_BASE_URL", fake.url]
        ]))),
        Effect.ensuring(Effect.sync(() => console.log = log))
      )
      assert.strictEqual(lines.length, 2)
      assert.match(lines[0]!, /^PC: {5}https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?component_appid=wx0123456789abcdef&pre_auth_code=preauthcode%40%40%40http-1&redirect_uri=https%3A%2F%2Fexample\.com%2Fwechat%2Fauthorized&auth_type=3$/)
      assert.match(lines[1]!, /^mobile: https:\/\/open\.weixin\.qq\.com\/wxaopen\/safe\/bindcomponent\?action=bindcomponent&no_scan=1&.*#wechat_redirect$/)
    }).pipe(Effect.scoped))
})
