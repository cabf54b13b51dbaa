import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import {
  accountCall,
  appId,
  authorizeAccount,
  call,
  errcodeOf,
  miniProgram,
  officialAccount,
  withMock
} from "./utils.js"

const menu = "/cgi-bin/get_current_selfmenu_info"

describe("account calls: the access token", () => {
  it.live("no access_token: 41001; one the mock never issued: 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu)).body), 41001)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: "nope" })).body), 40001)
      // A component token is not an account's.
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: componentToken })).body), 40001)
    }).pipe(Effect.scoped))

  it.live("the token api_query_auth issued works", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const answer = yield* accountCall(mock, menu, { token: accessToken })
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(answer.body.is_menu_open, 1)
    }).pipe(Effect.scoped))

  it.live("invalidate-token: 40001 at once; the refresh token still gets a token that works", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken, componentToken, refreshToken } = yield* authorizeAccount(mock, officialAccount.appId)
      yield* Effect.promise(() => mock.admin.invalidateToken(appId, officialAccount.appId))
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 40001)
      const refreshed = yield* call(mock, "api_authorizer_token", {
        component_appid: appId,
        authorizer_appid: officialAccount.appId,
        authorizer_refresh_token: refreshToken
      }, { token: componentToken })
      assert.strictEqual((yield* accountCall(mock, menu, { token: refreshed.authorizer_access_token })).body.is_menu_open, 1)
      const missing = yield* Effect.promise(() => fetch(`${mock.url}/__admin/authorizations/${appId}/${miniProgram.appId}/invalidate-token`, { method: "POST" }))
      assert.strictEqual(missing.status, 404)
    }).pipe(Effect.scoped))

  it.live("a token replaced by a refresh keeps working 5 minutes of mock time, then 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken, componentToken, refreshToken } = yield* authorizeAccount(mock, officialAccount.appId)
      yield* call(mock, "api_authorizer_token", {
        component_appid: appId,
        authorizer_appid: officialAccount.appId,
        authorizer_refresh_token: refreshToken
      }, { token: componentToken })
      yield* Effect.promise(() => mock.admin.advanceClock(299))
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)
      yield* Effect.promise(() => mock.admin.advanceClock(2))
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 40001)
    }).pipe(Effect.scoped))

  it.live("a token replaced by a re-authorization keeps working 5 minutes, then 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const first = yield* authorizeAccount(mock, officialAccount.appId)
      const second = yield* authorizeAccount(mock, officialAccount.appId)
      assert.notStrictEqual(second.accessToken, first.accessToken)
      yield* Effect.promise(() => mock.admin.advanceClock(299))
      assert.strictEqual((yield* accountCall(mock, menu, { token: first.accessToken })).body.is_menu_open, 1)
      yield* Effect.promise(() => mock.admin.advanceClock(2))
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: first.accessToken })).body), 40001)
      assert.strictEqual((yield* accountCall(mock, menu, { token: second.accessToken })).body.is_menu_open, 1)
    }).pipe(Effect.scoped))

  it.live("an expired token: 42001, for an hour; then it is pruned and answers 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      yield* Effect.promise(() => mock.admin.advanceClock(7200))
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 42001)
      yield* Effect.promise(() => mock.admin.advanceClock(3601 + 60))
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 40001)
      assert.deepStrictEqual((yield* Effect.promise(() => mock.admin.state())).authorizerTokens, {})
    }).pipe(Effect.scoped))

  it.live("after the account revokes: 61003; once it authorizes again, the old token is just stale (40001)", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      yield* Effect.promise(() => mock.admin.revoke(appId, officialAccount.appId))
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 61003)
      const again = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 40001)
      assert.strictEqual((yield* accountCall(mock, menu, { token: again.accessToken })).body.is_menu_open, 1)
    }).pipe(Effect.scoped))
})

describe("account calls: account type and permission sets", () => {
  it.live("an official account API called for a mini program, and the other way round: 48001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const mini = yield* authorizeAccount(mock, miniProgram.appId)
      const official = yield* authorizeAccount(mock, officialAccount.appId)
      const refused = (yield* accountCall(mock, menu, { token: mini.accessToken })).body
      assert.strictEqual(errcodeOf(refused), 48001)
      assert.match(refused.errmsg, /^api unauthorized rid: /)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, "/wxa/get_category", { token: official.accessToken })).body), 48001)
    }).pipe(Effect.scoped))

  it.live("a set the account did not grant: 61007 naming it, in the form wxopen's core parses", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken, funcInfo } = yield* authorizeAccount(mock, officialAccount.appId, [2, 7])
      assert.deepStrictEqual(funcInfo.map((f) => f.funcscope_category.id), [2, 7])
      const refused = (yield* accountCall(mock, menu, { token: accessToken })).body
      assert.strictEqual(errcodeOf(refused), 61007)
      assert.match(refused.errmsg, /^api is unauthorized to component \(funcscope_category 15 not granted\) rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/)
      assert.strictEqual(/funcscope_category (\d+)/.exec(refused.errmsg)?.[1], "15")
      // Set 2 was granted: a user management API gets past the check (to the no-stub answer).
      assert.strictEqual(errcodeOf((yield* accountCall(mock, "/cgi-bin/user/info", { token: accessToken })).body), 40066)
    }).pipe(Effect.scoped))

  it.live("an API with several sets is allowed by any one of them", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId, [3])
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)
    }).pipe(Effect.scoped))

  it.live("a path not in the table needs no set, for either account type", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, miniProgram.appId, [])
      assert.isArray((yield* accountCall(mock, "/cgi-bin/get_api_domain_ip", { token: accessToken })).body.ip_list)
    }).pipe(Effect.scoped))
})

