import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as FastCheck from "effect/FastCheck"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { MockConfig, MockServer } from "../src/index.js"
import * as Guard from "../src/internal/Guard.js"
import { appId, component, startReceiver, withMock } from "./utils.js"

/** One request with exactly these headers (a `Host` of the test's choosing among them), over a fresh connection. */
const request = (
  url: string,
  path: string,
  options: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string } = {}
) =>
  Effect.async<{ readonly status: number; readonly text: string }>((resume) => {
    const req = Http.request(`${url}${path}`, { method: options.method ?? "GET", headers: options.headers ?? {}, agent: false }, (res) => {
      let text = ""
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk)).on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, text })))
    })
    req.on("error", (error) => resume(Effect.die(error)))
    req.end(options.body)
  })

const secrets = [component.appSecret, component.token, component.encodingAesKey]

describe("the admin API's queries", () => {
  it.live("json-server's regular-expression filter is refused at once, and the mock keeps answering", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      // Against the 43-character EncodingAESKey this pattern backtracks for longer than the test would ever wait.
      const started = Date.now()
      const redos = yield* request(mock.url, "/__admin/state/components?encodingAesKey_like=(.*)*!")
      const health = yield* request(mock.url, "/__admin/health")
      const elapsed = Date.now() - started
      assert.strictEqual(redos.status, 400, redos.text)
      assert.match(JSON.parse(redos.text).error, /encodingAesKey_like.*is not accepted: filter on a field, exact values/)
      assert.deepStrictEqual([health.status, JSON.parse(health.text)], [200, { ok: true }])
      // Not a timing margin: the pattern would hold the event loop for hours, and this bound only tells that apart.
      assert.isBelow(elapsed, 10_000)
    }).pipe(Effect.scoped))

  it.live("exact filters, paging and sorting still work; every other json-server option is refused", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const found = yield* request(mock.url, `/__admin/state/authorizers?type=miniProgram&_sort=appId&_order=desc&_page=1&_limit=5`)
      assert.deepStrictEqual(JSON.parse(found.text).map((a: { appId: string }) => a.appId), ["wxa1b2c3d4e5f60002"])
      for (const query of ["appId_like=%5B", "_expand=component", "_embed=tokens", "q=wx", "callback=steal", "appId_ne=x", "appSecret=wxopen-mock-app-secret", "encodingAesKey=x", "token=x", "a.b=1", "_limit=-1", "appId=1&appId=2"]) {
        const refused = yield* request(mock.url, `/__admin/state/components?${query}`)
        assert.strictEqual(refused.status, 400, `${query}: ${refused.text}`)
      }
    }).pipe(Effect.scoped))

  it.live("no answer carries a stack trace or a path of this machine, over 10,000 fuzzed admin requests", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const key = FastCheck.oneof(
        FastCheck.constantFrom("_like", "appId_like", "_expand", "_embed", "q", "callback", "_sort", "_order", "_page", "_limit", "_start", "id", "appId", "__proto__", "constructor", "a.b", "a[b]"),
        FastCheck.string({ maxLength: 12 })
      )
      const value = FastCheck.oneof(FastCheck.constantFrom("[", "(.*)*!", "-1", "1e9", "component", "asc", "%E0%A4%A", ""), FastCheck.string({ maxLength: 12 }))
      const paths = FastCheck.tuple(
        FastCheck.constantFrom(
          "/__admin/state/db",
          "/__admin/state/components",
          "/__admin/state/components/1",
          "/__admin/state/tickets",
          "/__admin/state/nope",
          "/__admin/stubs",
          "/__admin/stubs/1",
          "/__admin/stubs/x/y",
          "/__admin/journal",
          "/__admin/faults"
        ),
        FastCheck.array(FastCheck.tuple(key, value), { maxLength: 3 })
      ).map(([path, query]) => query.length === 0 ? path : `${path}?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`)
      const body = FastCheck.oneof(FastCheck.constant(undefined), FastCheck.json(), FastCheck.string({ maxLength: 40 }))
      const method = FastCheck.constantFrom("GET", "GET", "POST", "PUT", "PATCH", "DELETE")
      const leaks = /\n\s+at |node_modules|file:\/\//
      yield* Effect.promise(() =>
        FastCheck.assert(
          FastCheck.asyncProperty(paths, method, body, async (path, verb, text) => {
            const response = await fetch(`${mock.url}${path}`, {
              method: verb,
              ...(verb === "GET" || text === undefined ? {} : { body: text, headers: { "content-type": "application/json" } })
            })
            const answer = await response.text()
            if (leaks.test(answer) || answer.includes(process.cwd())) throw new Error(`${verb} ${path}: HTTP ${response.status} ${answer}`)
            if (response.status >= 500) throw new Error(`${verb} ${path}: HTTP ${response.status} ${answer}`)
          }),
          { numRuns: 10_000 }
        )
      )
    }).pipe(Effect.scoped), 300_000)
})

