import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as MockConfig from "../src/MockConfig.js"
import * as UserLogin from "../src/internal/UserLogin.js"
import * as WeChatState from "../src/internal/WeChatState.js"
import type * as MockServer from "../src/MockServer.js"
import { appId, authorizeAccount, component, errcodeOf, miniProgram, officialAccount, withMock } from "./utils.js"

/** A GET of the mock with a query; its status, JSON answer (or text), and Location. */
const get = (mock: MockServer.RunningMock, path: string, query: Record<string, string | undefined>) =>
  Effect.promise(async () => {
    const url = new URL(path, mock.url)
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value)
    const response = await fetch(url, { redirect: "manual" })
    const text = await response.text()
    let json: Record<string, any> = {}
    try {
      json = JSON.parse(text)
    } catch {
      json = {}
    }
    return { status: response.status, text, json, location: response.headers.get("location") ?? undefined }
  })

const exchange = (mock: MockServer.RunningMock, componentToken: string, code: string, overrides: Record<string, string | undefined> = {}) =>
  get(mock, "/sns/oauth2/component/access_token", {
    appid: officialAccount.appId,
    code,
    grant_type: "authorization_code",
    component_appid: appId,
    component_access_token: componentToken,
    ...overrides
  })

const authorizeLink = (overrides: Record<string, string | undefined> = {}) => ({
  appid: officialAccount.appId,
  redirect_uri: "https://merchant.example.com/login?from=menu",
  response_type: "code",
  scope: "snsapi_userinfo",
  state: "s-42",
  component_appid: appId,
  ...overrides
})

