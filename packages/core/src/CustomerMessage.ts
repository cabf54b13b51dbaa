/**
 * Customer-service messages (`POST /cgi-bin/message/custom/send`): an account
 * writes to one of its users outside a passive reply, within 48 hours of the
 * user's last message. The call goes as the account, through
 * `AuthorizerClient` (its token attached, a refused token replaced once).
 *
 * @example
 * ```ts
 * import { CustomerMessage } from "@wxopen/core"
 *
 * // to the user whose message arrived (its FromUserName), as the account it was sent to
 * const thanks = (authorizerAppId: string, openId: string) =>
 *   CustomerMessage.sendText(authorizerAppId, openId, "thank you, we will answer shortly")
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import * as AuthorizerClient from "./AuthorizerClient.js"
import type { AuthorizerToken, AuthorizerTokenError } from "./AuthorizerToken.js"
import { endpoint, type WeChatClient } from "./WeChatClient.js"
import type { InvalidRequestError } from "./WeChatError.js"

const Send = endpoint({ path: "/cgi-bin/message/custom/send", token: "access_token", response: Schema.Struct({}) })

/**
 * Sends a text to the user `openId` as the account `authorizerAppId`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sendText = Effect.fn("CustomerMessage.sendText")(function*(
  authorizerAppId: string,
  openId: string,
  content: string
): Effect.fn.Return<void, AuthorizerTokenError | InvalidRequestError, WeChatClient | AuthorizerToken> {
  const account = yield* AuthorizerClient.make(authorizerAppId)
  yield* account.execute(Send, { body: { touser: openId, msgtype: "text", text: { content } } })
})
