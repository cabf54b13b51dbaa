import { assert, describe, it } from "@effect/vitest"
import { AuthorizationUrl } from "@wxopen/core"
import { Effect, Either } from "effect"
import * as Merchant from "../src/Merchant.js"
import type * as MockServer from "../src/MockServer.js"
import { appId, call, component, fetchToken, miniProgram, officialAccount, startReceiver, withMock } from "./utils.js"

const redirectUri = "https://platform.example/wechat/authorized?shop=42#done"

const newCode = (mock: MockServer.RunningMock) =>
  Effect.gen(function*() {
    const token = yield* fetchToken(mock)
    const { pre_auth_code } = yield* call(mock, "api_create_preauthcode", { component_appid: appId }, { token })
    return { token, code: pre_auth_code as string }
  })

const open = (url: string) => Effect.promise(() => fetch(url).then(async (r) => ({ status: r.status, html: await r.text() })))

/** Confirms the page as the merchant would, choosing `authorizerAppId`. */
const confirm = (url: string, authorizerAppId: string) => Effect.promise(() => Merchant.authorize(url, authorizerAppId))

const redirected = (outcome: Merchant.Outcome) => {
  if (outcome._tag !== "Redirected") throw new Error(`refused: ${outcome.problem}`)
  return outcome.location
}

const link = (mock: MockServer.RunningMock, code: string, options: Partial<AuthorizationUrl.Options> = {}, mobile = false) =>
  Either.getOrThrow((mobile ? AuthorizationUrl.mobile : AuthorizationUrl.pc)({
    componentAppId: appId,
    preAuthCode: code,
    redirectUri,
    baseUrl: mock.url,
    ...options
  }))