describe("the admin API's callers", () => {
  it.live("a foreign Host is refused (DNS rebinding); IP addresses, localhost and allowed names are served", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(
        Effect.promise(() => MockServer.start({ allowedHosts: ["Mock.Internal"] })),
        (mock) => Effect.promise(() => mock.close())
      )
      const port = new URL(mock.url).port
      const refused = yield* request(mock.url, "/__admin/state/db", { headers: { host: `attacker.example:${port}` } })
      assert.strictEqual(refused.status, 403)
      assert.match(JSON.parse(refused.text).error, /does not answer for the host "attacker\.example:\d+".*allowedHosts \(--allowed-host\)/)
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `mock.internal:${port}`, "10.0.0.7"]) {
        assert.strictEqual((yield* request(mock.url, "/__admin/health", { headers: { host } })).status, 200, host)
      }
      assert.strictEqual((yield* request(mock.url, "/__admin/health", { headers: { host: "a b" } })).status, 403)
      // WeChat's endpoints answer whatever the Host: a container may name the mock as it likes.
      const wechat = yield* request(mock.url, "/cgi-bin/component/api_component_token", {
        method: "POST",
        headers: { host: "wechat.example", "content-type": "application/json" },
        body: "{}"
      })
      assert.deepStrictEqual([wechat.status, typeof JSON.parse(wechat.text).errcode], [200, "number"])
    }).pipe(Effect.scoped))

  it.live("a web page's cross-site requests are refused, and change nothing", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const fault = JSON.stringify({ endpoint: "*", fault: { type: "errcode", errcode: -1 } })
      // A form or fetch with text/plain: no preflight, so the page's Origin is all there is to go on.
      const crossSite = yield* request(mock.url, "/__admin/faults", {
        method: "POST",
        headers: { origin: "https://attacker.example", "content-type": "text/plain" },
        body: fault
      })
      assert.strictEqual(crossSite.status, 403)
      const asJson = yield* request(mock.url, "/__admin/reset", { method: "POST", headers: { origin: "null" } })
      assert.strictEqual(asJson.status, 403)
      const image = yield* request(mock.url, "/__admin/state/db", { headers: { "sec-fetch-site": "cross-site" } })
      assert.strictEqual(image.status, 403)
      // Without an Origin (an old browser's form), a body that is not JSON is still refused.
      const plain = yield* request(mock.url, "/__admin/faults", { method: "POST", headers: { "content-type": "text/plain" }, body: fault })
      assert.strictEqual(plain.status, 415)
      assert.strictEqual((yield* request(mock.url, "/__admin/faults")).text, "[]")
      // The mock's own origin, and a program's request without any, are served.
      const own = yield* request(mock.url, "/__admin/faults", {
        method: "POST",
        headers: { origin: mock.url, "sec-fetch-site": "same-origin", "content-type": "application/json" },
        body: fault
      })
      assert.strictEqual(own.status, 201, own.text)
    }).pipe(Effect.scoped))

  it.live("with a token, every admin request needs it; the mock's own admin client sends it; WeChat's endpoints do not", () =>
    Effect.gen(function*() {
      const adminToken = "a-long-enough-admin-token"
      const mock = yield* Effect.acquireRelease(
        Effect.promise(() => MockServer.start({ adminToken })),
        (mock) => Effect.promise(() => mock.close())
      )
      assert.strictEqual((yield* request(mock.url, "/__admin/health")).status, 401)
      assert.strictEqual((yield* request(mock.url, "/__admin/health", { headers: { authorization: "Bearer a-long-enough-admin-tokeX" } })).status, 401)
      assert.strictEqual((yield* request(mock.url, "/__admin/health", { headers: { authorization: `Bearer ${adminToken}` } })).status, 200)
      assert.strictEqual((yield* Effect.promise(() => mock.admin.ticket(appId))).ticket.length > 0, true)
      const wechat = yield* request(mock.url, "/cgi-bin/component/api_component_token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}"
      })
      assert.deepStrictEqual([wechat.status, typeof JSON.parse(wechat.text).errcode], [200, "number"])
      const short = yield* Effect.promise(() => MockServer.start({ adminToken: "short" }).then(() => "started", (e: Error) => e.message))
      assert.match(short, /adminToken must be 16 to 256 printable characters/)
    }).pipe(Effect.scoped))

  it.live("the state hides each component's secrets unless asked for them", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      // Every spelling Express takes for a route (a trailing slash, any case) reaches the same hiding.
      const spellings = ["/__admin/state/db", "/__admin/state/db/", "/__admin/state/DB", "/__admin/state/Db/", "/__admin/state/./db"]
      for (const path of [...spellings, "/__admin/state/components", "/__admin/state/components/wx0c0ffee000000001"]) {
        const { status, text } = yield* request(mock.url, path)
        assert.strictEqual(status, 200, text)
        for (const secret of secrets) assert.notInclude(text, secret, path)
        assert.include(text, "\"appSecret\":\"***\"")
      }
      const revealed = yield* request(mock.url, "/__admin/state/db", { headers: { "x-wxopen-reveal": "secrets" } })
      for (const secret of secrets) assert.include(revealed.text, secret)
      const state = yield* Effect.promise(() => mock.admin.state({ revealSecrets: true }))
      assert.strictEqual(state.components[0]!.appSecret, component.appSecret)
      assert.strictEqual((yield* Effect.promise(() => mock.admin.state())).components[0]!.appSecret, "***")
    }).pipe(Effect.scoped))
})

