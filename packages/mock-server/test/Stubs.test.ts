import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { accountCall, authorizeAccount, errcodeOf, officialAccount, withMock } from "./utils.js"

const admin = (url: string, path: string, init: { readonly method?: string; readonly body?: unknown } = {}) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/__admin${path}`, {
      method: init.method ?? "GET",
      ...(init.body === undefined ? {} : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body), headers: { "content-type": "application/json" } })
    })
    const text = await response.text()
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) }
  })

describe("stubs", () => {
  it.live("created, listed, read, changed and deleted through the admin client; the account call answers with them", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const path = "/cgi-bin/user/info"
      const created = yield* Effect.promise(() =>
        mock.admin.stubs.create({ method: "GET", path, body: { subscribe: 1, openid: "o1", nickname: "Band" } })
      )
      assert.deepStrictEqual(created, { id: 1, method: "GET", path, status: 200, body: { subscribe: 1, openid: "o1", nickname: "Band" } })
      assert.deepStrictEqual(yield* Effect.promise(() => mock.admin.stubs.get(1)), created)
      const answered = yield* accountCall(mock, `${path}?openid=o1`, { token: accessToken })
      assert.deepStrictEqual([answered.status, answered.body], [200, { subscribe: 1, openid: "o1", nickname: "Band" }])

      const other = yield* Effect.promise(() => mock.admin.stubs.create({ method: "POST", path: "/cgi-bin/message/custom/send", body: { errcode: 0, errmsg: "ok" } }))
      assert.strictEqual(other.id, 2)
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.stubs.list())).map((s) => s.id), [1, 2])
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.stubs.list({ method: "POST" }))).map((s) => s.id), [2])
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.stubs.list({ path, method: "GET" }))).map((s) => s.id), [1])

      const changed = yield* Effect.promise(() => mock.admin.stubs.update(1, { status: 503, body: { errcode: -1, errmsg: "system error" } }))
      assert.deepStrictEqual(changed, { id: 1, method: "GET", path, status: 503, body: { errcode: -1, errmsg: "system error" } })
      const failing = yield* accountCall(mock, path, { token: accessToken })
      assert.deepStrictEqual([failing.status, failing.body], [503, { errcode: -1, errmsg: "system error" }])
      assert.strictEqual((yield* Effect.promise(() => mock.admin.journal({ endpoint: path }))).at(-1)!.status, 503)

      yield* Effect.promise(() => mock.admin.stubs.remove(1))
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.stubs.list())).map((s) => s.id), [2])
      assert.strictEqual(errcodeOf((yield* accountCall(mock, path, { token: accessToken })).body), 40066)
      assert.strictEqual((yield* admin(mock.url, "/stubs/1")).status, 404)
    }).pipe(Effect.scoped))

  it.live("a DELETE that carries a JSON body is served like one without (the body is read once, by the mock)", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "GET", path: "/cgi-bin/user/get", body: { n: 1 } }))
      const send = (method: string, path: string) =>
        Effect.promise(async () => {
          const response = await fetch(`${mock.url}/__admin${path}`, { method, body: "[]", headers: { "content-type": "application/json" } })
          return [response.status, await response.text()] as const
        })
      const [deleted, text] = yield* send("DELETE", "/stubs/1")
      assert.strictEqual(deleted, 200, text)
      assert.deepStrictEqual(yield* Effect.promise(() => mock.admin.stubs.list()), [])
    }).pipe(Effect.scoped))

  it.live("PUT replaces a stub whole (status back to 200 when not given); the newest of several matching wins", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const path = "/cgi-bin/user/get"
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "GET", path, status: 500, body: { n: 1 } }))
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "GET", path, body: { n: 2 } }))
      assert.deepStrictEqual((yield* accountCall(mock, path, { token: accessToken })).body, { n: 2 })
      const replaced = yield* admin(mock.url, "/stubs/1", { method: "PUT", body: { method: "GET", path, body: { n: 3 } } })
      assert.deepStrictEqual(replaced, { status: 200, body: { id: 1, method: "GET", path, status: 200, body: { n: 3 } } })
      // Changing the older stub does not make it the newer one.
      assert.deepStrictEqual((yield* accountCall(mock, path, { token: accessToken })).body, { n: 2 })
      // A stub answers after the checks: a call without a token still gets 41001.
      assert.strictEqual(errcodeOf((yield* accountCall(mock, path)).body), 41001)
    }).pipe(Effect.scoped))

  it.live("every write is checked: one line per field at fault, unknown fields refused", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const bad = yield* admin(mock.url, "/stubs", { method: "POST", body: { method: "PUT", path: "cgi-bin/x", status: 99, id: 7 } })
      assert.strictEqual(bad.status, 400)
      const lines: Array<string> = bad.body.error.split("\n")
      assert.deepStrictEqual(lines.map((line) => line.split(":")[0]).sort(), ["body", "id", "method", "path", "status"])
      const notJson = yield* admin(mock.url, "/stubs", { method: "POST", body: "{nope" })
      assert.deepStrictEqual(notJson, { status: 400, body: { error: "the body must be JSON" } })
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "GET", path: "/cgi-bin/tags/get", body: null }))
      const patch = yield* admin(mock.url, "/stubs/1", { method: "PATCH", body: { status: 700, extra: true } })
      assert.strictEqual(patch.status, 400)
      assert.deepStrictEqual(patch.body.error.split("\n").map((line: string) => line.split(":")[0]).sort(), ["extra", "status"])
      const component = yield* admin(mock.url, "/stubs", { method: "POST", body: { method: "POST", path: "/cgi-bin/component/api_query_auth", body: {} } })
      assert.strictEqual(component.status, 400)
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.stubs.list())).map((s) => s.body), [null])
    }).pipe(Effect.scoped))

  it.live("the list takes exact method and path filters only: _like, q, _expand and any other key are refused", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "GET", path: "/cgi-bin/tags/get", body: {} }))
      for (const query of ["path_like=(a%2B)%2B%24", "q=tags", "_expand=x", "_embed=x", "_delay=60000", "callback=f", "_sort=path", "body.x=1"]) {
        const refused = yield* admin(mock.url, `/stubs?${query}`)
        assert.strictEqual(refused.status, 400, query)
        assert.match(refused.body.error, /filters on method and path, exact values/)
      }
      assert.strictEqual((yield* admin(mock.url, "/stubs/1?_expand=x")).status, 400)
      assert.strictEqual((yield* admin(mock.url, "/stubs?path=/a&path=/b")).status, 400)
      assert.strictEqual((yield* admin(mock.url, "/stubs?path=/cgi-bin/tags")).body.length, 0, "exact, not a prefix")
      assert.strictEqual((yield* admin(mock.url, "/stubs", { method: "DELETE" })).status, 405)
    }).pipe(Effect.scoped))

  it.live("reset empties the stubs, or brings back those of the configuration", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ stubs: [{ method: "GET", path: "/cgi-bin/tags/get", body: { tags: [] } }] })
      assert.deepStrictEqual(yield* Effect.promise(() => mock.admin.stubs.list()), [
        { id: 1, method: "GET", path: "/cgi-bin/tags/get", status: 200, body: { tags: [] } }
      ])
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "POST", path: "/cgi-bin/tags/create", body: {} }))
      yield* Effect.promise(() => mock.admin.stubs.remove(1))
      yield* Effect.promise(() => mock.admin.reset())
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.stubs.list())).map((s) => s.path), ["/cgi-bin/tags/get"])
      const plain = yield* withMock()
      yield* Effect.promise(() => plain.admin.stubs.create({ method: "POST", path: "/cgi-bin/tags/create", body: {} }))
      yield* Effect.promise(() => plain.admin.reset())
      assert.deepStrictEqual(yield* Effect.promise(() => plain.admin.stubs.list()), [])
    }).pipe(Effect.scoped))
})