describe("component OAuth", () => {
  it.live("the page redirects with a code; the code gives a user token; the token reads the user; refresh works", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const page = yield* get(mock, "/connect/oauth2/authorize", authorizeLink({ openid: "oChosenUser" }))
      assert.strictEqual(page.status, 302)
      const target = new URL(page.location!)
      assert.strictEqual(`${target.origin}${target.pathname}`, "https://merchant.example.com/login")
      assert.strictEqual(target.searchParams.get("from"), "menu")
      assert.strictEqual(target.searchParams.get("state"), "s-42")
      assert.strictEqual(target.searchParams.get("appid"), officialAccount.appId)
      const code = target.searchParams.get("code")!

      const token = (yield* exchange(mock, componentToken, code)).json
      assert.deepStrictEqual(Object.keys(token).sort(), ["access_token", "expires_in", "openid", "refresh_token", "scope"])
      assert.strictEqual(token.openid, "oChosenUser")
      assert.strictEqual(token.scope, "snsapi_userinfo")
      assert.strictEqual(token.expires_in, 7200)

      const user = (yield* get(mock, "/sns/userinfo", { access_token: token.access_token, openid: "oChosenUser", lang: "zh_CN" })).json
      assert.strictEqual(user.openid, "oChosenUser")
      assert.deepStrictEqual(Object.keys(user).sort(), ["city", "country", "headimgurl", "nickname", "openid", "privilege", "province", "sex"])

      const refreshed = (yield* get(mock, "/sns/oauth2/component/refresh_token", {
        appid: officialAccount.appId,
        grant_type: "refresh_token",
        component_appid: appId,
        component_access_token: componentToken,
        refresh_token: token.refresh_token
      })).json
      assert.notStrictEqual(refreshed.access_token, token.access_token)
      assert.strictEqual(refreshed.openid, "oChosenUser")
      assert.strictEqual((yield* get(mock, "/sns/userinfo", { access_token: refreshed.access_token, openid: "oChosenUser" })).json.openid, "oChosenUser")
    }).pipe(Effect.scoped))

  it.live("without openid the account's default user answers, the same every time", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const openids: Array<string> = []
      for (let i = 0; i < 2; i++) {
        const page = yield* get(mock, "/connect/oauth2/authorize", authorizeLink())
        const code = new URL(page.location!).searchParams.get("code")!
        openids.push((yield* exchange(mock, componentToken, code)).json.openid)
      }
      assert.match(openids[0]!, /^o[A-Za-z0-9_-]{27}$/)
      assert.strictEqual(openids[0], openids[1])
    }).pipe(Effect.scoped))

  const refusals: ReadonlyArray<readonly [string, Record<string, string | undefined>, number]> = [
    ["no component_appid", { component_appid: undefined }, 10003],
    ["an unknown component_appid", { component_appid: "wx00000000000000ff" }, 10003],
    ["an unknown account", { appid: "wx00000000000000ee" }, 10016],
    ["a Mini Program", { appid: miniProgram.appId }, 10016],
    ["a bad scope", { scope: "snsapi_login" }, 10005],
    ["a redirect_uri that is not http(s)", { redirect_uri: "javascript:alert(1)" }, 10003],
    ["a relative redirect_uri", { redirect_uri: "/login" }, 10003]
  ]
  for (const [name, overrides, code] of refusals) {
    it.live(`the page refuses ${name} (${code}), with no redirect`, () =>
      Effect.gen(function*() {
        const mock = yield* withMock()
        yield* authorizeAccount(mock, officialAccount.appId)
        const page = yield* get(mock, "/connect/oauth2/authorize", authorizeLink(overrides))
        assert.strictEqual(page.status, 200)
        assert.strictEqual(page.location, undefined)
        assert.include(page.text, String(code))
      }).pipe(Effect.scoped))
  }

  it.live("the page refuses an account that has not authorized the component (10015)", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const page = yield* get(mock, "/connect/oauth2/authorize", authorizeLink())
      assert.strictEqual(page.location, undefined)
      assert.include(page.text, "10015")
    }).pipe(Effect.scoped))

  it.live("exchange errors: 40029 without component_appid, for another account, unknown or expired; 40163 reused", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const issue = () => Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const { code } = yield* issue()
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code, { component_appid: undefined })).json), 40029)
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code, { appid: miniProgram.appId })).json), 40029)
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, `${code}x`)).json), 40029)
      // None of those used the code up.
      assert.isString((yield* exchange(mock, componentToken, code)).json.access_token)
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code)).json), 40163)

      const late = yield* issue()
      yield* Effect.promise(() => mock.admin.advanceClock(5 * 60))
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, late.code)).json), 40029)
    }).pipe(Effect.scoped))

  it.live("the component token is checked as the component endpoints check it: 41001, 40001, 42001", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const { code } = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code, { component_access_token: undefined })).json), 41001)
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code, { component_access_token: "nope" })).json), 40001)
      yield* Effect.promise(() => mock.admin.advanceClock(7200))
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code)).json), 42001)
    }).pipe(Effect.scoped))

  it.live("userinfo: 48001 for a snsapi_base token, 40003 for another openid, 40001 unknown, 42001 expired", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const base = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const baseToken = (yield* exchange(mock, componentToken, base.code)).json
      assert.strictEqual(baseToken.scope, "snsapi_base")
      assert.strictEqual(errcodeOf((yield* get(mock, "/sns/userinfo", { access_token: baseToken.access_token, openid: base.openid })).json), 48001)
      const full = yield* Effect.promise(() =>
        mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId, openid: "oUser2", scope: "snsapi_userinfo" })
      )
      const fullToken = (yield* exchange(mock, componentToken, full.code)).json
      assert.strictEqual(errcodeOf((yield* get(mock, "/sns/userinfo", { access_token: fullToken.access_token, openid: "oSomeoneElse" })).json), 40003)
      assert.strictEqual(errcodeOf((yield* get(mock, "/sns/userinfo", { access_token: "nope", openid: "oUser2" })).json), 40001)
      yield* Effect.promise(() => mock.admin.advanceClock(7200))
      assert.strictEqual(errcodeOf((yield* get(mock, "/sns/userinfo", { access_token: fullToken.access_token, openid: "oUser2" })).json), 42001)
    }).pipe(Effect.scoped))

  it.live("refresh: 40030 for an unknown refresh token, 42002 after 30 days", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const { code } = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const token = (yield* exchange(mock, componentToken, code)).json
      const refresh = (refreshToken: string, componentAccessToken: string) =>
        get(mock, "/sns/oauth2/component/refresh_token", {
          appid: officialAccount.appId,
          grant_type: "refresh_token",
          component_appid: appId,
          component_access_token: componentAccessToken,
          refresh_token: refreshToken
        })
      assert.strictEqual(errcodeOf((yield* refresh("nope", componentToken)).json), 40030)
      yield* Effect.promise(() => mock.admin.advanceClock(30 * 24 * 3600))
      const fresh = yield* authorizeAccount(mock, officialAccount.appId)
      assert.strictEqual(errcodeOf((yield* refresh(token.refresh_token, fresh.componentToken)).json), 42002)
    }).pipe(Effect.scoped))

  it.live("the admin API refuses a code for an account that has not authorized, or a Mini Program", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const refused = yield* Effect.promise(() =>
        mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }).then(() => "issued", (e: Error) => e.message)
      )
      assert.match(refused, /HTTP 400 .*has not authorized/)
      yield* authorizeAccount(mock, miniProgram.appId)
      const wrongType = yield* Effect.promise(() =>
        mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: miniProgram.appId }).then(() => "issued", (e: Error) => e.message)
      )
      assert.match(wrongType, /HTTP 400 .*not an Official Account/)
    }).pipe(Effect.scoped))

  it.live("codes and user tokens are journaled masked; faults apply", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const { code } = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: "/sns/oauth2/component/access_token", times: 1, fault: { type: "errcode", errcode: -1 } }))
      assert.strictEqual(errcodeOf((yield* exchange(mock, componentToken, code)).json), -1)
      assert.isString((yield* exchange(mock, componentToken, code)).json.access_token)
      const entries = yield* Effect.promise(() => mock.admin.journal({ endpoint: "/sns/oauth2/component/access_token" }))
      assert.strictEqual(entries.length, 2)
      for (const entry of entries) {
        assert.strictEqual(entry.query.code, "***")
        assert.strictEqual(entry.query.component_access_token, "***")
        assert.notInclude(JSON.stringify(entry), code)
      }
    }).pipe(Effect.scoped))
})

