import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { appId, authorizeAccount, call, component, errcodeOf, fetchToken, miniProgram, officialAccount, withMock } from "./utils.js"

const tokenBody = (ticket: string, overrides: Record<string, unknown> = {}) => ({
  component_appid: appId,
  component_appsecret: component.appSecret,
  component_verify_ticket: ticket,
  ...overrides
})

const assertError = (answer: Record<string, any>, errcode: number, text: string) => {
  assert.strictEqual(answer.errcode, errcode)
  assert.match(answer.errmsg, new RegExp(`^${text.replace(/[()]/g, "\\$&")}.* rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`))
}

describe("api_component_token", () => {
  it.live("issues a token for the pushed ticket, with no errcode in the answer", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
      const answer = yield* call(mock, "api_component_token", tokenBody(ticket))
      assert.deepStrictEqual(Object.keys(answer).sort(), ["component_access_token", "expires_in"])
      assert.strictEqual(answer.expires_in, 7200)
    }).pipe(Effect.scoped))

  const triggers: ReadonlyArray<readonly [string, number, string, (ticket: string) => { body?: unknown; raw?: string; contentType?: string }]> = [
    ["a body that is not JSON", 47001, "data format error", () => ({ raw: "{not json" })],
    ["a form-encoded body", 41018, "missing component_appid", () => ({ raw: "component_appid=wx1", contentType: "application/x-www-form-urlencoded" })],
    ["no component_appid", 41018, "missing component_appid", (t) => ({ body: tokenBody(t, { component_appid: undefined }) })],
    ["a malformed appid", 40013, "invalid appid", (t) => ({ body: tokenBody(t, { component_appid: "wx-not-an-appid" }) })],
    ["an unknown component", 61011, "invalid component", (t) => ({ body: tokenBody(t, { component_appid: "wx00000000000000ff" }) })],
    ["no secret", 41004, "appsecret missing", (t) => ({ body: tokenBody(t, { component_appsecret: "" }) })],
    ["a wrong secret", 40125, "invalid appsecret", (t) => ({ body: tokenBody(t, { component_appsecret: "wrong" }) })],
    ["an unknown ticket", 61006, "component ticket is invalid", (t) => ({ body: tokenBody(t + "x") })],
    ["an empty ticket", 61006, "component ticket is invalid", (t) => ({ body: tokenBody(t, { component_verify_ticket: "" }) })]
  ]
  for (const [name, errcode, text, request] of triggers) {
    it.live(`${name}: ${errcode}`, () =>
      Effect.gen(function*() {
        const mock = yield* withMock()
        const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
        const { body, contentType, raw } = request(ticket)
        assertError(
          yield* call(mock, "api_component_token", body, { ...(raw === undefined ? {} : { raw }), ...(contentType === undefined ? {} : { contentType }) }),
          errcode,
          text
        )
      }).pipe(Effect.scoped))
  }

  it.live("a ticket older than 12 hours: 61005", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
      yield* Effect.promise(() => mock.admin.advanceClock(12 * 3600))
      assertError(yield* call(mock, "api_component_token", tokenBody(ticket)), 61005, "component ticket is expired")
    }).pipe(Effect.scoped))

  it.live("a caller outside the IP whitelist: 61004, with requestIP", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ components: [{ ...component, ipWhitelist: ["203.0.113.9"] }] })
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
      assertError(yield* call(mock, "api_component_token", tokenBody(ticket)), 61004, "access clientip is not registered requestIP: 127.0.0.1")
    }).pipe(Effect.scoped))

  it.live("past the daily quota: 45009", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ quotas: { api_component_token: 2 } })
      yield* fetchToken(mock)
      yield* fetchToken(mock)
      const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
      assertError(yield* call(mock, "api_component_token", tokenBody(ticket)), 45009, "reach max api daily quota limit")
    }).pipe(Effect.scoped))

  it.live("an API the component was not granted: 48001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ components: [{ ...component, deniedApis: ["api_create_preauthcode"] }] })
      const token = yield* fetchToken(mock)
      assertError(yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token }), 48001, "api unauthorized")
    }).pipe(Effect.scoped))
})

