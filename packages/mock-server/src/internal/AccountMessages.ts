/**
 * Messages and events of authorized accounts, pushed as WeChat pushes them
 * to a component's `messageUrl` (`$APPID$` replaced by the account's appid):
 * the account's message XML (`ToUserName` its original id, `FromUserName` a
 * user's openid, `CreateTime`, `MsgId` for a message), encrypted with the
 * component's token and EncodingAESKey (the component's appid inside the
 * ciphertext), the query `signature`, `timestamp`, `nonce`, `openid`,
 * `encrypt_type=aes`, `msg_signature`, the envelope
 * `<xml><ToUserName>…</ToUserName><Encrypt>…</Encrypt></xml>`. The answer is
 * read within WeChat's 5 seconds and checked as WeChat checks it: `success`,
 * nothing, or an encrypted passive reply (its `MsgSignature` verified, then
 * decrypted, its appid the component's, its XML read into fields).
 *
 * @internal
 */
import { MessageCrypto } from "@wxopen/core"
import { Either } from "effect"
import * as Crypto from "node:crypto"
import { type MockConfig, messageUrlFor } from "../MockConfig.js"
import * as Guard from "./Guard.js"
import { cryptoOf } from "./Pusher.js"
import { defaultOpenid } from "./UserLogin.js"
import type { WeChatState } from "./WeChatState.js"

/** WeChat's budget for an answer. */
export const budgetMs = 5_000

/** The most of an answer's body read and kept in a report, in bytes: the rest is never read. */
export const keptBodyBytes = 64 * 1024

/** A message's fields as WeChat's XML has them: a string goes in CDATA, a number bare. */
export type Fields = Readonly<Record<string, string | number>>

/** What the platform's answer was, read as WeChat reads it. */
export type Reply =
  | { readonly kind: "success" }
  | { readonly kind: "empty" }
  | { readonly kind: "encrypted"; readonly verified: true; readonly xml: string; readonly fields: Fields }
  | { readonly kind: "encrypted"; readonly verified: false; readonly error: string }
  | { readonly kind: "unencrypted"; readonly fields: Fields; readonly error: string }
  | { readonly kind: "other"; readonly error: string }

/** One push of a message and what came back. */
export interface Delivery {
  /** The message URL, `$APPID$` replaced, without the query the mock adds. */
  readonly url: string
  /** The message as pushed, before encryption. */
  readonly message: Fields
  readonly status?: number
  /** The answer's body as received (its first 64 KiB). */
  readonly body?: string
  /** Present when the body was longer than 64 KiB: the mock stopped reading there. */
  readonly bodyTruncated?: true
  /** Why there was no answer: refused destination, timeout, connection error. */
  readonly error?: string
  readonly elapsedMs: number
  readonly reply?: Reply
}

const fieldName = /^[A-Za-z][A-Za-z0-9_]{0,63}$/

/** Why a message's fields cannot be pushed, or `undefined`. */
export const fieldsRefusal = (message: unknown): string | undefined => {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return "message must be an object of WeChat's XML fields (MsgType, Content, Event, …)"
  }
  for (const [key, value] of Object.entries(message)) {
    if (!fieldName.test(key)) return `message field ${JSON.stringify(key.slice(0, 64))} is not an XML element name`
    if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
      return `message field ${key} must be a string or a number`
    }
    if (typeof value === "string" && value.includes("]]>")) return `message field ${key} must not contain ]]>`
  }
  if (typeof (message as { MsgType?: unknown }).MsgType !== "string") return "message.MsgType is required (text, image, event, …)"
  if ("ToUserName" in message) return "message.ToUserName is the account's original id: the mock sets it"
  return undefined
}

const toXml = (fields: Fields) =>
  `<xml>${
    Object.entries(fields).map(([key, value]) =>
      typeof value === "number" ? `<${key}>${value}</${key}>` : `<${key}><![CDATA[${value}]]></${key}>`
    ).join("")
  }</xml>`

/** The top-level elements of a flat XML document, as fields (nested elements' text kept as it is). */
export const fieldsOf = (xml: string): Record<string, string> => {
  const fields: Record<string, string> = {}
  const inner = /^\s*(?:<\?xml[^>]*\?>\s*)?<xml>([\s\S]*)<\/xml>\s*$/.exec(xml)?.[1]
  if (inner === undefined) return fields
  const element = /<([A-Za-z_][\w.-]*)>\s*(?:<!\[CDATA\[([\s\S]*?)\]\]>|([\s\S]*?))\s*<\/\1>/g
  for (const match of inner.matchAll(element)) fields[match[1]!] = match[2] ?? match[3] ?? ""
  return fields
}

