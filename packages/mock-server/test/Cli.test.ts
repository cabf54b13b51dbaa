import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as Http from "node:http"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { MockConfig } from "../src/index.js"

const bin = fileURLToPath(new URL("../bin/wxopen-mock.js", import.meta.url))

/**
 * Runs the CLI until it prints `lines` lines (then asks `probe`, and stops it) or exits; its output and exit code.
 */
const run = (
  args: ReadonlyArray<string>,
  lines = Infinity,
  options: { readonly env?: Record<string, string>; readonly probe?: (url: string) => Promise<string> } = {}
) =>
  Effect.async<{ readonly stdout: string; readonly stderr: string; readonly code: number | null; readonly url?: string }>((resume) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } })
    let stdout = ""
    let stderr = ""
    let url: string | undefined
    child.stdout.setEncoding("utf8").on("data", async (chunk: string) => {
      stdout += chunk
      if (stdout.split("\n").length > lines && url === undefined) {
        url = /^listening on (\S+)/.exec(stdout)?.[1]
        // While it runs, the mock answers as WeChat.
        const answer = await fetch(`${url}/cgi-bin/component/api_create_preauthcode`, { method: "POST", body: "{}" }).then((r) => r.json())
        stdout += `\nanswer: ${JSON.stringify(answer)}`
        if (options.probe !== undefined) stdout += `\nprobe: ${await options.probe(url!)}`
        child.kill("SIGTERM")
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("exit", (code) => resume(Effect.succeed({ stdout, stderr, code, ...(url === undefined ? {} : { url }) })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("wxopen-mock", () => {
  it.live("prints `listening on` first, then the credentials, and answers as WeChat", () =>
    Effect.gen(function*() {
      const result = yield* run(["--port", "0"], 3)
      const [first, second] = result.stdout.split("\n")
      assert.match(first!, /^listening on http:\/\/127\.0\.0\.1:\d+$/)
      assert.match(second!, /^component wx0c0ffee000000001: appSecret=wxopen-mock-app-secret token=wxopenMockToken encodingAesKey=\w{43}/)
      assert.match(result.stdout, /answer: \{"errcode":41018,"errmsg":"missing component_appid rid: /)
      assert.strictEqual(result.code, 0)
    }))

  it.live("ends with the WXOPEN_* settings of the first component as export lines, a ticket the mock accepts among them", () =>
    Effect.gen(function*() {
      const result = yield* run(["-p", "0"], 11)
      const env = Object.fromEntries(
        [...result.stdout.matchAll(/^export (WXOPEN_\w+)=(\S+)$/gm)].map(([, name, value]) => [name!, value!])
      )
      assert.deepStrictEqual(Object.keys(env), [
        "WXOPEN_API_BASE_URL",
        "WXOPEN_COMPONENT_APPID",
        "WXOPEN_COMPONENT_APPSECRET",
        "WXOPEN_COMPONENT_TOKEN",
        "WXOPEN_COMPONENT_ENCODING_AES_KEY",
        "WXOPEN_COMPONENT_VERIFY_TICKET"
      ], result.stdout + result.stderr)
      assert.strictEqual(env.WXOPEN_API_BASE_URL, result.url)
      assert.strictEqual(env.WXOPEN_COMPONENT_APPSECRET, "wxopen-mock-app-secret")
      assert.match(env.WXOPEN_COMPONENT_VERIFY_TICKET!, /^ticket@@@[\w-]+$/)
    }))

  it.live("prints what its README shows, but for the port and the ticket", () =>
    Effect.gen(function*() {
      const result = yield* run(["-p", "0"], 11)
      const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
      const shown = /## Run it[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1] ?? "the README shows no output"
      const variable = (text: string) =>
        text.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT").replace(/ticket@@@\S+/g, "ticket@@@TICKET").replace(/\nanswer: .*/, "")
      assert.strictEqual(variable(result.stdout).trim(), variable(shown).trim())
    }))

  for (const args of [["-p", "0"], ["--", "--port", "0"], ["--", "-p", "0"]]) {
    it.live(`takes ${args.join(" ")} (npm drops a leading --, pnpm passes it on)`, () =>
      Effect.gen(function*() {
        const result = yield* run(args, 3)
        assert.match(result.stdout, /^listening on http:\/\/127\.0\.0\.1:\d+\n/, result.stderr)
        assert.match(result.stdout, /answer: \{"errcode":41018/)
      }))
  }

  for (const flag of ["-h", "--help"]) {
    it.live(`${flag} prints the usage and exits 0`, () =>
      Effect.gen(function*() {
        const result = yield* run([flag])
        assert.strictEqual(result.code, 0, result.stderr)
        assert.match(result.stdout, /^usage: wxopen-mock \[-p PORT\]/)
        assert.include(result.stdout, "-c, --config")
      }))
  }

  it.live("listens on the --host given", () =>
    Effect.gen(function*() {
      const result = yield* run(["--port", "0", "--host", "127.0.0.2"], 3)
      assert.match(result.stdout, /^listening on http:\/\/127\.0\.0\.2:\d+\n/)
      assert.match(result.stdout, /answer: \{"errcode":41018/)
    }))

  it.live("with WXOPEN_MOCK_ADMIN_TOKEN, prints the token second and the admin API asks for it", () =>
    Effect.gen(function*() {
      const token = "cli-admin-token-0123456789"
      const result = yield* run(["--port", "0"], 4, {
        env: { WXOPEN_MOCK_ADMIN_TOKEN: token },
        probe: async (url) => {
          const without = await fetch(`${url}/__admin/health`)
          const withToken = await fetch(`${url}/__admin/health`, { headers: { authorization: `Bearer ${token}` } })
          return `${without.status} ${withToken.status}`
        }
      })
      const output = result.stdout + result.stderr
      assert.strictEqual(result.stdout.split("\n")[1], `admin token: ${token} (send authorization: Bearer <token> to /__admin)`, output)
      assert.match(result.stdout, /\nprobe: 401 200$/, output)
    }))

  it.live("--host 0.0.0.0 warns on stderr; --allowed-host names a host the admin API answers for", () =>
    Effect.gen(function*() {
      const result = yield* run(["--port", "0", "--host", "0.0.0.0", "--allowed-host", "mock.internal"], 3, {
        probe: async (url) => {
          const port = new URL(url).port
          const status = (host: string) =>
            new Promise<number>((resolve, reject) =>
              Http.get({ host: "127.0.0.1", port, path: "/__admin/health", headers: { host } }, (res) => {
                res.resume()
                resolve(res.statusCode ?? 0)
              }).on("error", reject)
            )
          return `${await status(`mock.internal:${port}`)} ${await status(`other.example:${port}`)}`
        }
      })
      const output = result.stdout + result.stderr
      assert.match(result.stderr, /WXOPEN_MOCK_EXPOSED.*listens on 0\.0\.0\.0, reachable from other machines/, output)
      assert.match(result.stdout, /\nprobe: 200 403$/, output)
    }))

  it.live("runs with a configuration file", () =>
    Effect.gen(function*() {
      const file = join(mkdtempSync(join(tmpdir(), "wxopen-mock-")), "mock.json")
      writeFileSync(file, JSON.stringify({
        components: [{ appId: "wx00000000000000aa", appSecret: "s", token: "tok", encodingAesKey: "a".repeat(43), pushUrl: "http://127.0.0.1:9/x" }],
        authorizers: [{ appId: "wx00000000000000bb", name: "Shop", type: "miniProgram" }]
      }))
      const result = yield* run(["--port", "0", "--config", file], 3)
      assert.match(result.stdout, /component wx00000000000000aa: appSecret=s token=tok .* pushUrl=http:\/\/127\.0\.0\.1:9\/x/)
      assert.match(result.stdout, /authorizer wx00000000000000bb: Shop \(miniProgram\)/)
    }))

  it.live("a bad configuration file is refused with the fields at fault, exit code 2", () =>
    Effect.gen(function*() {
      const file = join(mkdtempSync(join(tmpdir(), "wxopen-mock-")), "bad.json")
      writeFileSync(file, JSON.stringify({ components: [{ appId: "wx12", appSecret: "s", token: "t", encodingAesKey: "short" }], extra: 1 }))
      const result = yield* run(["--config", file])
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, "components.0.appId")
      assert.include(result.stderr, "components.0.token")
      assert.include(result.stderr, "components.0.encodingAesKey")
      assert.include(result.stderr, "extra")
    }))

  it.live("one mistake is one line: a bad quota names its field once", () =>
    Effect.gen(function*() {
      const file = join(mkdtempSync(join(tmpdir(), "wxopen-mock-")), "quota.json")
      writeFileSync(file, JSON.stringify({ ...MockConfig.defaults, quotas: { api_component_token: -1 } }))
      const result = yield* run(["--config", file])
      assert.strictEqual(result.code, 2)
      assert.strictEqual(
        result.stderr,
        `wxopen-mock: ${file} is not a valid configuration:\nquotas.api_component_token: Expected a non-negative number, actual -1\n`
      )
    }))

  it.live("a file that is not JSON, or a bad flag, exits 2", () =>
    Effect.gen(function*() {
      const file = join(mkdtempSync(join(tmpdir(), "wxopen-mock-")), "broken.json")
      writeFileSync(file, "{ components: ")
      assert.strictEqual((yield* run(["--config", file])).code, 2)
      for (const port of ["nope", "", "0x10", "1e3", "-1", "65536"]) assert.strictEqual((yield* run(["--port", port])).code, 2, port)
      assert.strictEqual((yield* run(["--bogus"])).code, 2)
    }))
})