describe("api_create_preauthcode", () => {
  it.live("answers a fresh code, 1800 s", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      const first = yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token })
      const second = yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token })
      assert.match(first.pre_auth_code, /^preauthcode@@@[A-Za-z0-9_-]{86}$/)
      assert.strictEqual(first.expires_in, 1800)
      assert.notStrictEqual(first.pre_auth_code, second.pre_auth_code)
    }).pipe(Effect.scoped))

  it.live("no token: 41001; an unknown token: 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      assertError(yield* call(mock, "api_create_preauthcode", { component_appid: appId }), 41001, "access_token missing")
      assertError(
        yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token: "nope" }),
        40001,
        "invalid credential, access_token is invalid or not latest"
      )
    }).pipe(Effect.scoped))

  it.live("a superseded token works for 5 minutes, then 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const old = yield* fetchToken(mock)
      yield* fetchToken(mock)
      yield* Effect.promise(() => mock.admin.advanceClock(299))
      assert.isString((yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token: old })).pre_auth_code)
      yield* Effect.promise(() => mock.admin.advanceClock(2))
      assert.strictEqual((yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token: old })).errcode, 40001)
    }).pipe(Effect.scoped))

  it.live("an expired token: 42001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      yield* Effect.promise(() => mock.admin.advanceClock(7200))
      assertError(yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token }), 42001, "access_token expired")
    }).pipe(Effect.scoped))

  it.live("a pre-authorization code is single use", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      const { pre_auth_code } = yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token })
      const authorize = () =>
        fetch(`${mock.url}/__admin/authorizations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ componentAppId: appId, authorizerAppId: officialAccount.appId, preAuthCode: pre_auth_code })
        }).then(async (r) => [r.status, await r.json()] as const)
      assert.strictEqual((yield* Effect.promise(authorize))[0], 201)
      const [status, body] = yield* Effect.promise(authorize)
      assert.deepStrictEqual([status, body], [400, { error: "pre_auth_code already used" }])
    }).pipe(Effect.scoped))
})

describe("api_query_auth and api_authorizer_token", () => {
  const authorized = Effect.gen(function*() {
    const mock = yield* withMock()
    const token = yield* fetchToken(mock)
    const { authorizationCode } = yield* Effect.promise(() =>
      mock.admin.authorize({ componentAppId: appId, authorizerAppId: officialAccount.appId })
    )
    return { mock, token, authorizationCode }
  })

  it.live("exchanges an authorization code for the authorizer's tokens, once", () =>
    Effect.gen(function*() {
      const { authorizationCode, mock, token } = yield* authorized
      const answer = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authorizationCode }, { token })
      const info = answer.authorization_info
      assert.strictEqual(info.authorizer_appid, officialAccount.appId)
      assert.strictEqual(info.expires_in, 7200)
      assert.match(info.authorizer_refresh_token, /^refreshtoken@@@/)
      assert.deepStrictEqual(info.func_info[0], { funcscope_category: { id: 1 } })
      assertError(
        yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authorizationCode }, { token }),
        61010,
        "code is expired"
      )
    }).pipe(Effect.scoped))

  it.live("an unknown authorization code: 61009; an expired one: 61010", () =>
    Effect.gen(function*() {
      const { authorizationCode, mock } = yield* authorized
      const token = yield* fetchToken(mock)
      assertError(yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: "queryauthcode@@@nope" }, { token }), 61009, "code is invalid")
      yield* Effect.promise(() => mock.admin.advanceClock(3600))
      const fresh = yield* fetchToken(mock)
      assertError(yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authorizationCode }, { token: fresh }), 61010, "code is expired")
    }).pipe(Effect.scoped))

  it.live("refreshes the authorizer token with its refresh token; a wrong one: 61023; after revocation: 61003", () =>
    Effect.gen(function*() {
      const { authorizationCode, mock, token } = yield* authorized
      const { authorization_info } = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authorizationCode }, { token })
      const refresh = (refreshToken: string) =>
        call(mock, "api_authorizer_token", {
          component_appid: appId,
          authorizer_appid: officialAccount.appId,
          authorizer_refresh_token: refreshToken
        }, { token })
      const refreshed = yield* refresh(authorization_info.authorizer_refresh_token)
      assert.strictEqual(refreshed.authorizer_refresh_token, authorization_info.authorizer_refresh_token)
      assert.notStrictEqual(refreshed.authorizer_access_token, authorization_info.authorizer_access_token)
      assertError(yield* refresh("refreshtoken@@@wrong"), 61023, "refresh_token is invalid")
      yield* Effect.promise(() => mock.admin.revoke(appId, officialAccount.appId))
      assertError(yield* refresh(authorization_info.authorizer_refresh_token), 61003, "component is not authorized by this account")
    }).pipe(Effect.scoped))
})

describe("api_start_push_ticket", () => {
  it.live("takes component_secret, answers errcode 0, and issues a new ticket", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const before = yield* Effect.promise(() => mock.admin.ticket(appId))
      const answer = yield* call(mock, "api_start_push_ticket", { component_appid: appId, component_secret: component.appSecret })
      assert.deepStrictEqual(answer, { errcode: 0, errmsg: "ok" })
      yield* Effect.sleep("50 millis")
      const after = yield* Effect.promise(() => mock.admin.ticket(appId))
      assert.notStrictEqual(after.ticket, before.ticket)
    }).pipe(Effect.scoped))

  it.live("a wrong secret: 40125; the appsecret field name is not the one it reads: 41004", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      assert.strictEqual((yield* call(mock, "api_start_push_ticket", { component_appid: appId, component_secret: "x" })).errcode, 40125)
      assert.strictEqual(
        (yield* call(mock, "api_start_push_ticket", { component_appid: appId, component_appsecret: component.appSecret })).errcode,
        41004
      )
    }).pipe(Effect.scoped))
})

describe("more of WeChat's behaviour", () => {
  it.live("a token sent in the body instead of the query string: 40001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      const answer = yield* call(mock, "api_create_preauthcode", { component_appid: appId, component_access_token: token })
      assert.strictEqual(answer.errcode, 40001)
    }).pipe(Effect.scoped))

  it.live("41018 and 41002 on the endpoints that need them", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      assert.strictEqual((yield* call(mock, "api_query_auth", { authorization_code: "x" }, { token })).errcode, 41018)
      assert.strictEqual((yield* call(mock, "api_create_preauthcode", {}, { token })).errcode, 41018)
      assert.strictEqual((yield* call(mock, "api_authorizer_token", { component_appid: appId }, { token })).errcode, 41002)
    }).pipe(Effect.scoped))

  it.live("a pre-authorization code expires after 1,800 s", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      const { pre_auth_code } = yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token })
      yield* Effect.promise(() => mock.admin.advanceClock(1800))
      const refused = yield* Effect.promise(() =>
        fetch(`${mock.url}/__admin/authorizations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ componentAppId: appId, authorizerAppId: officialAccount.appId, preAuthCode: pre_auth_code })
        }).then((r) => r.json())
      )
      assert.deepStrictEqual(refused, { error: "pre_auth_code expired" })
    }).pipe(Effect.scoped))

  it.live("re-authorizing rotates the refresh token; the old one works for 5 more minutes, then 61023", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      const exchange = (authorizationCode: string, componentToken: string) =>
        call(mock, "api_query_auth", { component_appid: appId, authorization_code: authorizationCode }, { token: componentToken })
          .pipe(Effect.map((answer) => answer.authorization_info.authorizer_refresh_token as string))
      const first = yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const oldRefresh = yield* exchange(first.authorizationCode, token)
      const again = yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const newRefresh = yield* exchange(again.authorizationCode, token)
      assert.notStrictEqual(newRefresh, oldRefresh)
      const refresh = (refreshToken: string, componentToken: string) =>
        call(mock, "api_authorizer_token", { component_appid: appId, authorizer_appid: officialAccount.appId, authorizer_refresh_token: refreshToken }, { token: componentToken })
      assert.strictEqual((yield* refresh(oldRefresh, token)).authorizer_refresh_token, newRefresh)
      yield* Effect.promise(() => mock.admin.advanceClock(301))
      assert.strictEqual((yield* refresh(oldRefresh, token)).errcode, 61023)
      assert.strictEqual((yield* refresh(newRefresh, token)).authorizer_refresh_token, newRefresh)
    }).pipe(Effect.scoped))

  it.live("a configured quota for one endpoint keeps the defaults of the others (api_start_push_ticket: 1,000 a day)", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ quotas: { api_create_preauthcode: 5 } })
      const start = () => call(mock, "api_start_push_ticket", { component_appid: appId, component_secret: component.appSecret })
      for (let i = 0; i < 1000; i++) assert.strictEqual((yield* start()).errcode, 0)
      assert.strictEqual((yield* start()).errcode, 45009)
    }).pipe(Effect.scoped), 60_000)
})

