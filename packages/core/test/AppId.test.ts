import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted, Schema } from "effect"
import * as AppId from "../src/AppId.js"
import * as AuthorizationUrl from "../src/AuthorizationUrl.js"
import * as AuthorizerClient from "../src/AuthorizerClient.js"
import * as AuthorizerProfile from "../src/AuthorizerProfile.js"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import * as ComponentConfig from "../src/ComponentConfig.js"
import type * as ComponentToken from "../src/ComponentToken.js"
import type * as TokenStore from "../src/TokenStore.js"
import * as WeChatClient from "../src/WeChatClient.js"
import { makeLayer, makeStub } from "./utils.js"

const expected = `invalid appid "not-an-appid": expected "wx" followed by 16 lowercase hexadecimal characters, like wx1234567890abcdef`

const malformed = [
  "not-an-appid",
  "wx0123456789ABCDEF", // WeChat issues lowercase hex only
  "wx0123456789abcde",
  "wx0123456789abcdef0",
  "wx0123456789abcdeg",
  "gh_0123456789ab",
  ""
]

describe("AppId", () => {
  it("accepts wx and 16 lowercase hexadecimal characters, as WeChat's documented samples are", () => {
    for (const appId of ["wx1234567890abcdef", "wx134c8103faa5a59e", "wxba5fad812f8e6fb9"]) assert.isTrue(AppId.isAppId(appId), appId)
  })

  it("refuses what is not of that form", () => {
    for (const appId of malformed) assert.isFalse(AppId.isAppId(appId), appId)
  })

  it("says what is wrong and what was expected, in its schema too", () => {
    assert.strictEqual(AppId.describeInvalid("not-an-appid"), expected)
    const decoded = Schema.decodeUnknownEither(AppId.AppId)("not-an-appid")
    assert.include(Either.isLeft(decoded) ? decoded.left.message : "", expected)
    assert.deepStrictEqual(Schema.decodeUnknownEither(AppId.AppId)("wx1234567890abcdef"), Either.right("wx1234567890abcdef"))
  })

  it("quotes at most 40 characters of what it was given", () => {
    assert.include(AppId.describeInvalid("x".repeat(1000)), `"${"x".repeat(40)}…"`)
  })
})

describe("a malformed appid is refused where it enters", () => {
  it.effect("ComponentConfig.make: a ConfigError on appId that shows the expected form", () =>
    Effect.gen(function*() {
      for (const appId of malformed) {
        const error = yield* Effect.flip(ComponentConfig.make({ appId, appSecret: Redacted.make("s") }))
        assert.strictEqual(error._op, "InvalidData")
        assert.include(String(error), "appId")
        assert.include(String(error), `expected "wx" followed by 16 lowercase hexadecimal characters`)
      }
    }))

  it.effect("ComponentConfig.layerConfig: WXOPEN_COMPONENT_APPID=not-an-appid fails when the layer is built", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(ComponentConfig.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
          new Map([["WXOPEN_COMPONENT_APPID", "not-an-appid"], ["WXOPEN_COMPONENT_APPSECRET", "s"]])
        )))
      )))
      assert.include(String(error), `the component's ${expected}`)
    }).pipe(Effect.scoped))

  const accountCalls: ReadonlyArray<
    readonly [
      string,
      string,
      Effect.Effect<unknown, unknown, WeChatClient.WeChatClient | AuthorizerToken.AuthorizerToken | ComponentToken.ComponentToken | TokenStore.TokenStore>
    ]
  > = [
    ["AuthorizerClient.make", "/cgi-bin/component/api_authorizer_token", AuthorizerClient.make("not-an-appid")],
    ["AuthorizerToken.get", "/cgi-bin/component/api_authorizer_token", AuthorizerToken.get("not-an-appid")],
    ["AuthorizerToken.withToken", "/cgi-bin/component/api_authorizer_token", AuthorizerToken.withToken("not-an-appid", () => Effect.void)],
    ["AuthorizerProfile.get", "/cgi-bin/component/api_get_authorizer_info", AuthorizerProfile.get("not-an-appid")]
  ]
  for (const [name, endpoint, call] of accountCalls) {
    it.effect(`${name}: an InvalidRequestError (InvalidAppId), and nothing sent to WeChat`, () => {
      const stub = makeStub()
      return Effect.gen(function*() {
        const error = yield* Effect.flip(call)
        assert.isTrue(error instanceof Error && "_tag" in error && error._tag === "InvalidRequestError")
        const refused = error as { readonly reason: string; readonly endpoint: string; readonly message: string }
        assert.strictEqual(refused.reason, "InvalidAppId")
        assert.strictEqual(refused.endpoint, endpoint)
        assert.strictEqual(refused.message, `${endpoint} was not sent to WeChat: ${expected}`)
        assert.strictEqual(stub.requests.length, 0)
      }).pipe(Effect.provide(AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))))
    })
  }

  for (const [name, build] of [["pc", AuthorizationUrl.pc], ["mobile", AuthorizationUrl.mobile]] as const) {
    it(`AuthorizationUrl.${name}: a malformed componentAppId or bizAppId is an AuthorizationUrlError`, () => {
      const options = { componentAppId: "wx0123456789abcdef", preAuthCode: "preauthcode@@@1", redirectUri: "https://example.com/cb" }
      const component = build({ ...options, componentAppId: "not-an-appid" })
      assert.strictEqual(Either.isLeft(component) && component.left.message, `cannot build the authorization link: componentAppId is an ${expected}`)
      const biz = build({ ...options, bizAppId: "not-an-appid" })
      assert.strictEqual(Either.isLeft(biz) && biz.left.option, "bizAppId")
    })
  }
})
