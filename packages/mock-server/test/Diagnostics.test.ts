import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Rids from "../src/internal/Rids.js"
import type * as MockServer from "../src/MockServer.js"
import {
  accountCall,
  appId,
  authorizeAccount,
  call,
  component,
  errcodeOf,
  fetchToken,
  miniProgram,
  officialAccount,
  withMock
} from "./utils.js"

const ridGet = "/cgi-bin/openapi/rid/get"
const quotaGet = "/cgi-bin/openapi/quota/get"
const clearQuota = "/cgi-bin/clear_quota"
const menu = "/cgi-bin/get_current_selfmenu_info"

const post = (mock: MockServer.RunningMock, path: string, token: string, body: unknown) =>
  accountCall(mock, path, { token, method: "POST", body }).pipe(Effect.map((answer) => answer.body))

const ridIn = (answer: Record<string, any>): string => / rid: (\S+)$/.exec(answer.errmsg as string)![1]!

/** The mock's clock in Unix seconds. */
const mockSeconds = (mock: MockServer.RunningMock) =>
  Effect.promise(async () => {
    const { now } = (await (await fetch(`${mock.url}/__admin/clock`)).json()) as { now: string }
    return Math.floor(Date.parse(now) / 1000)
  })

/** The first instant of the next calendar month (UTC) after the mock's clock, in seconds from it, plus a minute. */
const toNextMonth = (mock: MockServer.RunningMock) =>
  Effect.promise(async () => {
    const { now } = (await (await fetch(`${mock.url}/__admin/clock`)).json()) as { now: string }
    const at = new Date(now)
    const next = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)
    return Math.ceil((next - at.getTime()) / 1000) + 60
  })

describe("openapi/rid/get", () => {
  it.live("answers what the mock received for an account's failed call, tokens and secrets masked", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      // An hour ahead of real time, so that invoke_time must be the mock's.
      yield* Effect.promise(() => mock.admin.advanceClock(3600))
      const before = yield* mockSeconds(mock)
      const failed = yield* post(mock, "/cgi-bin/no/such/api?lang=zh_CN", accessToken, { hello: "world", app_secret: "s3cr3t-value" })
      const after = yield* mockSeconds(mock)
      assert.strictEqual(errcodeOf(failed), 40066)
      const answer = yield* post(mock, ridGet, accessToken, { rid: ridIn(failed) })
      assert.strictEqual(answer.errcode, 0)
      assert.strictEqual(answer.errmsg, "ok")
      // The mock's clock, in Unix seconds, when the call was made.
      assert.isAtLeast(answer.request.invoke_time, before)
      assert.isAtMost(answer.request.invoke_time, after)
      assert.isNumber(answer.request.cost_in_ms)
      assert.strictEqual(answer.request.request_url, "/cgi-bin/no/such/api?lang=zh_CN&access_token=***")
      assert.deepStrictEqual(JSON.parse(answer.request.request_body), { hello: "world", app_secret: "***" })
      assert.deepStrictEqual(JSON.parse(answer.request.response_body), failed)
      assert.strictEqual(answer.request.client_ip, "127.0.0.1")
      const text = JSON.stringify(answer)
      assert.notInclude(text, accessToken)
      assert.notInclude(text, "s3cr3t-value")
    }).pipe(Effect.scoped))

  it.live("76002 for a missing or malformed rid, 76001 for an unknown one; token errors as elsewhere", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, accessToken, {})), 76002)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, accessToken, { rid: "not-a-rid" })), 76002)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, accessToken, { rid: "0123abcd-0123abcd-0123abcd" })), 76001)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, ridGet, { method: "POST", body: { rid: "0123abcd-0123abcd-0123abcd" } })).body), 41001)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, "nope", { rid: "0123abcd-0123abcd-0123abcd" })), 40001)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, ridGet, { token: accessToken })).body), 43002)
    }).pipe(Effect.scoped))

  it.live("a token named like an object's property (__proto__, constructor) is no one's: 40001, and no record is read with it", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const failed = yield* post(mock, menu, "bogus", {})
      const rid = ridIn(failed)
      for (const token of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
        assert.strictEqual(errcodeOf(yield* post(mock, ridGet, token, { rid })), 40001, token)
        assert.strictEqual(errcodeOf(yield* post(mock, quotaGet, token, { cgi_path: menu })), 40001, token)
        assert.strictEqual(errcodeOf(yield* post(mock, clearQuota, token, { appid: appId })), 40001, token)
      }
    }).pipe(Effect.scoped))

  it.live("76003 across owners: a component's rid with its token only, an account's with that account's token only", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const oa = yield* authorizeAccount(mock, officialAccount.appId)
      const mp = yield* authorizeAccount(mock, miniProgram.appId)
      const componentToken = mp.componentToken
      const accountFailure = ridIn(yield* post(mock, "/cgi-bin/no/such/api", oa.accessToken, {}))
      const componentFailure = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: "nope" }, { token: componentToken })
      assert.strictEqual(errcodeOf(componentFailure), 61009)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, mp.accessToken, { rid: accountFailure })), 76003)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, componentToken, { rid: accountFailure })), 76003)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, oa.accessToken, { rid: ridIn(componentFailure) })), 76003)
      const own = yield* post(mock, ridGet, componentToken, { rid: ridIn(componentFailure) })
      assert.strictEqual(own.errcode, 0)
      assert.strictEqual(own.request.request_url, "/cgi-bin/component/api_query_auth?component_access_token=***")
      assert.deepStrictEqual(JSON.parse(own.request.request_body), { component_appid: appId, authorization_code: "***" })
    }).pipe(Effect.scoped))

  it.live("a rid is kept 7 days of mock time: 76001 after", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      const failed = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: "nope" }, { token })
      yield* Effect.promise(() => mock.admin.advanceClock(6 * 24 * 3600))
      const fresh = yield* fetchToken(mock)
      assert.strictEqual((yield* post(mock, ridGet, fresh, { rid: ridIn(failed) })).errcode, 0)
      yield* Effect.promise(() => mock.admin.advanceClock(24 * 3600 + 1))
      const later = yield* fetchToken(mock)
      assert.strictEqual(errcodeOf(yield* post(mock, ridGet, later, { rid: ridIn(failed) })), 76001)
    }).pipe(Effect.scoped))
})