describe("api_get_authorizer_info", () => {
  const info = (mock: Parameters<typeof fetchToken>[0], token: string, authorizerAppId: string | undefined) =>
    call(mock, "api_get_authorizer_info", { component_appid: appId, ...(authorizerAppId === undefined ? {} : { authorizer_appid: authorizerAppId }) }, { token })

  it.live("an official account: WeChat's shape, its fixture's fields and the sets it granted, no MiniProgramInfo", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({
        authorizers: [{ ...officialAccount, serviceType: 2, verifyType: -1, alias: "mockcoffee", principalName: "Mock Coffee Co." }, miniProgram]
      })
      const { componentToken, refreshToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const answer = yield* info(mock, componentToken, officialAccount.appId)
      assert.deepStrictEqual(Object.keys(answer).sort(), ["authorization_info", "authorizer_info"])
      const account = answer.authorizer_info
      assert.strictEqual(account.nick_name, "Mock Coffee")
      assert.deepStrictEqual([account.service_type_info, account.verify_type_info], [{ id: 2 }, { id: -1 }])
      assert.deepStrictEqual([account.alias, account.principal_name, account.user_name], ["mockcoffee", "Mock Coffee Co.", "gh_c3d4e5f60001"])
      assert.deepStrictEqual(Object.keys(account.business_info).sort(), ["open_card", "open_pay", "open_scan", "open_shake", "open_store"])
      assert.deepStrictEqual(account.basic_config, { is_phone_configured: true, is_email_configured: true })
      for (const key of ["head_img", "qrcode_url", "signature"]) assert.isString(account[key])
      assert.deepStrictEqual([account.register_type, account.account_status], [0, 1])
      assert.notProperty(account, "MiniProgramInfo")
      assert.deepStrictEqual(answer.authorization_info, {
        authorizer_appid: officialAccount.appId,
        authorizer_refresh_token: refreshToken,
        func_info: [1, 2, 3, 4, 7, 11, 15, 24].map((id) => ({ funcscope_category: { id } }))
      })
    }).pipe(Effect.scoped))

  it.live("a mini program: MiniProgramInfo with its network, categories and visit status; the sets granted", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, miniProgram.appId, [18, 30])
      const answer = yield* info(mock, componentToken, miniProgram.appId)
      const mini = answer.authorizer_info.MiniProgramInfo
      assert.deepStrictEqual(Object.keys(mini.network).sort(), ["DownloadDomain", "RequestDomain", "UploadDomain", "WsRequestDomain"])
      assert.deepStrictEqual(mini.categories, [{ first: "工具", second: "备忘录" }])
      assert.strictEqual(mini.visit_status, 0)
      assert.deepStrictEqual(answer.authorizer_info.service_type_info, { id: 0 })
      assert.deepStrictEqual(answer.authorization_info.func_info, [{ funcscope_category: { id: 18 } }, { funcscope_category: { id: 30 } }])
    }).pipe(Effect.scoped))

  it.live("before the account authorizes and after it revokes: 61003; without authorizer_appid: 41002", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const token = yield* fetchToken(mock)
      assert.strictEqual(errcodeOf(yield* info(mock, token, officialAccount.appId)), 61003)
      assert.strictEqual(errcodeOf(yield* info(mock, token, undefined)), 41002)
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      assert.isObject((yield* info(mock, componentToken, officialAccount.appId)).authorizer_info)
      yield* Effect.promise(() => mock.admin.revoke(appId, officialAccount.appId))
      assert.strictEqual(errcodeOf(yield* info(mock, componentToken, officialAccount.appId)), 61003)
    }).pipe(Effect.scoped))

  it.live("the component checks apply: no token 41001, a fault on its name, deniedApis 48001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ components: [{ ...component, deniedApis: ["api_get_authorizer_list"] }] })
      assert.strictEqual(errcodeOf(yield* call(mock, "api_get_authorizer_info", { component_appid: appId, authorizer_appid: officialAccount.appId })), 41001)
      const token = yield* fetchToken(mock)
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: "api_get_authorizer_info", times: 1, fault: { type: "errcode", errcode: -1 } }))
      assert.strictEqual(errcodeOf(yield* info(mock, token, officialAccount.appId)), -1)
      assert.strictEqual(errcodeOf(yield* call(mock, "api_get_authorizer_list", { component_appid: appId, offset: 0, count: 1 }, { token })), 48001)
    }).pipe(Effect.scoped))
})

