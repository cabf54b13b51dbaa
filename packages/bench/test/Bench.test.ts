import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { Figure } from "../src/Figure.js"

// `pnpm bench --smoke`, so that the benchmarks cannot rot: every benchmark runs briefly and reports every figure with
// its baseline. Its numbers mean nothing and are never asserted on.
describe("pnpm bench --smoke", () => {
  it.live("runs every benchmark and writes each figure with its baseline, ratio and command", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "wxopen-bench-"))
      const out = Path.join(dir, "results.json")
      const { code, stderr, stdout } = yield* Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
        const child = spawn(process.execPath, [fileURLToPath(new URL("../dist/main.js", import.meta.url)), "--smoke", "--out", out], {
          stdio: ["ignore", "pipe", "pipe"]
        })
        let stdout = ""
        let stderr = ""
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
        child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
        return Effect.sync(() => child.kill("SIGKILL"))
      })
      assert.strictEqual(code, 0, stderr)
      const results = JSON.parse(Fs.readFileSync(out, "utf8")) as { smoke: boolean; figures: ReadonlyArray<Figure> }
      Fs.rmSync(dir, { recursive: true, force: true })
      assert.isTrue(results.smoke)
      assert.deepStrictEqual([...new Set(results.figures.map((f) => f.benchmark))].sort(), ["accounts", "client", "memory", "mock", "quota", "receiver"])
      for (const figure of results.figures) {
        assert.isTrue(Number.isFinite(figure.value), `${figure.name}: ${figure.value}`)
        assert.isTrue(Number.isFinite(figure.baseline.value), `${figure.name}: baseline ${figure.baseline.value}`)
        assert.isString(figure.baseline.name)
        assert.isTrue(Number.isFinite(figure.ratio) || figure.baseline.value === 0, `${figure.name}: ratio ${figure.ratio}`)
        assert.match(figure.command, /bench/)
        // The table printed is the one written.
        assert.include(stdout, figure.name)
      }
      // wxopen on each client, at each concurrency, is held to the bare call on that same client.
      const cpu = results.figures.filter((f) => f.benchmark === "client" && f.name.endsWith("CPU per call"))
      assert.deepStrictEqual(cpu.map((f) => f.name), [
        "wxopen on FetchHttpClient.layer c1: CPU per call",
        "wxopen on FetchHttpClient.layer c64: CPU per call",
        "wxopen on NodeHttpClient.layerUndici c1: CPU per call",
        "wxopen on NodeHttpClient.layerUndici c64: CPU per call"
      ])
      for (const figure of cpu) {
        assert.strictEqual(figure.baseline.name, figure.name.replace(/^wxopen on (.*): CPU per call$/, "bare HttpClient.execute on $1"))
        assert.isString(figure.target?.text)
        assert.isBoolean(figure.target?.met)
      }
    }), { timeout: 120_000 })
})