describe("pushes", () => {
  it("go only to this machine or to a host the configuration names", () => {
    for (const url of ["http://127.0.0.1:9/p", "http://localhost/p", "https://[::1]:8443/p", "http://2130706433/p", "http://127.9.9.9/"]) {
      assert.isUndefined(Guard.pushRefusal(url, []), url)
    }
    for (const url of ["http://attacker.example/p", "http://127.0.0.1.attacker.example/", "http://10.0.0.1/", "http://169.254.169.254/", "ftp://127.0.0.1/", "http://u:p@127.0.0.1/", "nope"]) {
      assert.isDefined(Guard.pushRefusal(url, []), url)
    }
    assert.isUndefined(Guard.pushRefusal("http://Receiver:3000/p", ["receiver"]))
    const foreign = { ...MockConfig.defaults, components: [{ ...MockConfig.defaults.components[0]!, pushUrl: "http://receiver:3000/p" }] }
    assert.match(Either.getLeft(MockConfig.decode(foreign)).pipe((o) => o._tag === "Some" ? o.value : ""), /^components\.0\.pushUrl: pushes go only to this machine/)
    assert.isTrue(Either.isRight(MockConfig.decode({ ...foreign, pushHosts: ["receiver"] })))
  })

  it.live("a push URL elsewhere is refused at run time, and a redirect is not followed", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const refused = yield* request(mock.url, `/__admin/components/${appId}/push-url`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ pushUrl: "http://169.254.169.254/latest/meta-data" })
      })
      assert.strictEqual(refused.status, 400)
      assert.match(JSON.parse(refused.text).error, /pushes go only to this machine/)

      const target = yield* startReceiver()
      const redirecting = yield* Effect.acquireRelease(
        Effect.async<Http.Server>((resume) => {
          const server = Http.createServer((_req, res) => res.writeHead(307, { location: target.url }).end())
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const port = (redirecting.address() as AddressInfo).port
      yield* Effect.promise(() => mock.admin.setPushUrl(appId, `http://127.0.0.1:${port}/push`))
      const pushed = yield* Effect.promise(() => mock.admin.pushTicket(appId))
      assert.strictEqual(pushed.push!.attempts[0]!.status, 307)
      assert.isFalse(pushed.push!.delivered)
      assert.deepStrictEqual(target.received, [])
    }).pipe(Effect.scoped))
})

describe("listening beyond this machine", () => {
  it.live("warns, and says to set a token", () =>
    Effect.gen(function*() {
      const warnings: Array<Error & { code?: string }> = []
      const listener = (warning: Error & { code?: string }) => warnings.push(warning)
      process.on("warning", listener)
      const mock = yield* Effect.acquireRelease(
        Effect.promise(() => MockServer.start({ host: "0.0.0.0" })),
        (mock) => Effect.promise(() => mock.close()).pipe(Effect.ensuring(Effect.sync(() => process.off("warning", listener))))
      )
      // process.emitWarning delivers on the next tick.
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      const warning = warnings.find((w) => w.code === "WXOPEN_MOCK_EXPOSED")
      assert.isDefined(warning)
      assert.match(warning!.message, /listens on 0\.0\.0\.0, reachable from other machines.*set an admin token \(adminToken; WXOPEN_MOCK_ADMIN_TOKEN for wxopen-mock\)/)
      assert.match(mock.url, /^http:\/\/0\.0\.0\.0:\d+$/)
    }).pipe(Effect.scoped))
})
