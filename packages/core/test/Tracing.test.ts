import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Tracer } from "effect"
import * as PreAuthCode from "../src/PreAuthCode.js"
import { makeLayer, makeStub, noRetries, storeTicket } from "./utils.js"

/** A tracer that keeps every span it is asked for, with its attributes. */
const recording = () => {
  const spans: Array<{ readonly name: string; readonly attributes: Map<string, unknown> }> = []
  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const attributes = new Map<string, unknown>()
      spans.push({ name, attributes })
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      return {
        _tag: "Span",
        name,
        spanId: String(spans.length),
        traceId: "trace",
        parent,
        context,
        get status() {
          return status
        },
        attributes,
        links,
        sampled: true,
        kind,
        end: (endTime, exit) => {
          status = { _tag: "Ended", startTime, endTime, exit }
        },
        attribute: (key, value) => attributes.set(key, value),
        event: () => {},
        addLinks: () => {}
      }
    },
    context: (f) => f()
  })
  return { spans, layer: Layer.setTracer(tracer) }
}

describe("spans", () => {
  it.effect("with a tracer installed, a warm call makes one span, PreAuthCode.create, naming its endpoint", () => {
    const { layer, spans } = recording()
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
    const { layer, spans } = recording()
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
