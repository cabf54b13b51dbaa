import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import * as Permissions from "../src/Permissions.js"
// Its test registers here, as it would in a test file of the user's.
import "./fixtures/readme-layer.js"

// The package README's programs are these fixtures, word for word (but for how they import the package).
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const normalize = (text: string) =>
  text.replace(`from "../../src/index.js"`, `from "@wxopen/mock-server"`).replace(/^export /gm, "").trim()

describe("the mock-server README", () => {
  for (const [marker, file] of [["start", "readme-start.ts"], ["layer", "readme-layer.ts"], ["stubs", "readme-stubs.ts"]]) {
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

  it.live("stubs: the account call answers with the stub, then with its new status", () =>
    Effect.gen(function*() {
      const { answered, failed } = yield* Effect.promise(() => import("./fixtures/readme-stubs.js"))
      assert.deepStrictEqual(answered, { subscribe: 1, openid: "o1" })
      assert.strictEqual(failed, 503)
    }))

  it("shows the permission table as Permissions.table holds it", () => {
    const shown = /<!-- permissions:start -->\n([\s\S]*?)<!-- permissions:end -->/.exec(readme)?.[1] ?? ""
    const sets = (ids: ReadonlyArray<number> | undefined) => ids === undefined ? "—" : ids.join(" or ")
    const rows = Permissions.table.map((p) => `| \`${p.path}\` | ${p.what} | ${sets(p.officialAccount)} | ${sets(p.miniProgram)} |`)
    assert.strictEqual(shown, ["| path | what | official account | mini program |", "|---|---|---|---|", ...rows, ""].join("\n"))
  })
})
