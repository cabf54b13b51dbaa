import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as UserAuthorizationUrl from "../src/UserAuthorizationUrl.js"
import { appId, clientLayer, makeStub } from "./utils.js"

const account = "wxa1b2c3d4e5f60001"
const Client = clientLayer(makeStub())

describe("UserAuthorizationUrl.make", () => {
  it.effect("builds WeChat's link, component_appid from the configuration, ending in #wechat_redirect", () =>
    Effect.gen(function*() {
      const link = yield* UserAuthorizationUrl.make({
        authorizerAppId: account,
        redirectUri: "https://shop.example/login?next=/orders&x=a b",
        scope: "snsapi_userinfo",
        state: "abcXYZ019"
      })
      assert.strictEqual(
        link,
        `https://open.weixin.qq.com/connect/oauth2/authorize?appid=${account}` +
          "&redirect_uri=https%3A%2F%2Fshop.example%2Flogin%3Fnext%3D%2Forders%26x%3Da%20b" +
          `&response_type=code&scope=snsapi_userinfo&state=abcXYZ019&component_appid=${appId}#wechat_redirect`
      )
      const url = new URL(link)
      assert.strictEqual(url.searchParams.get("redirect_uri"), "https://shop.example/login?next=/orders&x=a b")
    }).pipe(Effect.provide(Client)))

  it.effect("leaves state out when none is given, and points at another host with baseUrl", () =>
    Effect.gen(function*() {
      const link = yield* UserAuthorizationUrl.make({
        authorizerAppId: account,
        redirectUri: "http://127.0.0.1:3000/cb",
        scope: "snsapi_base",
        baseUrl: "http://127.0.0.1:4100/"
      })
      const url = new URL(link)
      assert.strictEqual(url.origin + url.pathname, "http://127.0.0.1:4100/connect/oauth2/authorize")
      assert.isFalse(url.searchParams.has("state"))
      assert.strictEqual(url.searchParams.get("scope"), "snsapi_base")
      assert.strictEqual(url.searchParams.get("component_appid"), appId)
      assert.strictEqual(url.hash, "#wechat_redirect")
    }).pipe(Effect.provide(Client)))

  it.effect("takes a state of exactly 128 letters and digits", () =>
    Effect.gen(function*() {
      const state = "aZ9".repeat(42) + "xy"
      assert.strictEqual(state.length, 128)
      const link = yield* UserAuthorizationUrl.make({ authorizerAppId: account, redirectUri: "https://a.example/", scope: "snsapi_base", state })
      assert.strictEqual(new URL(link).searchParams.get("state"), state)
    }).pipe(Effect.provide(Client)))

  const bad: ReadonlyArray<readonly [string, Partial<UserAuthorizationUrl.Options>, string, string]> = [
    ["a malformed appid", { authorizerAppId: "wxABC" }, "authorizerAppId", "invalid appid"],
    ["a relative redirect_uri", { redirectUri: "/login" }, "redirectUri", "absolute http(s) URL"],
    ["a redirect_uri of another scheme", { redirectUri: "weixin://dl/login" }, "redirectUri", "absolute http(s) URL"],
    ["an unknown scope", { scope: "snsapi_login" as UserAuthorizationUrl.Scope }, "scope", "snsapi_base"],
    ["a state of 129 characters", { state: "a".repeat(129) }, "state", "at most 128"],
    ["a state with other characters", { state: "a-b_c" }, "state", "only letters and digits"],
    ["a baseUrl with a query", { baseUrl: "http://127.0.0.1:4100/?x=1" }, "baseUrl", "without a query"]
  ]
  for (const [name, override, option, detail] of bad) {
    it.effect(`refuses ${name}, naming the option`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(UserAuthorizationUrl.make({
          authorizerAppId: account,
          redirectUri: "https://shop.example/login",
          scope: "snsapi_base",
          ...override
        }))
        assert.strictEqual(error._tag, "AuthorizationUrlError")
        assert.strictEqual(error.option, option)
        assert.include(error.message, detail)
      }).pipe(Effect.provide(Client)))
  }
})
