import { assert, describe, it } from "@effect/vitest"
// vi comes from vitest itself: its mocks are hoisted only when imported from there.
import { vi } from "vitest"
import { Effect, Layer } from "effect"
import * as AccountPush from "../src/AccountPush.js"
import { account, makeLayer, makeStub, noRetries, sealMessage, textXml } from "./utils.js"

// Every use of the XML library is counted: the receiver must not reach it before the signature holds.
const parsed = vi.hoisted(() => ({ count: 0 }))
vi.mock("fast-xml-parser", async (importOriginal) => {
  const original = await importOriginal<typeof import("fast-xml-parser")>()
  class XMLParser extends original.XMLParser {
    override parse(xml: string) {
      parsed.count++
      return super.parse(xml)
    }
  }
  const validate: typeof original.XMLValidator.validate = (...args) => {
    parsed.count++
    return original.XMLValidator.validate(...args)
  }
  return { ...original, XMLParser, XMLValidator: { ...original.XMLValidator, validate } }
})

let handled = 0
const receiver = Layer.provideMerge(
  AccountPush.layer({ onMessage: () => Effect.sync(() => void handled++) }),
  makeLayer(makeStub(), {}, noRetries)
)

const refuse = (delivery: AccountPush.Delivery, appid = account) =>
  Effect.gen(function*() {
    parsed.count = 0
    handled = 0
    const error = yield* Effect.flip(AccountPush.receive(appid, delivery))
    return { reason: error.reason, parses: parsed.count, handled }
  })

const wrongSignature = (delivery: { readonly query: URLSearchParams; readonly body: string }) => {
  const query = new URLSearchParams(delivery.query)
  query.set("msg_signature", "0".repeat(40))
  return { query, body: delivery.body }
}

describe("AccountPush checks the signature before it parses anything", () => {
  it.effect("a payload that is not XML, correctly signed, reaches the parser and is refused as malformed", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* refuse(sealMessage("<xml><a><a><a>")), { reason: "MalformedXml", parses: 1, handled: 0 })
    }).pipe(Effect.provide(receiver)))

  it.effect("the same payload with a wrong signature is refused for its signature, and never parsed", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* refuse(wrongSignature(sealMessage("<xml><a><a><a>"))), { reason: "BadSignature", parses: 0, handled: 0 })
    }).pipe(Effect.provide(receiver)))

  it.effect("an envelope stuffed with what is costly to parse, wrongly signed, is refused unparsed", () =>
    Effect.gen(function*() {
      const good = sealMessage(textXml("x"))
      for (const filler of ["<?a?>", "<a/>", "<a>", "<!-- -->"]) {
        const body = good.body.replace("<Encrypt>", filler.repeat(Math.floor(60_000 / filler.length)) + "<Encrypt>")
        assert.deepStrictEqual(yield* refuse(wrongSignature({ query: good.query, body })), { reason: "BadSignature", parses: 0, handled: 0 })
      }
    }).pipe(Effect.provide(receiver)))

  it.effect("an appid that is not one is refused before the envelope is even scanned", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* refuse(sealMessage(textXml("x")), "../../etc"), { reason: "InvalidAppId", parses: 0, handled: 0 })
    }).pipe(Effect.provide(receiver)))

  it.effect("a correctly signed message is parsed once, after its signature is checked, and handled", () =>
    Effect.gen(function*() {
      parsed.count = 0
      handled = 0
      yield* AccountPush.receive(account, sealMessage(textXml("x")))
      assert.deepStrictEqual({ parses: parsed.count, handled }, { parses: 2, handled: 1 }) // validated, then parsed
    }).pipe(Effect.provide(receiver)))
})
