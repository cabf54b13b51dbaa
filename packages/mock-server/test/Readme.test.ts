import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
// Its test registers here, as it would in a test file of the user's.
import "./fixtures/readme-layer.js"

// The package README's programs are these fixtures, word for word (but for how they import the package).
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const normalize = (text: string) =>
  text.replace(`from "../../src/index.js"`, `from "@wxopen/mock-server"`).replace(/^export /gm, "").trim()

describe("the mock-server README", () => {
  for (const [marker, file] of [["start", "readme-start.ts"], ["layer", "readme-layer.ts"]]) {
    it(`shows the ${marker} fixture word for word`, () => {
      const at = readme.indexOf(`<!-- readme:${marker} -->`)
      assert.isAbove(at, -1, `no <!-- readme:${marker} --> block`)
      const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? ""
      assert.strictEqual(normalize(block), normalize(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), "utf8")))
    })
  }

  it.live("start: a token, a fault, the clock and the journal", () =>
    Effect.gen(function*() {
      const { journal, token } = yield* Effect.promise(() => import("./fixtures/readme-start.js"))
      assert.strictEqual(token.expires_in, 7200)
      assert.strictEqual(journal.length, 1)
      assert.strictEqual((journal[0]!.body as Record<string, unknown>).component_appsecret, "***")
    }))
})