describe("account calls: quota, faults, journal", () => {
  it.live("past an apiQuotas limit: 45009, for that account and path only", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ apiQuotas: { [menu]: 2 } })
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)
      const refused = (yield* accountCall(mock, menu, { token: accessToken })).body
      assert.strictEqual(errcodeOf(refused), 45009)
      assert.match(refused.errmsg, /^reach max api daily quota limit rid: /)
      assert.isArray((yield* accountCall(mock, "/cgi-bin/get_api_domain_ip", { token: accessToken })).body.ip_list)
      // The counts go with the day.
      yield* Effect.promise(() => mock.admin.advanceClock(24 * 3600))
      const fresh = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual((yield* accountCall(mock, menu, { token: fresh.accessToken })).body.is_menu_open, 1)
    }).pipe(Effect.scoped))

  it.live("a fault on a path fires for that path only; the journal records the call under its path, token masked", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: menu, times: 1, fault: { type: "errcode", errcode: -1 } }))
      assert.isArray((yield* accountCall(mock, "/cgi-bin/get_api_domain_ip", { token: accessToken })).body.ip_list)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), -1)
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)
      const entries = yield* Effect.promise(() => mock.admin.journal({ endpoint: menu }))
      assert.deepStrictEqual(entries.map((e) => [e.method, e.path, e.endpoint, e.status, e.errcode ?? null, e.fault ?? null]), [
        ["GET", menu, menu, 200, -1, "errcode"],
        ["GET", menu, menu, 200, null, null]
      ])
      assert.deepStrictEqual(entries[0]!.query, { access_token: "***" })
      assert.notInclude(JSON.stringify(yield* Effect.promise(() => mock.admin.journal())), accessToken)
    }).pipe(Effect.scoped))

  it.live("faults of every kind apply to account calls: an HTTP status", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: "/wxa/commit", times: 1, fault: { type: "status", status: 503 } }))
      const response = yield* Effect.promise(() => fetch(`${mock.url}/wxa/commit?access_token=x`, { method: "POST", body: "{}" }))
      assert.strictEqual(response.status, 503)
      assert.match(yield* Effect.promise(() => response.text()), /<html>/)
    }).pipe(Effect.scoped))

  it.live("a fault rule's endpoint is a component endpoint, an account path or \"*\": other strings are refused", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const add = (endpoint: string) =>
        Effect.promise(() =>
          fetch(`${mock.url}/__admin/faults`, { method: "POST", body: JSON.stringify({ endpoint, fault: { type: "empty" } }), headers: { "content-type": "application/json" } }).then((r) => r.status)
        )
      assert.deepStrictEqual(
        [yield* add("/cgi-bin/user/info"), yield* add("api_get_authorizer_list"), yield* add("cgi-bin/user/info"), yield* add("/cgi-bin/component/api_query_auth"), yield* add("/__admin/faults")],
        [201, 201, 400, 400, 400]
      )
    }).pipe(Effect.scoped))
})

describe("account calls: the answers", () => {
  it.live("built in: get_api_domain_ip, get_current_selfmenu_info, wxa/get_category, in WeChat's shapes", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const official = yield* authorizeAccount(mock, officialAccount.appId)
      const mini = yield* authorizeAccount(mock, miniProgram.appId)
      const ips = (yield* accountCall(mock, "/cgi-bin/get_api_domain_ip", { token: official.accessToken })).body
      assert.deepStrictEqual(Object.keys(ips), ["ip_list"])
      assert.isTrue(ips.ip_list.every((ip: unknown) => typeof ip === "string"))
      const current = (yield* accountCall(mock, menu, { token: official.accessToken })).body
      assert.strictEqual(current.is_menu_open, 1)
      assert.isAbove(current.selfmenu_info.button.length, 0)
      for (const button of current.selfmenu_info.button) assert.isString(button.name)
      const categories = (yield* accountCall(mock, "/wxa/get_category", { token: mini.accessToken })).body
      assert.deepStrictEqual([categories.errcode, categories.errmsg], [0, "ok"])
      for (const entry of categories.category_list) {
        assert.deepStrictEqual(Object.keys(entry).sort(), ["first_class", "first_id", "second_class", "second_id"])
      }
    }).pipe(Effect.scoped))

  it.live("a built-in GET API called with POST: 43001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken, body: {} })).body), 43001)
    }).pipe(Effect.scoped))

  it.live("nothing to answer with: 40066 saying which call and how to stub it", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const answer = yield* accountCall(mock, "/cgi-bin/message/template/send", { token: accessToken, body: { touser: "o1" } })
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(errcodeOf(answer.body), 40066)
      assert.match(answer.body.errmsg, /^invalid url: the wxopen mock has no stub for POST \/cgi-bin\/message\/template\/send and no built-in answer; add one with POST \/__admin\/stubs rid: /)
    }).pipe(Effect.scoped))

  it.live("paths under /sns/ the mock does not play take no account token: a stub answers them as it is", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const path = "/sns/jscode2session"
      assert.strictEqual(errcodeOf((yield* accountCall(mock, `${path}?appid=${miniProgram.appId}&js_code=c`)).body), 40066)
      yield* Effect.promise(() => mock.admin.stubs.create({ method: "GET", path, body: { openid: "o1", session_key: "k" } }))
      assert.deepStrictEqual((yield* accountCall(mock, `${path}?appid=${miniProgram.appId}&js_code=c`)).body, { openid: "o1", session_key: "k" })
    }).pipe(Effect.scoped))
})
