import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as ComponentConfig from "../src/ComponentConfig.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.flatMap(ComponentConfig.ComponentConfig, Effect.succeed).pipe(
    Effect.provide(ComponentConfig.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))))
  )

describe("ComponentConfig", () => {
  it.effect("layerConfig reads WXOPEN_* and applies the defaults", () =>
    Effect.gen(function*() {
      const settings = yield* fromEnv({ WXOPEN_COMPONENT_APPID: "wx0123456789abcdef", WXOPEN_COMPONENT_APPSECRET: "shh" })
      assert.strictEqual(settings.appId, "wx0123456789abcdef")
      assert.strictEqual(Redacted.value(settings.appSecret), "shh")
      assert.strictEqual(settings.apiBaseUrl, "https://api.weixin.qq.com")
      assert.isTrue(Duration.equals(settings.refreshMargin, Duration.minutes(5)))
      assert.isTrue(Duration.equals(settings.requestTimeout, Duration.seconds(10)))
    }))

  it.effect("layerConfig reads the base URL, margin and timeout overrides", () =>
    Effect.gen(function*() {
      const settings = yield* fromEnv({
        WXOPEN_COMPONENT_APPID: "wx0123456789abcdef",
        WXOPEN_COMPONENT_APPSECRET: "shh",
        WXOPEN_API_BASE_URL: "http://127.0.0.1:4010/",
        WXOPEN_TOKEN_REFRESH_MARGIN: "10 minutes",
        WXOPEN_REQUEST_TIMEOUT: "3 seconds"
      })
      assert.strictEqual(settings.apiBaseUrl, "http://127.0.0.1:4010")
      assert.isTrue(Duration.equals(settings.refreshMargin, Duration.minutes(10)))
      assert.isTrue(Duration.equals(settings.requestTimeout, Duration.seconds(3)))
    }))

  it.effect("layerConfig reads the message token and EncodingAESKey, which are optional", () =>
    Effect.gen(function*() {
      const without = yield* fromEnv({ WXOPEN_COMPONENT_APPID: "wx0123456789abcdef", WXOPEN_COMPONENT_APPSECRET: "shh" })
      assert.isTrue(Option.isNone(without.messageToken) && Option.isNone(without.encodingAesKey))
      const withKeys = yield* fromEnv({
        WXOPEN_COMPONENT_APPID: "wx0123456789abcdef",
        WXOPEN_COMPONENT_APPSECRET: "shh",
        WXOPEN_COMPONENT_TOKEN: "tok",
        WXOPEN_COMPONENT_ENCODING_AES_KEY: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
      })
      assert.deepStrictEqual(Option.getOrNull(Option.map(withKeys.messageToken, Redacted.value)), "tok")
      assert.deepStrictEqual(
        Option.getOrNull(Option.map(withKeys.encodingAesKey, Redacted.value)),
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
      )
    }))

  it.effect("a malformed EncodingAESKey fails when the layer is built, without quoting it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromEnv({
        WXOPEN_COMPONENT_APPID: "wx0123456789abcdef",
        WXOPEN_COMPONENT_APPSECRET: "shh",
        WXOPEN_COMPONENT_TOKEN: "tok",
        WXOPEN_COMPONENT_ENCODING_AES_KEY: "tooShortSecretKey"
      }))
      assert.include(String(error), "encodingAesKey")
      assert.include(String(error), "43 letters and digits")
      assert.notInclude(String(error), "tooShortSecretKey")
    }))

  it.effect("a missing secret is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(fromEnv({ WXOPEN_COMPONENT_APPID: "wx0123456789abcdef" }))
      assert.include(String(error), "WXOPEN_COMPONENT_APPSECRET is not set: it holds the component's AppSecret")
      assert.notInclude(String(error), "<redacted>")
    }))

  const invalid: ReadonlyArray<readonly [string, Partial<ComponentConfig.Options>, string]> = [
    ["an empty appid", { appId: " " }, "appId"],
    ["an appid with spaces", { appId: "wx01 23" }, "appId"],
    ["an empty secret", { appSecret: Redacted.make("") }, "appSecret"],
    ["a relative base URL", { apiBaseUrl: "api.weixin.qq.com" }, "apiBaseUrl"],
    ["a non-http base URL", { apiBaseUrl: "ftp://api.weixin.qq.com" }, "apiBaseUrl"],
    ["a base URL with a query", { apiBaseUrl: "https://api.weixin.qq.com/?x=1" }, "apiBaseUrl"],
    ["a margin longer than an hour", { refreshMargin: "61 minutes" }, "refreshMargin"],
    ["a zero timeout", { requestTimeout: 0 }, "requestTimeout"],
    ["a message token without its key", { messageToken: Redacted.make("tok") }, "encodingAesKey"],
    ["a message token with a symbol", { messageToken: Redacted.make("to-ken"), encodingAesKey: Redacted.make("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG") }, "messageToken"],
    ["a key without its message token", { encodingAesKey: Redacted.make("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG") }, "messageToken"],
    ["an EncodingAESKey with a symbol", { messageToken: Redacted.make("tok"), encodingAesKey: Redacted.make("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+") }, "encodingAesKey"]
  ]
  for (const [name, options, path] of invalid) {
    it.effect(`rejects ${name} when the layer is built`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ComponentConfig.make({ appId: "wx0123456789abcdef", appSecret: Redacted.make("top-secret"), ...options })
        )
        assert.strictEqual(error._op, "InvalidData")
        assert.include(String(error), path)
        assert.notInclude(String(error), "top-secret")
      }))
  }

  it.effect("quotes a bad base URL without the credentials written into it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        ComponentConfig.make({ appId: "wx0123456789abcdef", appSecret: Redacted.make("s"), apiBaseUrl: "ftp://admin:hunter2@example.com" })
      )
      assert.include(String(error), "ftp://<credentials>@example.com")
      assert.notInclude(String(error), "hunter2")
    }))

  it.effect("trims the appid and strips trailing slashes from the base URL", () =>
    Effect.gen(function*() {
      const settings = yield* ComponentConfig.make({
        appId: " wx0123456789abcdef ",
        appSecret: Redacted.make("s"),
        apiBaseUrl: "http://localhost:8080/prefix//"
      })
      assert.strictEqual(settings.appId, "wx0123456789abcdef")
      assert.strictEqual(settings.apiBaseUrl, "http://localhost:8080/prefix")
    }))
})
