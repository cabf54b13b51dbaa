/**
 * WeChat's release check (全网发布接入检测): before a platform may serve
 * every account, WeChat's test accounts send it messages through the
 * accounts' message URL and expect exact answers:
 *
 * - the text `TESTCOMPONENT_MSG_TYPE_TEXT`: the passive reply
 *   `TESTCOMPONENT_MSG_TYPE_TEXT_callback`;
 * - the text `QUERY_AUTH_CODE:<code>`: an empty answer at once, then the code
 *   exchanged (`api_query_auth`, `Authorization.exchange`, which stores the
 *   test account's tokens; when the code was exchanged already, by
 *   `ComponentPush` on the test account's `authorized` push, the stored
 *   tokens serve) and the customer-service message
 *   `<code>_from_api` sent to the user as the test account
 *   (`CustomerMessage.sendText`);
 * - an event: the passive reply `<Event>from_callback` (`subscribefrom_callback`).
 *
 * {@link handler} wraps your `AccountPush` handler: it answers these for the
 * test accounts ({@link testAccounts}) and hands everything else, and every
 * other account's messages, to yours. The exchange and the customer-service
 * message run after the answer, in the receiver's scope; their failure is
 * logged as an error (without the code).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AccountPush, PassiveReply, ReleaseCheck } from "@wxopen/core"
 *
 * const Receiver = AccountPush.layer({
 *   onMessage: ReleaseCheck.handler((message) =>
 *     Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text("hello") : undefined)
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import type { AccountMessage } from "./AccountMessage.js"
import * as Authorization from "./Authorization.js"
import type { AuthorizerToken } from "./AuthorizerToken.js"
import type { ComponentToken } from "./ComponentToken.js"
import * as CustomerMessage from "./CustomerMessage.js"
import * as PassiveReply from "./PassiveReply.js"
import type { TokenStore } from "./TokenStore.js"
import type { WeChatClient } from "./WeChatClient.js"

/**
 * The appids of WeChat's release-check test accounts: the Official Account
 * and the Mini Program of each of the five groups WeChat documents (it picks
 * one group at random for each check).
 *
 * @since 0.1.0
 * @category constants
 */
export const testAccounts: ReadonlyArray<string> = [
  "wx570bc396a51b8ff8",
  "wxd101a85aa106f53e",
  "wx9252c5e0bb1836fc",
  "wxc39235c15087f6f3",
  "wx8e1097c5bc82cde9",
  "wx7720d01d4b2a4500",
  "wx14550af28c71a144",
  "wx05d483572dcd5d8b",
  "wxa35b9c23cfe664eb",
  "wx5910277cae6fd970"
]

/**
 * Whether an appid is one of WeChat's release-check test accounts.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTestAccount = (authorizerAppId: string): boolean => testAccounts.includes(authorizerAppId)

/**
 * The text the check sends for a passive reply, and the reply it expects.
 *
 * @since 0.1.0
 * @category constants
 */
export const textCase = { content: "TESTCOMPONENT_MSG_TYPE_TEXT", reply: "TESTCOMPONENT_MSG_TYPE_TEXT_callback" } as const

/**
 * The prefix of the text that carries an authorization code.
 *
 * @since 0.1.0
 * @category constants
 */
export const queryAuthCodePrefix = "QUERY_AUTH_CODE:"

/**
 * An `AccountPush` handler.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler<R> = (
  message: AccountMessage,
  authorizerAppId: string
) => Effect.Effect<PassiveReply.PassiveReply | undefined | void, unknown, R>

/**
 * What the release check's background step needs: the component's client,
 * token and store to exchange the code, the account's token to send the
 * customer-service message.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = WeChatClient | ComponentToken | TokenStore | AuthorizerToken

/**
 * The code exchanged, then `<code>_from_api` sent to `openId` as the account;
 * a failure is logged as an error, never silently lost.
 *
 * @since 0.1.0
 * @category constructors
 */
export const answerAuthCode = (
  authorizerAppId: string,
  openId: string,
  code: string
): Effect.Effect<void, never, Requirements> =>
  Effect.gen(function*() {
    // The test account's authorization may have been pushed with this very code, and exchanged by
    // ComponentPush already: its tokens are stored then, and the message is sent with them.
    const account = yield* Authorization.exchange(code).pipe(
      Effect.map((authorization) => authorization.authorizerAppId),
      Effect.catchTag("AuthorizationCodeError", (error) =>
        Effect.as(
          Effect.logInfo(`release check: the code was not exchanged here (${error.reason}); sending with ${authorizerAppId}'s stored token`),
          authorizerAppId
        ))
    )
    yield* CustomerMessage.sendText(account, openId, `${code}_from_api`)
    yield* Effect.logInfo(`release check: sent the customer-service message as ${account}`)
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.logError(
        `release check: the QUERY_AUTH_CODE case of ${authorizerAppId} failed (the code was not exchanged, or the ` +
          "customer-service message not sent); WeChat's check will fail this case",
        cause
      )
    ),
    Effect.withSpan("ReleaseCheck.answerAuthCode", { attributes: { "wechat.authorizer_appid": authorizerAppId } })
  )

/**
 * Wraps an `AccountPush` handler (none: answer nothing) with the release
 * check's answers, for the test accounts only; everything else goes to
 * `next`. Mount it as it is: `AccountPush.layer({ onMessage: ReleaseCheck.handler(yours) })`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const handler = <R = never>(next?: Handler<R>) =>
(
  message: AccountMessage,
  authorizerAppId: string
): Effect.Effect<PassiveReply.PassiveReply | undefined | void, unknown, R | Requirements | Scope.Scope> => {
  const pass = () => next === undefined ? Effect.succeed(undefined) : next(message, authorizerAppId)
  if (!isTestAccount(authorizerAppId)) return pass()
  if (message.msgType === "event" && "event" in message && message.event !== undefined) {
    return Effect.succeed(PassiveReply.text(`${message.event}from_callback`))
  }
  if (message._tag !== "TextMessage") return pass()
  if (message.content === textCase.content) return Effect.succeed(PassiveReply.text(textCase.reply))
  if (message.content.startsWith(queryAuthCodePrefix)) {
    const code = message.content.slice(queryAuthCodePrefix.length)
    // The answer is empty at once; the exchange and the message follow, outliving the request.
    return Effect.as(Effect.forkScoped(answerAuthCode(authorizerAppId, message.fromUserName, code)), undefined)
  }
  return pass()
}