describe("the authorization page", () => {
  it.live("lists the accounts auth_type allows, in a labelled form", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { code } = yield* newCode(mock)
      const both = yield* open(link(mock, code))
      assert.strictEqual(both.status, 200)
      assert.include(both.html, `<html lang="zh-CN">`)
      assert.match(both.html, /<fieldset>\s*<legend>/)
      assert.match(both.html, new RegExp(`<label><input type="radio" name="authorizer_appid" value="${officialAccount.appId}"`))
      assert.include(both.html, miniProgram.appId)
      const officialOnly = (yield* open(link(mock, code, { authType: "OfficialAccount" }))).html
      assert.include(officialOnly, officialAccount.appId)
      assert.notInclude(officialOnly, miniProgram.appId)
      const miniOnly = (yield* open(link(mock, code, { authType: "MiniProgram" }))).html
      assert.notInclude(miniOnly, officialAccount.appId)
      // biz_appid pins one account, and wins over a conflicting auth_type.
      const pinned = (yield* open(link(mock, code, { authType: "OfficialAccount", bizAppId: miniProgram.appId }))).html
      assert.include(pinned, miniProgram.appId)
      assert.notInclude(pinned, officialAccount.appId)
    }).pipe(Effect.scoped))

  it.live("confirming redirects to redirect_uri with auth_code and expires_in=3600, pushes authorized, and the code exchanges once", () =>
    Effect.gen(function*() {
      const receiver = yield* startReceiver()
      const mock = yield* withMock({ components: [{ ...component, pushUrl: receiver.url }] })
      const { code, token } = yield* newCode(mock)
      const url = link(mock, code, {}, true)
      const location = redirected(yield* confirm(url, officialAccount.appId))
      assert.strictEqual(`${location.origin}${location.pathname}`, "https://platform.example/wechat/authorized")
      assert.strictEqual(location.searchParams.get("shop"), "42")
      assert.strictEqual(location.searchParams.get("expires_in"), "3600")
      assert.strictEqual(location.hash, "#done")
      const authCode = location.searchParams.get("auth_code")!
      assert.match(authCode, /^queryauthcode@@@/)
      const pushes = yield* Effect.promise(() => mock.admin.pushes())
      assert.deepStrictEqual(pushes.map((p) => p.infoType).filter((t) => t !== "component_verify_ticket"), ["authorized"])
      const first = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authCode }, { token })
      assert.strictEqual(first.authorization_info.authorizer_appid, officialAccount.appId)
      const second = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authCode }, { token })
      assert.strictEqual(second.errcode, 61010)
    }).pipe(Effect.scoped))

  it.live("an account that authorizes again gets updateauthorized", () =>
    Effect.gen(function*() {
      const receiver = yield* startReceiver()
      const mock = yield* withMock({ components: [{ ...component, pushUrl: receiver.url }] })
      for (let i = 0; i < 2; i++) {
        const { code } = yield* newCode(mock)
        const url = link(mock, code)
        redirected(yield* confirm(url, miniProgram.appId))
      }
      const pushes = yield* Effect.promise(() => mock.admin.pushes())
      assert.deepStrictEqual(pushes.map((p) => p.infoType).filter((t) => t !== "component_verify_ticket"), ["authorized", "updateauthorized"])
    }).pipe(Effect.scoped))

  it.live("used, expired and unknown pre-authorization codes show the error page", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { code } = yield* newCode(mock)
      const unknown = yield* open(link(mock, "preauthcode@@@unknown"))
      assert.include(unknown.html, "role=\"alert\"")
      assert.include(unknown.html, "invalid pre_auth_code")
      const url = link(mock, code)
      redirected(yield* confirm(url, officialAccount.appId))
      assert.include((yield* open(url)).html, "pre_auth_code already used")
      const { code: late } = yield* newCode(mock)
      yield* Effect.promise(() => mock.admin.advanceClock(1800))
      assert.include((yield* open(link(mock, late))).html, "pre_auth_code expired")
    }).pipe(Effect.scoped))

  it.live("a bad redirect_uri, an unknown component, an account the link does not offer: the error page, and the code stays unused", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { code } = yield* newCode(mock)
      const base = `${mock.url}/cgi-bin/componentloginpage?component_appid=${appId}&pre_auth_code=${encodeURIComponent(code)}`
      assert.include((yield* open(`${base}&redirect_uri=${encodeURIComponent("/relative")}`)).html, "redirect_uri must be an absolute")
      assert.include((yield* open(link(mock, code, { componentAppId: "wx00000000000000ff" }))).html, "invalid component_appid")
      const url = link(mock, code, { authType: "OfficialAccount" })
      const refused = yield* confirm(url, miniProgram.appId)
      assert.isTrue(refused._tag === "Refused" && refused.problem.includes("not offered by the link"))
      redirected(yield* confirm(url, officialAccount.appId))
    }).pipe(Effect.scoped))

  it.live("a redirect_uri with non-ASCII characters and a fragment with # in it: an ASCII Location, the fragment whole", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { code } = yield* newCode(mock)
      const url = link(mock, code, { redirectUri: "https://platform.example/回调?名=微信#a#b" })
      const location = redirected(yield* confirm(url, officialAccount.appId))
      assert.strictEqual(location.pathname, "/%E5%9B%9E%E8%B0%83")
      assert.strictEqual(location.searchParams.get("名"), "微信")
      assert.strictEqual(location.hash, "#a#b")
      assert.match(location.searchParams.get("auth_code")!, /^queryauthcode@@@/)
    }).pipe(Effect.scoped))

  it.live("hostile parameters are escaped on the page", () =>
    Effect.gen(function*() {
      const mock = yield* withMock()
      const { code } = yield* newCode(mock)
      const hostile = `https://platform.example/cb?x="><script>alert(1)</script>`
      const page = (yield* open(link(mock, code, { redirectUri: hostile }))).html
      assert.notInclude(page, "<script>")
      assert.include(page, "&quot;&gt;&lt;script&gt;")
      // And the value round-trips: the redirect goes where the link said.
      const location = redirected(yield* confirm(link(mock, code, { redirectUri: hostile }), officialAccount.appId))
      assert.strictEqual(location.searchParams.get("x"), `"><script>alert(1)</script>`)
    }).pipe(Effect.scoped))
})
