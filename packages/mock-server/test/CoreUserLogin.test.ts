import { assert, describe, it } from "@effect/vitest"
import { ComponentToken, MiniProgramSession, UserAuthorizationUrl, UserToken } from "@wxopen/core"
import { Effect, Redacted } from "effect"
import type * as MockServer from "../src/MockServer.js"
import { appId, miniProgram, officialAccount, withMock, wxopenOn } from "./utils.js"

// wxopen's user login over real sockets against the mock: the OAuth link followed to its redirect, the code
// exchanged, the profile read, the token refreshed; jscode2session; and WeChat's refusals as typed errors.

/** A mock whose accounts authorized the component, and wxopen's services of one process pointed at it. */
const setup = Effect.gen(function*() {
  const mock = yield* withMock()
  for (const account of [officialAccount, miniProgram]) {
    yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: account.appId }))
  }
  const context = yield* wxopenOn(mock)
  return { mock, context }
})

/** Follows a link as the user's browser would, one hop: the status and where it sends the browser. */
const open = (link: string) =>
  Effect.promise(async () => {
    const response = await fetch(link, { redirect: "manual" })
    return { status: response.status, location: response.headers.get("location"), body: await response.text() }
  })

const journal = (mock: MockServer.RunningMock, endpoint: string) =>
  Effect.promise(() => mock.admin.journal({ endpoint }))

const redirectUri = "https://shop.example/wechat/login?next=orders"

