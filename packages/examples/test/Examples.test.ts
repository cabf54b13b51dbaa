import { assert, describe, it } from "@effect/vitest"
import { MockServer } from "@wxopen/mock-server"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** Runs a compiled example to its end: its output and exit code. */
const run = (script: string, env: Record<string, string> = {}) =>
  Effect.async<{ readonly stdout: string; readonly stderr: string; readonly code: number | null }>((resume) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(`../dist/${script}.js`, import.meta.url))], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("exit", (code) => resume(Effect.succeed({ stdout, stderr, code })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** The mock as a stand-in for WeChat, reached only through the WXOPEN_* variables a script reads. */
const standIn = (mock: MockServer.RunningMock, ticket: string) => ({
  WXOPEN_COMPONENT_APPID: mock.config.components[0]!.appId,
  WXOPEN_COMPONENT_APPSECRET: mock.config.components[0]!.appSecret,
  WXOPEN_API_BASE_URL: mock.url,
  WXOPEN_COMPONENT_VERIFY_TICKET: ticket
})

const lines = (stdout: string) => stdout.split("\n").filter((line) => line !== "")

describe("the examples, against the embedded mock", () => {
  it.live("full-flow: every step, and exit 0", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("full-flow")
      assert.strictEqual(code, 0, stderr)
      const steps = lines(stdout).filter((line) => line.startsWith("✔"))
      assert.deepStrictEqual(steps.map((line) => /^✔ \d+\. ([^:]+):/.exec(line)?.[1]), [
        "WeChat",
        "push receiver",
        "verify ticket",
        "component_access_token",
        "pre_auth_code",
        "PC link",
        "mobile link",
        "merchant authorization",
        "code exchange",
        "authorizer token refresh"
      ])
      // The README shows this output as it is, but for ports, times and the code.
      const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
      const shown = /`pnpm start` runs[\s\S]*?```text\n([\s\S]*?)```/.exec(readme)?.[1] ?? "README.md shows no output of pnpm start"
      const variable = (text: string) =>
        text
          .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT")
          .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "TIME")
          .replace(/preauthcode(@@@|%40%40%40)[\w-]+/g, "preauthcode$1CODE")
      assert.strictEqual(variable(stdout), variable(shown))
      assert.match(stdout, /code exchange: wxa1b2c3d4e5f60001 granted permission sets \[1, 2, 3, 4, 7, 11, 15, 24\]/)
      assert.match(stdout, /authorizer token refresh: a new token, <redacted, \d+ characters>, until \d{4}-\d\d-\d\dT[\d:.]+Z$/m)
      // The redirect URI's own query survives the form round trip.
      assert.match(stdout, /merchant authorization: redirected to https:\/\/platform\.example\/wechat\/authorized\?shop=42&lang=zh_CN&auth_code=…&expires_in=3600/)
      assert.match(stdout, /mobile link: http:\/\/127\.0\.0\.1:\d+\/wxaopen\/safe\/bindcomponent\?action=bindcomponent&no_scan=1&.*#wechat_redirect/)
      // No secret in the output: tickets, refresh tokens, codes, the app secret, access tokens (NN_ and 120 characters).
      assert.notMatch(stdout, /ticket@@@|refreshtoken@@@|queryauthcode@@@|wxopen-mock-app-secret|\b\d{1,2}_[A-Za-z0-9_-]{100,}/)
    }))

  it.live("act-for-account: the profile, a call as the account that survives a retired token, a reconciliation", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("act-for-account")
      assert.strictEqual(code, 0, `${stdout}\n${stderr}`)
      assert.deepStrictEqual(lines(stdout).map((line) => /^✔ \d+\. ([^:]+):/.exec(line)?.[1]), [
        "WeChat",
        "authorization",
        "profile",
        "menu",
        "a retired token",
        "reconciliation"
      ])
      assert.match(stdout, /profile: Mock Coffee \(Subscription Official Account, WeChat\), permission sets \[[\d, ]*15[\d, ]*\]/)
      // Refused once (40001), one refresh, sent once more: never twice.
      assert.match(stdout, /a retired token: answers \[ok, 40001, ok\], 1 token refresh, the call went through/)
      assert.match(stdout, /reconciliation: 1 listed, 0 refilled, 0 held but not listed/)
    }))

  it.live("create-links: both links, and exit 0", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("create-links")
      assert.strictEqual(code, 0, stderr)
      const [pc, mobile] = lines(stdout)
      assert.match(pc!, /^PC: {5}https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?component_appid=wx0c0ffee000000001&pre_auth_code=preauthcode%40%40%40/)
      assert.match(mobile!, /^mobile: https:\/\/open\.weixin\.qq\.com\/wxaopen\/safe\/bindcomponent\?.*#wechat_redirect$/)
    }))

  it.live("push-receiver: a stored ticket and an exchanged authorization, and exit 0", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("push-receiver")
      assert.strictEqual(code, 0, stderr)
      assert.match(stdout, /verify ticket stored: <redacted, \d+ characters>/)
      assert.match(stdout, /push: AuthorizedEvent \(authorized\)/)
      assert.match(stdout, /Mock Coffee's tokens stored: refresh token <redacted/)
    }))

  it.live("release-check: the platform passes every case of the mock's release check, and exit 0", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("release-check")
      const output = `${stdout}\n${stderr}`
      assert.strictEqual(code, 0, output)
      assert.match(stdout, /release check as officialAccount: passed \(test account wx570bc396a51b8ff8\)/, output)
      assert.match(stdout, /release check as miniProgram: passed \(test account wxd101a85aa106f53e\)/, output)
      const cases = lines(stdout).filter((line) => /^ {2}[✔✘] /.test(line))
      assert.deepStrictEqual(cases.map((line) => line.replace(/: answered in \d+ ms$/, "")), [
        "  ✔ text: TESTCOMPONENT_MSG_TYPE_TEXT",
        "  ✔ api: QUERY_AUTH_CODE",
        "  ✔ event: LOCATION",
        "  ✔ api: QUERY_AUTH_CODE"
      ], output)
      // The authorization code never shows: not in a case, not in a log line.
      assert.notMatch(stdout, /queryauthcode@@@|ticket@@@/, output)
    }))

  it.live("error-handling: each fault as its typed error, and exit 0", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("error-handling")
      assert.strictEqual(code, 0, stderr)
      for (
        const expected of [
          /no ticket → VerifyTicketError \(NotReceived\)/,
          /WeChat is busy → SystemBusyError/,
          /daily quota is spent → QuotaError/,
          /not whitelisted → IpWhitelistError: .*add 203\.0\.113\.7/,
          /gateway answers instead of WeChat → HttpStatusError/,
          /connection is reset → TransportError/,
          /cut short → TransportError/,
          /not JSON → MalformedResponseError/,
          /WeChat busy twice, then not → retried/
        ]
      ) assert.match(stdout, expected)
    }))
})

