import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as TokenStore from "../src/TokenStore.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import { appId, appSecret, startFakeWeChat, storeTicket } from "./utils.js"

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["UndiciHttpClient.layer", UndiciHttpClient.layer()]
]

describe("over a real socket", () => {
  for (const [name, client] of clients) {
    it.live(`${name}: a pre-authorization code, with WeChat's transport conventions`, () =>
      Effect.gen(function*() {
        const fake = yield* startFakeWeChat
        const live = ComponentToken.layer.pipe(
          Layer.provideMerge(
            Layer.mergeAll(
              ComponentConfig.layer({ appId, appSecret: Redacted.make(appSecret), apiBaseUrl: fake.url }),
              TokenStore.layerMemory,
              client
            )
          )
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
})
