import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as AuthorizerClient from "../src/AuthorizerClient.js"
import * as AuthorizerToken from "../src/AuthorizerToken.js"
import { makeLayer, makeStub, recordingTracer, storeAccount } from "./utils.js"

// What the mock cannot stage, and what needs no WeChat at all; the behaviours over a real socket are tested against
// the mock, in packages/mock-server/test/AuthorizerClient.test.ts.

const account = "wxfedcba9876543210"
const IpList = Schema.Struct({ ip_list: Schema.Array(Schema.String) })
const refused = Effect.succeed({ json: { errcode: 40001, errmsg: "invalid credential rid: 1-2-3" } })

const setup = (stub: ReturnType<typeof makeStub>) =>
  AuthorizerToken.layer.pipe(Layer.provideMerge(makeLayer(stub)))

const withAccount = Effect.gen(function*() {
  yield* storeAccount(account, "at-same")
  return yield* AuthorizerClient.make(account)
})

describe("AuthorizerClient", () => {
  it.effect("a refused token is not sent again when the refresh hands back that same token", () => {
    const stub = makeStub({
      api_authorizer_token: () => Effect.succeed({ json: { authorizer_access_token: "at-same", expires_in: 7200 } }),
      get_api_domain_ip: () => refused
    })
    return Effect.gen(function*() {
      const client = yield* withAccount
      const error = yield* Effect.flip(client.get("/cgi-bin/get_api_domain_ip", IpList))
      assert.strictEqual(error._tag, "AccessTokenError")
      assert.strictEqual(stub.count("get_api_domain_ip"), 1)
      assert.strictEqual(stub.count("api_authorizer_token"), 1)
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("a path with a query, or a query carrying access_token, is refused before anything is sent", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      const client = yield* withAccount
      const inPath = yield* Effect.flip(client.get("/cgi-bin/get_api_domain_ip?access_token=leaked-token", IpList))
      assert.isTrue(inPath._tag === "InvalidRequestError" && inPath.reason === "NotAPath")
      assert.strictEqual(inPath._tag === "InvalidRequestError" && inPath.endpoint, "/cgi-bin/get_api_domain_ip")
      assert.notInclude(inPath.message, "leaked-token")
      const inQuery = yield* Effect.flip(client.get("/cgi-bin/get_api_domain_ip", IpList, { query: { access_token: "leaked-token" } }))
      assert.isTrue(inQuery._tag === "InvalidRequestError" && inQuery.reason === "TokenInQuery")
      assert.notInclude(inQuery.message, "leaked-token")
      const notAPath = yield* Effect.flip(client.post("https://elsewhere.example/steal", {}, IpList))
      assert.isTrue(notAPath._tag === "InvalidRequestError" && notAPath.reason === "NotAPath")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(setup(stub)))
  })

  it.effect("the raw HttpClient sends paths to the API base URL with the token, untraced, and refuses anything else", () => {
    const stub = makeStub({ "get": () => Effect.succeed({ status: 200, text: "JPEG…" }) })
    const tracer = recordingTracer()
    return Effect.gen(function*() {
      const client = yield* withAccount
      const response = yield* client.httpClient.execute(HttpClientRequest.get("/cgi-bin/media/get", { urlParams: { media_id: "m1" } }))
      assert.strictEqual(yield* response.text, "JPEG…")
      const sent = stub.requests[0]!
      assert.strictEqual(sent.url.origin + sent.url.pathname, "https://api.weixin.qq.com/cgi-bin/media/get")
      assert.strictEqual(sent.url.searchParams.get("access_token"), "at-same")
      assert.strictEqual(sent.url.searchParams.get("media_id"), "m1")
      assert.isFalse(tracer.spans.some((span) => span.name.startsWith("http.client")), "no client span records the URL")

      const absolute = yield* Effect.flip(client.httpClient.execute(HttpClientRequest.get("https://elsewhere.example/x")))
      assert.isTrue(absolute._tag === "RequestError" && absolute.reason === "InvalidUrl")
      const carried = yield* Effect.flip(client.httpClient.execute(HttpClientRequest.get("/cgi-bin/media/get?access_token=leaked-token")))
      assert.isTrue(carried._tag === "RequestError" && carried.reason === "InvalidUrl")
      assert.notInclude(carried.message, "leaked-token")
      const inParams = yield* Effect.flip(client.httpClient.get("/cgi-bin/media/get", { urlParams: { access_token: "leaked-token" } }))
      assert.isTrue(inParams._tag === "RequestError" && inParams.reason === "InvalidUrl")
      assert.notInclude(inParams.message, "leaked-token")
      assert.strictEqual(stub.requests.length, 1)
    }).pipe(Effect.provide(setup(stub)), Effect.provide(tracer.layer))
  })
})