describe("the examples, pointed at WeChat (WXOPEN_* set)", () => {
  it.live("act-for-account starts from WeChat's list, calls as the first Official Account, and skips what only the mock does", () =>
    Effect.gen(function*() {
      // A stand-in for WeChat: the mock, with both accounts authorized, reached only through the WXOPEN_* variables.
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const component = mock.config.components[0]!
      for (const authorizer of [...mock.config.authorizers].reverse()) {
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: component.appId, authorizerAppId: authorizer.appId }))
        yield* Effect.promise(() => mock.admin.advanceClock(10)) // listed by authorization time
      }
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      const { code, stderr, stdout } = yield* run("act-for-account", standIn(mock, ticket))
      assert.strictEqual(code, 0, `${stdout}\n${stderr}`)
      assert.match(stdout, /authorizers: 2 listed by WeChat, 2 refresh tokens stored/)
      // The Mini Program authorized first and is listed first: the first Official Account is the other one.
      // Read while looking for it: the Mini Program's profile, then the Official Account's, then the latter's again.
      const profiles = yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_get_authorizer_info" }))
      assert.strictEqual(profiles.length, 3)
      assert.match(stdout, /profile: Mock Coffee \(Subscription Official Account/)
      assert.match(stdout, /menu: open/)
      assert.match(stdout, /a retired token: skipped \(only the mock/)
      assert.notInclude(stdout, ticket)
    }).pipe(Effect.scoped))


  it.live("without a verify ticket it calls nothing, and says what it skipped", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* run("full-flow", {
        WXOPEN_COMPONENT_APPID: "wx0c0ffee000000001",
        WXOPEN_COMPONENT_APPSECRET: "secret",
        WXOPEN_API_BASE_URL: "http://127.0.0.1:9"
      })
      assert.strictEqual(code, 0, stderr)
      assert.match(stdout, /WeChat: the real WeChat/)
      assert.match(stdout, /push receiver: skipped/)
      assert.match(stdout, /verify ticket: skipped \(none received; set WXOPEN_COMPONENT_VERIFY_TICKET/)
    }))

  it.live("with a ticket it runs the unattended steps, and skips the merchant's", () =>
    Effect.gen(function*() {
      // A stand-in for WeChat: the mock, reached only through the WXOPEN_* variables.
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const component = mock.config.components[0]!
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      const { code, stderr, stdout } = yield* run("full-flow", standIn(mock, ticket))
      assert.strictEqual(code, 0, stderr)
      assert.match(stdout, /✔ \d+\. pre_auth_code: preauthcode@@@/)
      assert.match(stdout, /PC link: https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?/)
      for (const step of ["merchant authorization", "code exchange", "authorizer token refresh"]) {
        assert.match(stdout, new RegExp(`- \\d+\\. ${step}: skipped`))
      }
      assert.notInclude(stdout, ticket)
    }).pipe(Effect.scoped))
})