describe("user login against the mock", () => {
  it.live("the link's redirect gives a code, the code the user's tokens, the token the profile; a refresh renews it", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      yield* Effect.gen(function*() {
        const link = yield* UserAuthorizationUrl.make({
          authorizerAppId: officialAccount.appId,
          redirectUri,
          scope: "snsapi_userinfo",
          state: "s7Xq9",
          baseUrl: mock.url
        })
        const page = yield* open(link)
        assert.strictEqual(page.status, 302, page.body)
        const back = new URL(page.location!)
        assert.strictEqual(back.origin + back.pathname, "https://shop.example/wechat/login")
        assert.strictEqual(back.searchParams.get("next"), "orders")
        assert.strictEqual(back.searchParams.get("state"), "s7Xq9")
        const code = back.searchParams.get("code")!

        const token = yield* UserToken.exchange(officialAccount.appId, code)
        assert.strictEqual(token.scope, "snsapi_userinfo")
        assert.strictEqual(token.authorizerAppId, officialAccount.appId)
        const profile = yield* UserToken.userInfo(token, { lang: "en" })
        assert.strictEqual(profile.openid, token.openid)
        assert.match(profile.nickname, /^Mock User /)
        assert.match(profile.headImageUrl, /^https:\/\//)

        const renewed = yield* UserToken.refresh(officialAccount.appId, token.refreshToken)
        assert.strictEqual(renewed.openid, token.openid)
        assert.notStrictEqual(Redacted.value(renewed.accessToken), Redacted.value(token.accessToken))
        assert.strictEqual((yield* UserToken.userInfo(renewed)).openid, token.openid)
      }).pipe(Effect.provide(context))
      for (const path of ["/sns/oauth2/component/access_token", "/sns/oauth2/component/refresh_token"]) {
        const entries = yield* journal(mock, path)
        assert.strictEqual(entries.length, 1, path)
        assert.strictEqual(entries[0]!.query.component_appid, appId, path)
        assert.strictEqual(entries[0]!.errcode, undefined, path)
      }
      assert.strictEqual((yield* journal(mock, "/sns/userinfo")).length, 2)
    }).pipe(Effect.scoped))

  it.live("jscode2session: a wx.login() code gives the user's openid and a Redacted session_key", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      const { code, openid } = yield* Effect.promise(() =>
        mock.admin.jsCode({ componentAppId: appId, authorizerAppId: miniProgram.appId, openid: "o-mini-user-1" })
      )
      const session = yield* MiniProgramSession.exchange(miniProgram.appId, code).pipe(Effect.provide(context))
      assert.strictEqual(session.openid, openid)
      assert.isTrue(Redacted.isRedacted(session.sessionKey))
      assert.isAbove(Redacted.value(session.sessionKey).length, 0)
      assert.notInclude(String(session) + JSON.stringify(session), Redacted.value(session.sessionKey))
      const [entry] = yield* journal(mock, "/sns/component/jscode2session")
      assert.strictEqual(entry!.query.component_appid, appId)
    }).pipe(Effect.scoped))

  it.live("a code is single use: the second exchange is a UserCodeError (Used, 40163), for OAuth and wx.login() codes", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      const oauth = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const js = yield* Effect.promise(() => mock.admin.jsCode({ componentAppId: appId, authorizerAppId: miniProgram.appId }))
      yield* Effect.gen(function*() {
        yield* UserToken.exchange(officialAccount.appId, oauth.code)
        const again = yield* Effect.flip(UserToken.exchange(officialAccount.appId, oauth.code))
        assert.isTrue(again._tag === "UserCodeError" && again.reason === "Used", again.message)
        assert.include(again.message, "single use")
        yield* MiniProgramSession.exchange(miniProgram.appId, js.code)
        const jsAgain = yield* Effect.flip(MiniProgramSession.exchange(miniProgram.appId, js.code))
        assert.isTrue(jsAgain._tag === "UserCodeError" && jsAgain.reason === "Used", jsAgain.message)
        assert.include(jsAgain.message, "wx.login()")
      }).pipe(Effect.provide(context))
      assert.deepStrictEqual((yield* journal(mock, "/sns/oauth2/component/access_token")).map((e) => e.errcode ?? "ok"), ["ok", 40163])
      assert.deepStrictEqual((yield* journal(mock, "/sns/component/jscode2session")).map((e) => e.errcode ?? "ok"), ["ok", 40163])
    }).pipe(Effect.scoped))

  it.live("without component_appid a hand-built exchange gets 40029; wxopen's own exchange of the same code sends it and succeeds", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      const { code } = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      const componentToken = yield* ComponentToken.get.pipe(Effect.provide(context))
      const handBuilt = new URL("/sns/oauth2/component/access_token", mock.url)
      handBuilt.search = new URLSearchParams({
        appid: officialAccount.appId,
        code,
        grant_type: "authorization_code",
        component_access_token: Redacted.value(componentToken.value)
      }).toString()
      const raw = yield* Effect.promise(() => fetch(handBuilt).then((r) => r.json() as Promise<Record<string, unknown>>))
      assert.strictEqual(raw.errcode, 40029, JSON.stringify(raw))

      const token = yield* UserToken.exchange(officialAccount.appId, code).pipe(Effect.provide(context))
      assert.isString(token.openid)
      const entries = yield* journal(mock, "/sns/oauth2/component/access_token")
      assert.deepStrictEqual(entries.map((e) => [e.query.component_appid ?? null, e.errcode ?? "ok"]), [[null, 40029], [appId, "ok"]])
    }).pipe(Effect.scoped))

  it.live("a code of another account, or one older than 5 minutes (the mock's clock), is a UserCodeError (Invalid, 40029)", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      const issue = () => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId })
      const foreign = yield* Effect.promise(issue)
      const stale = yield* Effect.promise(issue)
      yield* Effect.promise(() => mock.admin.advanceClock(301))
      yield* Effect.gen(function*() {
        const wrongAccount = yield* Effect.flip(UserToken.exchange(miniProgram.appId, foreign.code))
        assert.isTrue(wrongAccount._tag === "UserCodeError" && wrongAccount.reason === "Invalid", wrongAccount.message)
        assert.include(wrongAccount.message, "issued for another account")
        const expired = yield* Effect.flip(UserToken.exchange(officialAccount.appId, stale.code))
        assert.isTrue(expired._tag === "UserCodeError" && expired.reason === "Invalid", expired.message)
        assert.include(expired.message, "authorization link again")
      }).pipe(Effect.provide(context))
      // Codes are never retried: one request each.
      assert.deepStrictEqual((yield* journal(mock, "/sns/oauth2/component/access_token")).map((e) => e.errcode), [40029, 40029])
    }).pipe(Effect.scoped))

  it.live("the user's expired access token (42001 after 2 h of the mock's clock) is the user's UserTokenError: no component token is fetched for it", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      const { code } = yield* Effect.promise(() =>
        mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId, scope: "snsapi_userinfo" })
      )
      const token = yield* UserToken.exchange(officialAccount.appId, code).pipe(Effect.provide(context))
      yield* Effect.promise(() => mock.admin.advanceClock(7201))
      const error = yield* Effect.flip(UserToken.userInfo(token).pipe(Effect.provide(context)))
      assert.isTrue(error._tag === "UserTokenError" && error.reason === "AccessTokenExpired", error.message)
      assert.include(error.message, "UserToken.refresh")
      assert.deepStrictEqual((yield* journal(mock, "/sns/userinfo")).map((e) => e.errcode), [42001])
      assert.strictEqual((yield* journal(mock, "api_component_token")).length, 1, "only the first component token")
      // The component token expired with the mock's clock too: the refresh replaces it once, and renews the user's.
      const renewed = yield* UserToken.refresh(officialAccount.appId, token.refreshToken).pipe(Effect.provide(context))
      assert.strictEqual((yield* UserToken.userInfo(renewed).pipe(Effect.provide(context))).openid, token.openid)
    }).pipe(Effect.scoped))

  it.live("a snsapi_base token reads no profile (48001, ScopeTooNarrow); an unknown refresh token is RefreshTokenInvalid (40030)", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup
      const { code } = yield* Effect.promise(() => mock.admin.oauthCode({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
      yield* Effect.gen(function*() {
        const token = yield* UserToken.exchange(officialAccount.appId, code)
        assert.strictEqual(token.scope, "snsapi_base")
        const narrow = yield* Effect.flip(UserToken.userInfo(token))
        assert.isTrue(narrow._tag === "UserTokenError" && narrow.reason === "ScopeTooNarrow", narrow.message)
        const unknown = yield* Effect.flip(UserToken.refresh(officialAccount.appId, Redacted.make("not-a-refresh-token")))
        assert.isTrue(unknown._tag === "UserTokenError" && unknown.reason === "RefreshTokenInvalid", unknown.message)
        const other = yield* Effect.flip(UserToken.userInfo({ ...token, openid: "o-someone-else" }))
        assert.isTrue(other._tag === "UserTokenError" && other.reason === "InvalidOpenId", other.message)
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))
})