describe("openapi/quota/get", () => {
  it.live("an account's counter for a path, and a component's for an endpoint, after calls", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ apiQuotas: { [menu]: 5 }, quotas: { api_create_preauthcode: 4 } })
      const { accessToken, componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      for (let i = 0; i < 3; i++) yield* accountCall(mock, menu, { token: accessToken })
      const account = yield* post(mock, quotaGet, accessToken, { cgi_path: menu })
      assert.deepStrictEqual({ errcode: account.errcode, quota: account.quota }, { errcode: 0, quota: { daily_limit: 5, used: 3, remain: 2 } })
      yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token: componentToken })
      const own = yield* post(mock, quotaGet, componentToken, { cgi_path: "/cgi-bin/component/api_create_preauthcode" })
      assert.deepStrictEqual(own.quota, { daily_limit: 4, used: 1, remain: 3 })
    }).pipe(Effect.scoped))

  it.live("76021 for a path the mock counts nothing for, 76022 for another owner's path", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken, componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual(errcodeOf(yield* post(mock, quotaGet, componentToken, { cgi_path: "/cgi-bin/component/no_such_api" })), 76021)
      assert.strictEqual(errcodeOf(yield* post(mock, quotaGet, accessToken, { cgi_path: "cgi-bin/get_current_selfmenu_info" })), 76021)
      assert.strictEqual(errcodeOf(yield* post(mock, quotaGet, componentToken, { cgi_path: menu })), 76022)
      assert.strictEqual(errcodeOf(yield* post(mock, quotaGet, accessToken, { cgi_path: "/cgi-bin/component/api_component_token" })), 76022)
      assert.strictEqual(errcodeOf(yield* post(mock, quotaGet, accessToken, { cgi_path: "/sns/oauth2/access_token" })), 76022)
    }).pipe(Effect.scoped))
})