describe("jscode2session", () => {
  const session = (mock: MockServer.RunningMock, componentToken: string, code: string, overrides: Record<string, string | undefined> = {}) =>
    get(mock, "/sns/component/jscode2session", {
      appid: miniProgram.appId,
      js_code: code,
      grant_type: "authorization_code",
      component_appid: appId,
      component_access_token: componentToken,
      ...overrides
    })

  it.live("a code gives the openid and a session_key, once; 40029 without component_appid, another account's, expired", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, miniProgram.appId)
      const issue = (openid?: string) =>
        Effect.promise(() => mock.admin.jsCode({ componentAppId: appId, authorizerAppId: miniProgram.appId, ...(openid === undefined ? {} : { openid }) }))
      const { code, openid } = yield* issue("oMiniUser")
      assert.strictEqual(openid, "oMiniUser")
      assert.strictEqual(errcodeOf((yield* session(mock, componentToken, code, { component_appid: undefined })).json), 40029)
      assert.strictEqual(errcodeOf((yield* session(mock, componentToken, code, { appid: officialAccount.appId })).json), 40029)
      const answer = (yield* session(mock, componentToken, code)).json
      assert.deepStrictEqual(Object.keys(answer).sort(), ["openid", "session_key"])
      assert.strictEqual(answer.openid, "oMiniUser")
      assert.strictEqual(Buffer.from(answer.session_key, "base64").length, 16)
      assert.strictEqual(errcodeOf((yield* session(mock, componentToken, code)).json), 40163)

      const late = yield* issue()
      yield* Effect.promise(() => mock.admin.advanceClock(5 * 60))
      const fresh = yield* authorizeAccount(mock, miniProgram.appId)
      assert.strictEqual(errcodeOf((yield* session(mock, fresh.componentToken, late.code)).json), 40029)
    }).pipe(Effect.scoped))

  it.live("an OAuth code is not a js_code: 40029", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { componentToken } = yield* authorizeAccount(mock, officialAccount.appId)
      const { code } = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      assert.strictEqual(errcodeOf((yield* session(mock, componentToken, code, { appid: officialAccount.appId })).json), 40029)
    }).pipe(Effect.scoped))
})

describe("user login quotas", () => {
  it.live("jscode2session counts against the account's apiQuotas for the path: 45009 past it", () =>
    Effect.gen(function*() {
      const mock = yield* withMock({ apiQuotas: { "/sns/component/jscode2session": 1 } })
      const { componentToken } = yield* authorizeAccount(mock, miniProgram.appId)
      const exchange = (code: string) =>
        get(mock, "/sns/component/jscode2session", {
          appid: miniProgram.appId,
          js_code: code,
          grant_type: "authorization_code",
          component_appid: appId,
          component_access_token: componentToken
        })
      const issue = () => Effect.promise(() => mock.admin.jsCode({ componentAppId: appId, authorizerAppId: miniProgram.appId }))
      assert.isString((yield* exchange((yield* issue()).code)).json.session_key)
      assert.strictEqual(errcodeOf((yield* exchange((yield* issue()).code)).json), 45009)
    }).pipe(Effect.scoped))
})

describe("user login state", () => {
  it("holds at most maxLive codes: past it, the oldest goes (40029), the next oldest still works", () => {
    const clock = { now: () => Date.parse("2026-01-01T00:00:00Z") }
    const state = WeChatState.make(Either.getOrThrow(MockConfig.decode(MockConfig.defaults)), clock)
    state.authorize({ componentAppId: appId, authorizerAppId: officialAccount.appId })
    const { ticket } = state.issueTicket(appId)
    const token = state.answer({
      endpoint: "api_component_token",
      method: "POST",
      query: {},
      json: { component_appid: appId, component_appsecret: component.appSecret, component_verify_ticket: ticket },
      contentType: () => "application/json",
      ip: () => "127.0.0.1"
    }).component_access_token as string
    const login = UserLogin.make(state, clock)
    const issue = () => {
      const issued = login.issueOAuthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId })
      if ("error" in issued) throw new Error(issued.error)
      return issued.code
    }
    const first = issue()
    const second = issue()
    for (let i = 2; i < UserLogin.maxLive + 1; i++) issue()
    assert.strictEqual(login.sizes().codes, UserLogin.maxLive)
    const exchange = (code: string) =>
      login.answer("/sns/oauth2/component/access_token", {
        appid: officialAccount.appId,
        code,
        grant_type: "authorization_code",
        component_appid: appId,
        component_access_token: token
      })!
    assert.strictEqual(exchange(first).errcode, 40029)
    assert.isString(exchange(second).access_token)
  })
})
