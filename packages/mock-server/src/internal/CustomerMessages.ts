/**
 * The customer-service messages accounts send through the mock
 * (`POST /cgi-bin/message/custom/send`): checked as WeChat checks the body,
 * and kept, the newest {@link kept}, for the admin API and the release check.
 *
 * @internal
 */
import { type Answer, error } from "./WeChatState.js"

/** One message sent, as the admin API shows it. */
export interface CustomerMessage {
  readonly id: number
  /** Mock time, ISO 8601. */
  readonly time: string
  readonly componentAppId: string
  readonly authorizerAppId: string
  readonly touser: string
  readonly msgtype: string
  /** The request's body as sent, every authorization code the mock issues in it replaced by `***`. */
  readonly body: Readonly<Record<string, unknown>>
}

/** A message kept, with its text as sent (codes unmasked), for the release check only: never shown. */
export interface Kept {
  readonly message: CustomerMessage
  /** `text.content` as sent, for a text message. */
  readonly text: string | undefined
}

// An authorization code as the mock issues it (WeChatState: the prefix, then 86 base64url characters). Exactly 86:
// `_` is one of them, and the release check's `<code>_from_api` must keep its `_from_api`.
const authCode = /queryauthcode@@@[A-Za-z0-9_-]{86}/g

/**
 * A copy of `value` with every authorization code the mock issues, in any
 * string inside it, replaced by `***`: `<code>_from_api` shows as `***_from_api`.
 */
export const maskAuthCodes = (value: unknown): unknown => {
  if (typeof value === "string") return value.replace(authCode, "***")
  if (Array.isArray(value)) return value.map(maskAuthCodes)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskAuthCodes(inner)]))
}

/** How many messages are kept; the oldest goes past it. */
export const kept = 500

/** The message types WeChat's customer-service API takes. */
const msgtypes = new Set([
  "text",
  "image",
  "voice",
  "video",
  "music",
  "news",
  "mpnews",
  "mpnewsarticle",
  "msgmenu",
  "wxcard",
  "miniprogrampage",
  "link"
])

/** The customer-service messages of one mock. */
export const make = (clock: { readonly now: () => number }) => {
  let messages: Array<Kept> = []
  let next = 1
  return {
    /** Checks a body as WeChat does and keeps it: `{errcode: 0, errmsg: "ok"}`, or WeChat's error. */
    send: (componentAppId: string, authorizerAppId: string, json: unknown): Answer => {
      if (typeof json !== "object" || json === null || Array.isArray(json)) return error(47001)
      const body = json as Record<string, unknown>
      if (typeof body.touser !== "string" || body.touser === "") return error(40003)
      if (typeof body.msgtype !== "string" || !msgtypes.has(body.msgtype)) return error(40008)
      const content = body[body.msgtype]
      if (typeof content !== "object" || content === null) return error(47001)
      if (body.msgtype === "text") {
        const text = (content as { content?: unknown }).content
        if (typeof text !== "string") return error(47001)
        if (text === "") return error(44004)
      }
      const text = body.msgtype === "text" ? (content as { content: string }).content : undefined
      messages.push({
        message: {
          id: next++,
          time: new Date(clock.now()).toISOString(),
          componentAppId,
          authorizerAppId,
          touser: body.touser,
          msgtype: body.msgtype,
          body: maskAuthCodes(body) as Record<string, unknown>
        },
        text
      })
      if (messages.length > kept) messages = messages.slice(-kept)
      return { errcode: 0, errmsg: "ok" }
    },
    /** The messages kept, oldest first; only one account's when given. */
    list: (authorizerAppId?: string): ReadonlyArray<CustomerMessage> =>
      messages.map((m) => m.message).filter((m) => authorizerAppId === undefined || m.authorizerAppId === authorizerAppId),
    /** The messages with an id above `id`, with their texts as sent: for the release check, never shown. */
    since: (id: number): ReadonlyArray<Kept> => messages.filter((m) => m.message.id > id),
    /** The id the next message gets. */
    get nextId(): number {
      return next
    },
    reset: (): void => {
      messages = []
    }
  }
}

/** @internal */
export type CustomerMessages = ReturnType<typeof make>
