import { assert, describe, it } from "@effect/vitest"
// vi comes from vitest itself: its mocks are hoisted only when imported from there.
import { vi } from "vitest"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import { readFileSync } from "node:fs"
import * as ComponentPush from "../src/ComponentPush.js"
import { findEncrypt } from "../src/internal/envelope.js"
import * as TokenStore from "../src/TokenStore.js"
import { appId, makeLayer, makeStub, noRetries, seal, ticketXml } from "./utils.js"

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

const receiver = Layer.provideMerge(ComponentPush.layer(), makeLayer(makeStub(), {}, noRetries))

/** The reason a delivery is refused for, and how often the XML library was used on the way. */
const refuse = (delivery: ComponentPush.Delivery) =>
  Effect.gen(function*() {
    parsed.count = 0
    const error = yield* Effect.flip(ComponentPush.receive(delivery))
    const ticket = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.getTicket(appId))
    return { reason: "reason" in error ? error.reason : error._tag, parses: parsed.count, stored: Option.isSome(ticket) }
  })

const wrongSignature = (delivery: { readonly query: URLSearchParams; readonly body: string }) => {
  const query = new URLSearchParams(delivery.query)
  query.set("msg_signature", "0".repeat(40))
  return { query, body: delivery.body }
}

describe("ComponentPush checks the signature before it parses anything", () => {
  it.effect("a payload that is not XML, correctly signed, reaches the parser and is refused as malformed", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* refuse(seal("<xml><a><a><a>")), { reason: "MalformedXml", parses: 1, stored: false })
    }).pipe(Effect.provide(receiver)))

  it.effect("the same payload with a wrong signature is refused for its signature, and never parsed", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* refuse(wrongSignature(seal("<xml><a><a><a>"))), { reason: "BadSignature", parses: 0, stored: false })
    }).pipe(Effect.provide(receiver)))

  it.effect("an envelope stuffed with what is costly to parse, wrongly signed, is refused unparsed", () =>
    Effect.gen(function*() {
      const good = seal(ticketXml("ticket@@@stuffed", 10))
      for (const filler of ["<?a?>", "<a/>", "<a>", "<!-- -->"]) {
        const body = good.body.replace("<Encrypt>", filler.repeat(Math.floor(60_000 / filler.length)) + "<Encrypt>")
        assert.deepStrictEqual(yield* refuse(wrongSignature({ query: good.query, body })), { reason: "BadSignature", parses: 0, stored: false })
      }
    }).pipe(Effect.provide(receiver)))

  it.effect("two Encrypt elements are refused before any signature check or parse, even when the first is signed", () =>
    Effect.gen(function*() {
      const good = seal(ticketXml("ticket@@@twice", 10))
      const body = good.body.replace("</xml>", "<Encrypt><![CDATA[AAAA]]></Encrypt><<not-xml</xml>")
      assert.deepStrictEqual(yield* refuse({ query: good.query, body }), { reason: "MalformedEnvelope", parses: 0, stored: false })
    }).pipe(Effect.provide(receiver)))

  it.effect("a correctly signed push is parsed once, after its signature is checked, and stored", () =>
    Effect.gen(function*() {
      parsed.count = 0
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@genuine", 10)))
      assert.strictEqual(parsed.count, 2) // the decrypted payload: validated, then parsed
    }).pipe(Effect.provide(receiver)))

  it.effect("a correctly signed push laid out by an XML writer (a declaration, indented CDATA) is stored", () =>
    Effect.gen(function*() {
      const good = seal(ticketXml("ticket@@@written", 10))
      const encrypted = /<!\[CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(good.body)![1]!
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <AppId><![CDATA[${appId}]]></AppId>\n  <Encrypt>\n    <![CDATA[${encrypted}]]>\n  </Encrypt >\n</xml>\n`
      yield* ComponentPush.receive({ query: good.query, body })
      const ticket = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.getTicket(appId))
      assert.strictEqual(Option.map(ticket, (t) => Redacted.value(t.value)).pipe(Option.getOrUndefined), "ticket@@@written")
    }).pipe(Effect.provide(receiver)))
})

describe("findEncrypt", () => {
  const cases: ReadonlyArray<readonly [string, string, string | { readonly refused: string }]> = [
    ["CDATA, verbatim", "<xml><Encrypt><![CDATA[ab+/cd==]]></Encrypt></xml>", "ab+/cd=="],
    ["plain text, trimmed", "<xml>\n  <Encrypt>\n ab+/cd== \n</Encrypt>\n</xml>\n", "ab+/cd=="],
    ["after an XML declaration", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml><Encrypt><![CDATA[ab+/cd==]]></Encrypt></xml>", "ab+/cd=="],
    ["CDATA on a line of its own", "<xml>\n  <Encrypt>\n    <![CDATA[ab+/cd==]]>\n  </Encrypt>\n</xml>", "ab+/cd=="],
    ["white space before the closing tags' >", "<xml><Encrypt><![CDATA[ab+/cd==]]></Encrypt ></xml\n>", "ab+/cd=="],
    ["beside ToUserName, as an account's message comes", "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt>abcd</Encrypt></xml>", "abcd"],
    ["none", "<xml><AppId>wx</AppId></xml>", { refused: "no Encrypt element" }],
    ["two", "<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>", { refused: "2 Encrypt elements, where WeChat sends one" }],
    ["one with attributes", "<xml><Encrypt type=\"x\">a</Encrypt></xml>", { refused: "an Encrypt element with attributes or no content" }],
    ["one not closed", "<xml><Encrypt>a</xml>", { refused: "an Encrypt element that is not closed" }],
    ["an element inside", "<xml><Encrypt><b>a</b></Encrypt></xml>", { refused: "an Encrypt element with markup or entities in it" }],
    ["an entity inside", "<xml><Encrypt>&amp;</Encrypt></xml>", { refused: "an Encrypt element with markup or entities in it" }],
    ["two CDATA sections", "<xml><Encrypt><![CDATA[a]]><![CDATA[b]]></Encrypt></xml>", { refused: "an Encrypt element with more than one CDATA section" }],
    ["no <xml> root", "<x><Encrypt>a</Encrypt></x>", { refused: "not an <xml> envelope" }],
    ["a declaration with markup in it", "<?xml version=\"1.0\" <x>?><xml><Encrypt>a</Encrypt></xml>", { refused: "not an <xml> envelope" }],
    ["two declarations", "<?xml version=\"1.0\"?><?xml version=\"1.0\"?><xml><Encrypt>a</Encrypt></xml>", { refused: "not an <xml> envelope" }],
    ["a document type first", "<!DOCTYPE xml><xml><Encrypt>a</Encrypt></xml>", { refused: "not an <xml> envelope" }],
    ["over 64 KiB", `<xml><Encrypt>a</Encrypt>${" ".repeat(64 * 1024)}</xml>`, { refused: "65567 characters, more than the 65536 allowed" }]
  ]
  for (const [name, body, expected] of cases) {
    it(`${name}: ${typeof expected === "string" ? "found" : "refused"}`, () => {
      const found = findEncrypt(body)
      assert.deepStrictEqual(Either.isRight(found) ? found.right : { refused: found.left }, expected)
    })
  }

  it("finds the Encrypt of WeChat's documented sample, the value its msg_signature covers", () => {
    const sample = JSON.parse(readFileSync(new URL("./fixtures/official-doc-push.json", import.meta.url), "utf8"))
    assert.deepStrictEqual(findEncrypt(sample.postBody), Either.right(sample.encrypt))
  })
})
