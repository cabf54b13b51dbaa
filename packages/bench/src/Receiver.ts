/**
 * The process behind `ReceiverBench`: a push receiver (`ComponentPush`, on a
 * memory store) given, one after the other, a real signed verify-ticket push
 * and three hostile 64 KiB bodies, each a valid-looking envelope around a
 * real `Encrypt` but with a wrong `msg_signature` and filler that is costly to
 * parse: processing instructions (`<?a?>` repeated), 16,000 empty elements
 * (`<a/>`), and unclosed nesting (`<a><a>…`). Prints, as JSON, the time per
 * request of each (`--calls N` after a warm-up, or at least one second), and
 * the size of each body.
 *
 * WeChat is never called: a ticket push only stores the ticket. Refusals are
 * logged as in production, formatted and then dropped, so that what is
 * measured is the receiver, not a terminal.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { ComponentPush, MessageCrypto, TokenStore } from "@wxopen/core"
import { Effect, Either, Layer, Logger, Redacted } from "effect"
import { parseArgs } from "node:util"
import * as Wxopen from "./Wxopen.js"

const { values } = parseArgs({ options: { calls: { type: "string", default: "0" } } })
const minCalls = Number(values.calls)

const appId = "wx0c0ffee000000001"
const messageToken = "benchPushToken42"
const encodingAesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
const limit = 64 * 1024

const crypto = Either.getOrThrow(
  MessageCrypto.make({ appId, token: Redacted.make(messageToken), encodingAesKey: Redacted.make(encodingAesKey) })
)
const timestamp = String(Math.floor(Date.now() / 1000))
const nonce = "1590219412"
// A ticket as long as WeChat's, in a payload as WeChat writes it.
const payload = `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>${timestamp}</CreateTime>` +
  `<InfoType><![CDATA[component_verify_ticket]]></InfoType>` +
  `<ComponentVerifyTicket><![CDATA[ticket@@@${"x".repeat(420)}]]></ComponentVerifyTicket></xml>`
const encrypted = crypto.encrypt(payload)
const head = `<xml><AppId><![CDATA[${appId}]]></AppId>`
const tail = `<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`

const query = (signature: string) => new URLSearchParams({ timestamp, nonce, encrypt_type: "aes", msg_signature: signature })
// Filler repeated to fill the envelope up to the receiver's 64 KiB.
const hostile = (unit: string) => {
  const room = limit - head.length - tail.length
  return head + unit.repeat(Math.floor(room / unit.length)) + tail
}
const bodies: ReadonlyArray<{ readonly name: string; readonly delivery: ComponentPush.Delivery }> = [
  { name: "real", delivery: { query: query(crypto.sign(timestamp, nonce, encrypted)), body: head + tail } },
  { name: "processing instructions", delivery: { query: query("0".repeat(40)), body: hostile("<?a?>") } },
  { name: "empty elements", delivery: { query: query("0".repeat(40)), body: hostile("<a/>") } },
  { name: "unclosed nesting", delivery: { query: query("0".repeat(40)), body: hostile("<a>") } }
]

const noWeChat = HttpClient.make((request) => Effect.die(`the receiver benchmark calls no WeChat API (${request.url})`))
const logs = Logger.map(Logger.logfmtLogger, () => undefined)
const layer = ComponentPush.layer().pipe(
  Layer.provideMerge(Wxopen.layer({
    appId,
    appSecret: Redacted.make("bench-secret"),
    apiBaseUrl: "http://127.0.0.1:9",
    messageToken: Redacted.make(messageToken),
    encodingAesKey: Redacted.make(encodingAesKey),
    store: TokenStore.layerMemory,
    client: Layer.succeed(HttpClient.HttpClient, noWeChat)
  })),
  Layer.provide(Logger.replace(Logger.defaultLogger, logs))
)

const measure = (delivery: ComponentPush.Delivery) =>
  Effect.gen(function*() {
    const once = Effect.either(ComponentPush.receive(delivery))
    yield* Effect.repeatN(once, 20)
    let calls = 0
    const began = performance.now()
    while (calls < Math.max(minCalls, 1) || (minCalls === 0 && performance.now() - began < 1000)) {
      yield* once
      calls++
    }
    const elapsed = performance.now() - began
    const outcome = yield* once
    return {
      calls,
      msPerRequest: elapsed / calls,
      outcome: Either.isRight(outcome) ? "accepted" : "reason" in outcome.left ? outcome.left.reason : outcome.left._tag
    }
  })

const program = Effect.forEach(bodies, ({ delivery, name }) =>
  Effect.map(measure(delivery), (reading) => ({ name, bytes: Buffer.byteLength(delivery.body), ...reading })))

const readings = await Effect.runPromise(Effect.provide(program, Layer.orDie(layer)))
process.stdout.write(JSON.stringify(readings) + "\n")
