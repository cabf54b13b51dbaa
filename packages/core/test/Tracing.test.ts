import { assert, describe, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import { Effect, Layer, Option } from "effect"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { appSecret, makeLayer, makeStub, noRetries, recordingTracer, storeTicket, ticketValue } from "./utils.js"

describe("spans", () => {
  it.effect("are made under Effect's default tracer too: a request runs inside PreAuthCode.create's span", () => {
    let seen: Option.Option<string> = Option.none()
    const stub = makeStub({
      api_create_preauthcode: () =>
        Effect.map(Effect.option(Effect.currentSpan), (span) => {
          seen = Option.map(span, (s) => s.name)
          return { json: { pre_auth_code: "preauthcode@@@1", expires_in: 1800 } }
        })
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* PreAuthCode.create
      assert.deepStrictEqual(Option.getOrNull(seen), "PreAuthCode.create")
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("a warm call makes one span, PreAuthCode.create, naming its endpoint's path and nothing secret", () => {
    const { layer, spans } = recordingTracer()
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* PreAuthCode.create // fetches the token
      spans.length = 0
      yield* PreAuthCode.create
      assert.deepStrictEqual(spans.map((s) => s.name), ["PreAuthCode.create"])
      assert.strictEqual(spans[0]!.attributes.get("wechat.endpoint"), "/cgi-bin/component/api_create_preauthcode")
      const recorded = JSON.stringify([...spans[0]!.attributes.values()])
      for (const secret of [appSecret, ticketValue, "token-1", "?"]) assert.notInclude(recorded, secret)
    }).pipe(Effect.provide(Layer.merge(makeLayer(stub), layer)))
  })

  it.effect("no HttpClient span records the URL, even when the user's client sets its own tracing rule", () => {
    const { layer, spans } = recordingTracer()
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* PreAuthCode.create
      assert.deepStrictEqual(spans.map((s) => s.name), ["PreAuthCode.create", "ComponentToken.get", "ComponentToken.fetch"])
      const recorded = JSON.stringify(spans.map((s) => [...s.attributes.entries()]))
      for (const secret of [appSecret, ticketValue, "token-1", "component_access_token="]) assert.notInclude(recorded, secret)
    }).pipe(Effect.provide(Layer.merge(
      makeLayer(stub, {}, RetryPolicy.defaultPolicy, { transformClient: HttpClient.withTracerDisabledWhen(() => false) }),
      layer
    )))
  })

  it.effect("a refresh is traced too, and a failure records its errcode and rid", () => {
    const { layer, spans } = recordingTracer()
    const stub = makeStub({
      api_create_preauthcode: () => Effect.succeed({ json: { errcode: 45009, errmsg: "reach max api daily quota limit rid: 1-2-3" } })
    })
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* Effect.flip(PreAuthCode.create)
      assert.deepStrictEqual(spans.map((s) => s.name), ["PreAuthCode.create", "ComponentToken.get", "ComponentToken.fetch"])
      const create = spans[0]!.attributes
      assert.strictEqual(create.get("wechat.errcode"), 45009)
      assert.strictEqual(create.get("wechat.rid"), "1-2-3")
      assert.strictEqual(spans[2]!.attributes.get("wechat.endpoint"), "/cgi-bin/component/api_component_token")
    }).pipe(Effect.provide(Layer.merge(makeLayer(stub, {}, noRetries), layer)))
  })
})
