import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as TokenStore from "../src/TokenStore.js"
import * as WeChatClient from "../src/WeChatClient.js"
import { HttpLive } from "./fixtures/readme-http-client.js"
import { appId, appSecret, clientLayer, startFakeWeChat, storeTicket } from "./utils.js"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["the README's pool of its own", HttpLive]
]

describe("over a real socket", () => {
  for (const [name, client] of clients) {
    it.live(`${name}: a pre-authorization code, with WeChat's transport conventions`, () =>
      Effect.gen(function*() {
        const fake = yield* startFakeWeChat
        const live = ComponentToken.layer.pipe(
          Layer.provideMerge(Layer.merge(clientLayer({ layer: client }, { apiBaseUrl: fake.url }), TokenStore.layerMemory))
        )
        const codes = yield* Effect.gen(function*() {
          yield* storeTicket()
          return yield* Effect.all([PreAuthCode.create, PreAuthCode.create], { concurrency: 2 })
        }).pipe(Effect.provide(live))
        assert.deepStrictEqual(codes.map((c) => c.code).sort(), ["preauthcode@@@http-1", "preauthcode@@@http-2"])
        assert.deepStrictEqual(fake.received.map((r) => r.endpoint), ["api_component_token", "api_create_preauthcode", "api_create_preauthcode"])
        for (const request of fake.received) {
          assert.match(request.contentType ?? "", /^application\/json/)
          assert.notProperty(request.body, "component_access_token")
          assert.notInclude(request.url.search, appSecret)
          // HttpClient's tracing is off for these calls, so no trace headers travel to WeChat.
          assert.notProperty(request.headers, "traceparent")
          assert.notProperty(request.headers, "b3")
        }
      }).pipe(Effect.scoped))
  }

  it.live("a client wrapped with transformClient carries every request, through the same path", () =>
    Effect.gen(function*() {
      const fake = yield* startFakeWeChat
      const live = ComponentToken.layer.pipe(
        Layer.provideMerge(TokenStore.layerMemory),
        Layer.provideMerge(WeChatClient.layer({
          transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-proxy-authorization", "by-the-user"))
        })),
        Layer.provide(FetchHttpClient.layer),
        Layer.provide(ComponentConfig.layer({ appId, appSecret: Redacted.make(appSecret), apiBaseUrl: fake.url }))
      )
      yield* Effect.gen(function*() {
        yield* storeTicket()
        yield* PreAuthCode.create
      }).pipe(Effect.provide(live))
      assert.deepStrictEqual(fake.received.map((r) => r.endpoint), ["api_component_token", "api_create_preauthcode"])
      for (const request of fake.received) assert.strictEqual(request.headers["x-proxy-authorization"], "by-the-user")
    }).pipe(Effect.scoped))
})
