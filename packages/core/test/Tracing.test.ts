import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import * as Tracing from "../src/internal/tracing.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import { makeLayer, makeStub, noRetries, recordingTracer, storeTicket } from "./utils.js"

describe("spans", () => {
  it.effect("under Effect's default tracer, which exports nothing, wxopen makes no span", () =>
    Effect.gen(function*() {
      const inside = yield* Effect.option(Effect.currentSpan).pipe(Tracing.withSpan("PreAuthCode.create"))
      assert.isTrue(Option.isNone(inside))
    }))

  it.effect("with a tracer installed, the span is made", () => {
    const { layer, spans } = recordingTracer()
    return Effect.gen(function*() {
      const inside = yield* Effect.option(Effect.currentSpan).pipe(Tracing.withSpan("PreAuthCode.create"))
      assert.strictEqual(Option.map(inside, (span) => span.name).pipe(Option.getOrUndefined), "PreAuthCode.create")
      assert.deepStrictEqual(spans.map((s) => s.name), ["PreAuthCode.create"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("with a tracer installed, a warm call makes one span, PreAuthCode.create, naming its endpoint", () => {
    const { layer, spans } = recordingTracer()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* PreAuthCode.create // fetches the token
      spans.length = 0
      yield* PreAuthCode.create
      assert.deepStrictEqual(spans.map((s) => s.name), ["PreAuthCode.create"])
      assert.strictEqual(spans[0]!.attributes.get("wechat.endpoint"), "api_create_preauthcode")
    }).pipe(Effect.provide(Layer.merge(makeLayer(makeStub()), layer)))
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
      assert.strictEqual(spans[2]!.attributes.get("wechat.endpoint"), "api_component_token")
    }).pipe(Effect.provide(Layer.mergeAll(makeLayer(stub), layer, noRetries)))
  })
})
