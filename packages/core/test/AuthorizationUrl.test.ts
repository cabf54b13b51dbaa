import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as AuthorizationUrl from "../src/AuthorizationUrl.js"

const base = {
  componentAppId: "wx0123456789abcdef",
  preAuthCode: "preauthcode@@@abc-DEF_123"
} as const

const right = (result: Either.Either<string, AuthorizationUrl.AuthorizationUrlError>): string =>
  Either.getOrThrowWith(result, (error) => error)

describe("AuthorizationUrl.pc", () => {
  it("builds the componentloginpage link with auth_type 3 by default", () => {
    assert.strictEqual(
      right(AuthorizationUrl.pc({ ...base, redirectUri: "https://example.com/cb" })),
      "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx0123456789abcdef" +
        "&pre_auth_code=preauthcode%40%40%40abc-DEF_123&redirect_uri=https%3A%2F%2Fexample.com%2Fcb&auth_type=3"
    )
  })

  for (const [authType, code] of [["OfficialAccount", "1"], ["MiniProgram", "2"], ["Both", "3"]] as const) {
    it(`sends auth_type=${code} for ${authType}`, () => {
      const url = new URL(right(AuthorizationUrl.pc({ ...base, redirectUri: "https://example.com/cb", authType })))
      assert.strictEqual(url.searchParams.get("auth_type"), code)
    })
  }

  it("keeps biz_appid next to auth_type, and joins category ids with |", () => {
    const url = new URL(right(AuthorizationUrl.pc({
      ...base,
      redirectUri: "https://example.com/cb",
      authType: "MiniProgram",
      bizAppId: "wxfedcba9876543210",
      categoryIds: [1, 18, 42]
    })))
    assert.strictEqual(url.searchParams.get("auth_type"), "2")
    assert.strictEqual(url.searchParams.get("biz_appid"), "wxfedcba9876543210")
    assert.strictEqual(url.searchParams.get("category_id_list"), "1|18|42")
    assert.include(url.search, "category_id_list=1%7C18%7C42")
  })

  const awkward = [
    "https://example.com/cb?shop=42&lang=zh_CN",
    "https://example.com/回调/页面?名字=微信",
    "https://example.com/a path/with spaces?q=a b+c",
    "http://localhost:3000/cb#section",
    "https://user:pass@example.com:8443/cb?x=%20&y=a%2Fb"
  ]
  for (const redirectUri of awkward) {
    it(`percent-encodes ${JSON.stringify(redirectUri)} as one query component`, () => {
      const link = right(AuthorizationUrl.pc({ ...base, redirectUri }))
      const query = link.slice(link.indexOf("?") + 1)
      const raw = query.split("&").find((pair) => pair.startsWith("redirect_uri="))!.slice("redirect_uri=".length)
      assert.match(raw, /^[A-Za-z0-9\-_.!~*'()%]+$/, "only unreserved characters and escapes")
      assert.strictEqual(decodeURIComponent(raw), redirectUri, "decodes back to exactly what was given")
      assert.strictEqual(new URL(link).searchParams.get("redirect_uri"), redirectUri)
      assert.notInclude(link, "#")
    })
  }

  it("points at another host when asked (the mock)", () => {
    const link = right(AuthorizationUrl.pc({ ...base, redirectUri: "http://127.0.0.1:3000/cb", baseUrl: "http://127.0.0.1:4010/" }))
    assert.isTrue(link.startsWith("http://127.0.0.1:4010/cgi-bin/componentloginpage?"))
  })
})

describe("AuthorizationUrl.mobile", () => {
  it("builds the bindcomponent link with action, no_scan and the #wechat_redirect fragment", () => {
    assert.strictEqual(
      right(AuthorizationUrl.mobile({ ...base, redirectUri: "https://example.com/cb?a=1", bizAppId: "wxfedcba9876543210" })),
      "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1" +
        "&component_appid=wx0123456789abcdef&pre_auth_code=preauthcode%40%40%40abc-DEF_123" +
        "&redirect_uri=https%3A%2F%2Fexample.com%2Fcb%3Fa%3D1&auth_type=3&biz_appid=wxfedcba9876543210#wechat_redirect"
    )
  })

  it("keeps the fragment last when the redirect has its own fragment", () => {
    const link = right(AuthorizationUrl.mobile({ ...base, redirectUri: "https://example.com/cb#top", authType: "OfficialAccount" }))
    assert.isTrue(link.endsWith("&auth_type=1#wechat_redirect"))
    assert.strictEqual(link.split("#").length, 2)
    assert.strictEqual(new URL(link).searchParams.get("redirect_uri"), "https://example.com/cb#top")
  })
})

describe("AuthorizationUrl rejects what cannot make a valid link", () => {
  const cases: ReadonlyArray<readonly [string, Partial<AuthorizationUrl.Options>, string]> = [
    ["a relative redirect_uri", { redirectUri: "/wechat/cb" }, "redirectUri"],
    ["a scheme-relative redirect_uri", { redirectUri: "//example.com/cb" }, "redirectUri"],
    ["a host without scheme", { redirectUri: "example.com/cb" }, "redirectUri"],
    ["a javascript: redirect_uri", { redirectUri: "javascript:alert(1)" }, "redirectUri"],
    ["an ftp redirect_uri", { redirectUri: "ftp://example.com/cb" }, "redirectUri"],
    ["a redirect_uri without a host", { redirectUri: "https:///cb" }, "redirectUri"],
    ["an empty pre_auth_code", { preAuthCode: "" }, "preAuthCode"],
    ["an empty component appid", { componentAppId: " " }, "componentAppId"],
    ["an empty biz_appid", { bizAppId: "" }, "bizAppId"],
    ["a non-integer category id", { categoryIds: [1.5] }, "categoryIds"],
    ["a negative category id", { categoryIds: [-3] }, "categoryIds"],
    ["a relative host override", { baseUrl: "mock.local" }, "baseUrl"],
    ["a host override with a query", { baseUrl: "http://127.0.0.1:4010?x=1" }, "baseUrl"]
  ]
  for (const [name, options, option] of cases) {
    it(`${name}, on both links`, () => {
      for (const build of [AuthorizationUrl.pc, AuthorizationUrl.mobile]) {
        const result = build({ ...base, redirectUri: "https://example.com/cb", ...options })
        assert.isTrue(Either.isLeft(result))
        const error = Either.getLeft(result).pipe((o) => o._tag === "Some" ? o.value : undefined)!
        assert.strictEqual(error._tag, "AuthorizationUrlError")
        assert.strictEqual(error.option, option)
        assert.include(error.message, option)
      }
    })
  }
})
