/**
 * A tiny platform for the tests: a message URL that checks WeChat's
 * signature, decrypts with `@wxopen/core`'s MessageCrypto, records what it
 * received and answers as `answer` says.
 */
import { MessageCrypto } from "@wxopen/core"
import { Effect, Either, Redacted } from "effect"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { fieldsOf } from "../src/internal/AccountMessages.js"
import { component } from "./utils.js"

export const crypto = Either.getOrThrow(MessageCrypto.make({
  appId: component.appId,
  token: Redacted.make(component.token),
  encodingAesKey: Redacted.make(component.encodingAesKey)
}))

/** What the platform received: the path, the query, the raw body, and the message decrypted (or why it could not be). */
export interface Received {
  readonly path: string
  readonly query: URLSearchParams
  /** The query string as received, `?` included. */
  readonly search: string
  readonly body: string
  readonly xml?: string
  readonly fields: Record<string, string>
  readonly error?: string
}

/** An answer: a raw body (with an optional status), or a passive reply encrypted with `with` (the component's by default). */
export type Answer =
  | { readonly raw: string; readonly status?: number; readonly headers?: Record<string, string> }
  | { readonly reply: Record<string, string | number>; readonly with?: MessageCrypto.MessageCrypto; readonly badSignature?: boolean }
  | { readonly hang: true }

/** A passive reply's envelope, as a platform sends it. */
export const encryptedReply = (fields: Record<string, string | number>, using = crypto, badSignature = false) => {
  const xml = `<xml>${
    Object.entries(fields).map(([k, v]) => (typeof v === "number" ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`)).join("")
  }</xml>`
  const encrypted = using.encrypt(xml)
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(Crypto.randomInt(1_000_000))
  const signature = badSignature ? "0".repeat(40) : using.sign(timestamp, nonce, encrypted)
  return `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature><TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`
}

/** The text reply a platform gives to `received`. */
export const textReply = (received: Received, content: string) => ({
  ToUserName: received.fields.FromUserName ?? "",
  FromUserName: received.fields.ToUserName ?? "",
  CreateTime: Math.floor(Date.now() / 1000),
  MsgType: "text",
  Content: content
})

/** Starts the platform on an ephemeral port; its message URL has `$APPID$` in the path. */
export const startPlatform = (answer: (received: Received) => Answer | Promise<Answer>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly messageUrl: string; readonly received: Array<Received>; readonly server: Http.Server }>((resume) => {
      const received: Array<Received> = []
      const server = Http.createServer((req, res) => {
        let body = ""
        req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", async () => {
          const url = new URL(req.url ?? "/", "http://platform.invalid")
          const envelope = fieldsOf(body)
          const opened = crypto.open({
            signature: url.searchParams.get("msg_signature") ?? "",
            timestamp: url.searchParams.get("timestamp") ?? "",
            nonce: url.searchParams.get("nonce") ?? "",
            encrypted: envelope.Encrypt ?? ""
          })
          const record: Received = Either.isRight(opened)
            ? { path: url.pathname, query: url.searchParams, search: url.search, body, xml: opened.right, fields: fieldsOf(opened.right) }
            : { path: url.pathname, query: url.searchParams, search: url.search, body, fields: {}, error: opened.left.message }
          received.push(record)
          const given = await answer(record)
          if ("hang" in given) return
          if ("raw" in given) {
            res.writeHead(given.status ?? 200, given.headers ?? {})
            return res.end(given.raw)
          }
          res.end(encryptedReply(given.reply, given.with ?? crypto, given.badSignature ?? false))
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          messageUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/messages/$APPID$/callback`,
          received,
          server
        })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