describe("quota resets", () => {
  it.live("45009, then clear_quota with the account's token: its calls pass again; the component's with its own", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ apiQuotas: { [menu]: 1 }, quotas: { api_create_preauthcode: 1 } })
      const { accessToken, componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)
      assert.strictEqual(errcodeOf((yield* accountCall(mock, menu, { token: accessToken })).body), 45009)
      assert.strictEqual(errcodeOf(yield* post(mock, clearQuota, accessToken, { appid: miniProgram.appId })), 40013)
      assert.deepStrictEqual(yield* post(mock, clearQuota, accessToken, { appid: officialAccount.appId }), { errcode: 0, errmsg: "ok" })
      assert.strictEqual((yield* accountCall(mock, menu, { token: accessToken })).body.is_menu_open, 1)

      const preauth = () => call(mock, "api_create_preauthcode", { component_appid: appId }, { token: componentToken })
      assert.isString((yield* preauth()).pre_auth_code)
      assert.strictEqual(errcodeOf(yield* preauth()), 45009)
      assert.strictEqual((yield* call(mock, "clear_quota", { component_appid: appId }, { token: componentToken })).errcode, 0)
      assert.isString((yield* preauth()).pre_auth_code)
      const state = yield* Effect.promise(() => mock.admin.state())
      const month = new Date(Date.parse((yield* Effect.promise(() => fetch(`${mock.url}/__admin/clock`).then((r) => r.json()))).now)).toISOString().slice(0, 7)
      assert.deepStrictEqual(state.quotaResets, { [`${month}:${officialAccount.appId}`]: 1, [`${month}:${appId}`]: 1 })
    }).pipe(Effect.scoped))

  it.live("10 resets a month per account, clear_quota and clear_quota/v2 together: 48006 on the 11th, again next month", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { accessToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const v2 = () =>
        call(mock, "clear_quota/v2", { component_appid: appId, appsecret: component.appSecret, appid: officialAccount.appId })
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* post(mock, clearQuota, accessToken, { appid: officialAccount.appId })).errcode, 0)
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* v2()).errcode, 0)
      assert.strictEqual(errcodeOf(yield* v2()), 48006)
      assert.strictEqual(errcodeOf(yield* post(mock, clearQuota, accessToken, { appid: officialAccount.appId })), 48006)
      // The component's own resets are its own.
      assert.strictEqual((yield* call(mock, "clear_quota/v2", { component_appid: appId, appsecret: component.appSecret })).errcode, 0)
      yield* Effect.promise(async () => mock.admin.advanceClock(await Effect.runPromise(toNextMonth(mock))))
      assert.strictEqual((yield* v2()).errcode, 0)
    }).pipe(Effect.scoped))

  it.live("clear_quota/v2 needs no token; a missing or wrong secret is 41004 or 40125, never echoed, masked in the journal", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ quotas: { api_component_token: 1 } })
      const token = yield* fetchToken(mock)
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
      const again = () =>
        call(mock, "api_component_token", { component_appid: appId, component_appsecret: component.appSecret, component_verify_ticket: ticket })
      assert.strictEqual(errcodeOf(yield* again()), 45009)
      assert.strictEqual(errcodeOf(yield* call(mock, "clear_quota/v2", { component_appid: appId })), 41004)
      const wrong = yield* call(mock, "clear_quota/v2", { component_appid: appId, appsecret: "wrong-secret-value" })
      assert.strictEqual(errcodeOf(wrong), 40125)
      assert.notInclude(JSON.stringify(wrong), "wrong-secret-value")
      assert.strictEqual((yield* call(mock, "clear_quota/v2", { component_appid: appId, appsecret: component.appSecret })).errcode, 0)
      assert.isString((yield* again()).component_access_token)
      const journal = yield* Effect.promise(() => mock.admin.journal({ endpoint: "clear_quota/v2" }))
      assert.strictEqual(journal.length, 3)
      assert.notInclude(JSON.stringify(journal), "wrong-secret-value")
      assert.notInclude(JSON.stringify(journal), component.appSecret)
      const looked = yield* post(mock, ridGet, token, { rid: ridIn(wrong) })
      assert.deepStrictEqual(JSON.parse(looked.request.request_body), { component_appid: appId, appsecret: "***" })
      assert.notInclude(JSON.stringify(looked), "wrong-secret-value")
    }).pipe(Effect.scoped))
})

describe("the rids held", () => {
  it("at most maxRids: the oldest goes first", () => {
    const rids = Rids.make({ now: () => 0 })
    const rid = (i: number) => `${i.toString(16).padStart(8, "0")}-00000000-00000000`
    const record = { at: 0, costMs: 0, url: "/x", requestBody: "", responseBody: "", clientIp: "127.0.0.1", owner: appId, path: "/x" }
    for (let i = 0; i <= Rids.maxRids; i++) rids.record(rid(i), record)
    assert.strictEqual(rids.size(), Rids.maxRids)
    const owner = { kind: "component", appId } as const
    assert.strictEqual(errcodeOf(rids.lookup(owner, rid(0))), 76001)
    assert.strictEqual(rids.lookup(owner, rid(1)).errcode, 0)
    assert.strictEqual(rids.lookup(owner, rid(Rids.maxRids)).errcode, 0)
  })
})
