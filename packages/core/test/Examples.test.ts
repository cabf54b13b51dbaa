import { assert, describe, it } from "@effect/vitest"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import ts from "typescript"

// Every module of every package opens with an example; this compiles each one against the sources, as a user
// would write it (`@wxopen/<package>` imports point at that package's sources).
const packages = fileURLToPath(new URL("../../", import.meta.url))
const out = fileURLToPath(new URL("../.examples/", import.meta.url))

const modules = readdirSync(packages).flatMap((pkg) =>
  readdirSync(`${packages}${pkg}/src`)
    .filter((file) => file.endsWith(".ts") && file !== "index.ts" && file !== "cli.ts")
    .map((file) => ({ pkg, file, name: `${pkg}-${file.replace(/\.ts$/, "")}` }))
)

const examples = modules.flatMap(({ file, name, pkg }) => {
  const text = readFileSync(`${packages}${pkg}/src/${file}`, "utf8")
  const blocks = [...text.matchAll(/@example\n \* ```ts\n([\s\S]*?) \* ```/g)].map((m) =>
    m[1]!.split("\n").map((line) => line.replace(/^ \* ?/, "")).join("\n")
  )
  return blocks.map((code, i) => ({ name: `${name}-${i}`, code }))
})

describe("module examples", () => {
  it("every public module of @wxopen/core has one", () => {
    for (const { file, name, pkg } of modules.filter((m) => m.pkg === "core")) {
      assert.isTrue(examples.some((e) => e.name.startsWith(`${name}-`)), `${pkg}/src/${file} has no example`)
    }
  })

  it("all compile", () => {
    rmSync(out, { recursive: true, force: true })
    mkdirSync(out, { recursive: true })
    const files = examples.map(({ code, name }) => {
      const path = `${out}${name}.ts`
      writeFileSync(path, code.replace(/from "@wxopen\/([a-z-]+)"/g, `from "../../$1/src/index.js"`) + "\nexport {}\n")
      return path
    })
    const program = ts.createProgram(files, {
      strict: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      types: ["node"]
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) =>
      `${d.file?.fileName.replace(out, "") ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`
    )
    assert.deepStrictEqual(diagnostics, [])
  }, 60_000)
})
