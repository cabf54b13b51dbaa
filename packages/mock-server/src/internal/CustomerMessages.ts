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
  /** The request's body as sent. */
  readonly body: Readonly<Record<string, unknown>>
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
  let messages: Array<CustomerMessage> = []
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
      messages.push({
        id: next++,
        time: new Date(clock.now()).toISOString(),
        componentAppId,
        authorizerAppId,
        touser: body.touser,
        msgtype: body.msgtype,
        body
      })
      if (messages.length > kept) messages = messages.slice(-kept)
      return { errcode: 0, errmsg: "ok" }
    },
    /** The messages kept, oldest first; only one account's when given. */
    list: (authorizerAppId?: string): ReadonlyArray<CustomerMessage> =>
      authorizerAppId === undefined ? messages : messages.filter((m) => m.authorizerAppId === authorizerAppId),
    /** The messages with an id above `id`. */
    since: (id: number): ReadonlyArray<CustomerMessage> => messages.filter((m) => m.id > id),
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
