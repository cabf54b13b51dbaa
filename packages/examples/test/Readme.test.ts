import { assert, describe, it } from "@effect/vitest"
import { MockServer } from "@wxopen/mock-server"
import { ConfigProvider, Effect } from "effect"
import { readFileSync } from "node:fs"
import { program, WeChat } from "./fixtures/readme-account.js"

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
