import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option, Redacted } from "effect"
import { readFileSync } from "node:fs"
import type { AddressInfo } from "node:net"
import * as TokenStore from "../src/TokenStore.js"
import { program, WeChat } from "./fixtures/readme-program.js"
import { appId, appSecret, encodingAesKey, messageToken, seal, startFakeWeChat, storeTicket, ticketXml } from "./utils.js"

// Each program in the README is a fixture here, compiled with the tests; the README must show it word for word
// (but for the line that runs it).
const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
const fixtures = {
  program: "readme-program.ts",
  "effect-receiver": "readme-effect-receiver.ts",
  "node-receiver": "readme-node-receiver.ts"
}

const normalize = (text: string) =>
  text
    .replace(`from "../../src/index.js"`, `from "@wxopen/core"`)
    .replace(/^export /gm, "")
    .replace(/\n(Effect\.run\w+|server\.listen)\([^\n]*\n?$/, "\n")
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

  it.live("program: runs against WeChat's API and prints both links", () =>
    Effect.gen(function*() {
      const fake = yield* startFakeWeChat
      const lines: Array<string> = []
      const log = console.log
      console.log = (line: string) => lines.push(line)
      yield* Effect.zipRight(storeTicket(), program).pipe(
        Effect.provide(WeChat),
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([["WXOPEN_COMPONENT_APPID", appId], ["WXOPEN_COMPONENT_APPSECRET", appSecret], ["WXOPEN_API_BASE_URL", fake.url]])
        )),
        Effect.ensuring(Effect.sync(() => console.log = log))
      )
      assert.strictEqual(lines.length, 2)
      assert.match(lines[0]!, /^PC: {5}https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?component_appid=wx0123456789abcdef&pre_auth_code=preauthcode%40%40%40http-1&redirect_uri=https%3A%2F%2Fexample\.com%2Fwechat%2Fauthorized&auth_type=3$/)
      assert.match(lines[1]!, /^mobile: https:\/\/open\.weixin\.qq\.com\/wxaopen\/safe\/bindcomponent\?action=bindcomponent&no_scan=1&.*#wechat_redirect$/)
    }).pipe(Effect.scoped))

  it.live("node receiver: answers success to a ticket push and stores it", () =>
    Effect.gen(function*() {
      Object.assign(process.env, {
        WXOPEN_COMPONENT_APPID: appId,
        WXOPEN_COMPONENT_APPSECRET: appSecret,
        WXOPEN_COMPONENT_TOKEN: messageToken,
        WXOPEN_COMPONENT_ENCODING_AES_KEY: encodingAesKey
      })
      const { runtime, server } = yield* Effect.promise(() => import("./fixtures/readme-node-receiver.js"))
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.promise(() => runtime.dispose()).pipe(Effect.zipRight(Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))))
      )
      const { port } = server.address() as AddressInfo
      const push = seal(ticketXml("ticket@@@node", Math.floor(Date.now() / 1000)))
      const [status, text] = yield* Effect.promise(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/?${push.query}`, { method: "POST", body: push.body })
        return [response.status, await response.text()] as const
      })
      assert.deepStrictEqual([status, text], [200, "success"])
      const stored = yield* Effect.promise(() =>
        runtime.runPromise(Effect.flatMap(TokenStore.TokenStore, (store) => store.getTicket(appId)))
      )
      assert.deepStrictEqual(Option.map(stored, (t) => Redacted.value(t.value)), Option.some("ticket@@@node"))
    }).pipe(Effect.scoped))
})