describe("api_get_authorizer_list", () => {
  const accounts = Array.from({ length: 5 }, (_, i) => ({
    appId: `wxa1b2c3d4e5f6000${i + 1}`,
    name: `Account ${i + 1}`,
    type: "officialAccount" as const,
    ...(i === 1 ? { listedWithoutRefreshToken: true } : {})
  }))
  const list = (mock: Parameters<typeof fetchToken>[0], token: string, page: Record<string, unknown>) =>
    call(mock, "api_get_authorizer_list", { component_appid: appId, ...page }, { token })

  it.live("pages through the authorizations in the order they were made, with total_count and auth_time in seconds", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ authorizers: accounts })
      // Authorized in reverse order of appid, a minute apart: the list follows the time, not the appid.
      for (const account of [...accounts].reverse()) {
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: account.appId }))
        yield* Effect.promise(() => mock.admin.advanceClock(60))
      }
      const token = yield* fetchToken(mock)
      const first = yield* list(mock, token, { offset: 0, count: 2 })
      const rest = yield* list(mock, token, { offset: 2, count: 500 })
      assert.deepStrictEqual([first.total_count, rest.total_count], [5, 5])
      const listed = [...first.list, ...rest.list]
      assert.deepStrictEqual(listed.map((e: { authorizer_appid: string }) => e.authorizer_appid), [...accounts].reverse().map((a) => a.appId))
      const { authorizations } = yield* Effect.promise(() => mock.admin.state())
      for (const entry of listed) {
        assert.strictEqual(entry.auth_time, Math.floor(authorizations[`${appId}:${entry.authorizer_appid}`]!.authTime / 1000), "Unix seconds")
        const expected = authorizations[`${appId}:${entry.authorizer_appid}`]!.refreshToken
        if (entry.authorizer_appid === accounts[1]!.appId) assert.notProperty(entry, "refresh_token", "listed without its refresh token")
        else assert.strictEqual(entry.refresh_token, expected)
      }
      assert.deepStrictEqual((yield* list(mock, token, { offset: 5, count: 10 })).list, [])
    }).pipe(Effect.scoped))

  it.live("re-authorizing moves an account to the end; revoking removes it", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ authorizers: accounts.slice(0, 3) })
      for (const account of accounts.slice(0, 3)) {
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: account.appId }))
        yield* Effect.promise(() => mock.admin.advanceClock(1))
      }
      yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: accounts[0]!.appId }))
      yield* Effect.promise(() => mock.admin.revoke(appId, accounts[1]!.appId))
      const token = yield* fetchToken(mock)
      const answer = yield* list(mock, token, { offset: 0, count: 10 })
      assert.strictEqual(answer.total_count, 2)
      assert.deepStrictEqual(answer.list.map((e: { authorizer_appid: string }) => e.authorizer_appid), [accounts[2]!.appId, accounts[0]!.appId])
    }).pipe(Effect.scoped))

  const refusals: ReadonlyArray<readonly [string, Record<string, unknown>, number]> = [
    ["count 0", { offset: 0, count: 0 }, 40097],
    ["count 501", { offset: 0, count: 501 }, 40170],
    ["no count", { offset: 0 }, 40097],
    ["a fractional count", { offset: 0, count: 1.5 }, 40097],
    ["a negative offset", { offset: -1, count: 10 }, 40097],
    ["no offset", { count: 10 }, 40097],
    ["a count given as a string", { offset: 0, count: "10" }, 40097]
  ]
  for (const [name, page, errcode] of refusals) {
    it.live(`${name}: ${errcode}`, () =>
      Effect.gen(function*() {
        const mock = yield* withMock()
        const token = yield* fetchToken(mock)
        assert.strictEqual(errcodeOf(yield* list(mock, token, page)), errcode)
      }).pipe(Effect.scoped))
  }
})