/** The messages of one mock's accounts. */
export const make = (options: {
  readonly config: MockConfig
  readonly state: WeChatState
  readonly clock: { readonly now: () => number }
}) => {
  const { clock, config, state } = options
  const inFlight = new Set<AbortController>()

  /** Reads an answer as WeChat does. */
  const readReply = (crypto: MessageCrypto.MessageCrypto, body: string): Reply => {
    if (body === "") return { kind: "empty" }
    if (body === "success") return { kind: "success" }
    const fields = fieldsOf(body)
    if (Object.keys(fields).length === 0) return { kind: "other", error: "the answer is neither success, empty, nor XML" }
    if (fields.Encrypt === undefined) {
      return { kind: "unencrypted", fields, error: "the reply is not encrypted: in safe mode WeChat takes only encrypted replies" }
    }
    const { Encrypt, MsgSignature, Nonce, TimeStamp } = fields
    if (MsgSignature === undefined || TimeStamp === undefined || Nonce === undefined) {
      return { kind: "encrypted", verified: false, error: "the encrypted reply lacks MsgSignature, TimeStamp or Nonce" }
    }
    const opened = crypto.open({ signature: MsgSignature, timestamp: TimeStamp, nonce: Nonce, encrypted: Encrypt })
    if (Either.isLeft(opened)) return { kind: "encrypted", verified: false, error: opened.left.message }
    return { kind: "encrypted", verified: true, xml: opened.right, fields: fieldsOf(opened.right) }
  }

  /**
   * Pushes a message of `authorizerAppId` to the component's message URL and
   * reads the answer; `{ error }` when it cannot be pushed at all.
   */
  const deliver = async (
    componentAppId: string,
    authorizerAppId: string,
    fields: Fields
  ): Promise<Delivery | { readonly refused: string; readonly status: 400 | 404 }> => {
    const c = state.component(componentAppId)
    if (c === undefined) return { refused: "unknown component", status: 404 }
    const account = state.authorizer(authorizerAppId)
    if (account === undefined) return { refused: "unknown authorizer", status: 400 }
    if (!state.isAuthorized(componentAppId, authorizerAppId)) {
      return { refused: `${authorizerAppId} has not authorized ${componentAppId}: WeChat pushes only authorized accounts' messages`, status: 400 }
    }
    if (c.messageUrl === undefined) {
      return { refused: "the component has no messageUrl: set it in the configuration or with PUT /__admin/components/:appId/message-url", status: 400 }
    }
    const url = messageUrlFor(c.messageUrl, authorizerAppId)
    const now = clock.now()
    const message: Fields = {
      ToUserName: account.userName,
      FromUserName: defaultOpenid(authorizerAppId),
      CreateTime: Math.floor(now / 1000),
      ...fields,
      ...(fields.MsgType !== "event" && fields.MsgId === undefined
        ? { MsgId: Number(BigInt.asUintN(52, Crypto.randomBytes(8).readBigUInt64BE())) }
        : {})
    }
    const started = Date.now()
    // Checked at every push, whatever set the URL: a push never leaves for a host the configuration does not name.
    const refused = Guard.pushRefusal(url, config.pushHosts)
    if (refused !== undefined) return { url, message, error: refused, elapsedMs: 0 }
    const crypto = cryptoOf(c)
    const timestamp = String(Math.floor(now / 1000))
    const nonce = String(Crypto.randomInt(1_000_000_000))
    const encrypted = crypto.encrypt(toXml(message))
    const query = new URLSearchParams({
      signature: Crypto.createHash("sha1").update([c.token, timestamp, nonce].sort().join("")).digest("hex"),
      timestamp,
      nonce,
      openid: String(message.FromUserName),
      encrypt_type: "aes",
      msg_signature: crypto.sign(timestamp, nonce, encrypted)
    })
    const controller = new AbortController()
    inFlight.add(controller)
    try {
      const response = await fetch(Guard.withQuery(url, query), {
        method: "POST",
        // A redirect is an answer, not a new destination.
        redirect: "manual",
        body: `<xml><ToUserName><![CDATA[${account.userName}]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
        headers: { "content-type": "text/xml" },
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(budgetMs)])
      })
      const { text: body, truncated } = await Guard.readAtMost(response, keptBodyBytes)
      const elapsedMs = Date.now() - started
      return {
        url,
        message,
        status: response.status,
        body,
        ...(truncated ? { bodyTruncated: true as const } : {}),
        elapsedMs,
        ...(response.status === 200
          ? {
            reply: truncated
              ? { kind: "other" as const, error: `the answer is longer than ${keptBodyBytes / 1024} KiB: the mock read no further` }
              : readReply(crypto, body)
          }
          : {})
      }
    } catch (cause) {
      const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError")
      return {
        url,
        message,
        error: timedOut ? `no answer within WeChat's ${budgetMs / 1000} seconds` : cause instanceof Error ? cause.message : String(cause),
        elapsedMs: Date.now() - started
      }
    } finally {
      inFlight.delete(controller)
    }
  }

  return {
    deliver,
    /** Ends the pushes under way. */
    close: (): void => {
      for (const controller of inFlight) controller.abort()
    }
  }
}

/** @internal */
export type AccountMessages = ReturnType<typeof make>
