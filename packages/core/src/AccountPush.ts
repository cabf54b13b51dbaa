/**
 * The receiver of what WeChat forwards to the platform's
 * "消息与事件接收URL" for the accounts that authorized the component: their
 * users' messages and the accounts' events. WeChat replaces `$APPID$` in the
 * URL with the account's appid, so the appid comes from the path; the body
 * is signed and encrypted with the component's message token and
 * EncodingAESKey, as the component's own pushes are (`ComponentPush`), and is
 * checked in the same order: the query's parameters, the body's size, the
 * envelope's one `Encrypt` (found by a scan, not parsed), its
 * `msg_signature`, the decryption (meant for the component's appid), and only
 * then the message's XML ({@link AccountMessage.fromXml}).
 *
 * Your handler answers with a {@link PassiveReply.PassiveReply} or nothing:
 * wxopen renders the reply, encrypts and signs it, and answers it in the
 * response, or answers an empty body, WeChat's "no reply" (its release check
 * requires it; `success` would do elsewhere). WeChat waits 5 seconds: the handler runs
 * under `handlerBudget` (4 s by default, from `Clock`); past it WeChat is
 * answered the empty body, the handler goes on in the background (so what it has
 * started is not cut off) and its late reply is dropped, with a warning in the
 * log. A handler that fails, or a reply WeChat would refuse, is logged and
 * answered the empty body too: WeChat only learns that the message arrived.
 *
 * WeChat resends a message it got no answer to, up to three times, and the
 * receiver keeps no memory of deliveries: a handler with effects is
 * idempotent, keyed by `msgId` (messages) or `fromUserName` and `createTime`
 * (events).
 *
 * The handler runs in the receiver's scope (`Scope` in its context): work it
 * forks with `Effect.forkScoped` outlives the request and ends with the
 * receiver's layer. That is how a customer-service message is sent after the
 * answer (see `ReleaseCheck`).
 *
 * @example
 * ```ts
 * import * as HttpRouter from "@effect/platform/HttpRouter"
 * import { Effect } from "effect"
 * import { AccountPush, PassiveReply } from "@wxopen/core"
 *
 * // "消息与事件接收URL": https://example.com/wechat/accounts/$APPID$/messages
 * const router = HttpRouter.empty.pipe(HttpRouter.post("/wechat/accounts/:appid/messages", AccountPush.httpApp))
 *
 * const Receiver = AccountPush.layer({
 *   onMessage: (message) =>
 *     Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text(`you said: ${message.content}`) : undefined)
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import {
  Clock,
  ConfigError,
  Context,
  DateTime,
  Duration,
  Effect,
  Either,
  Fiber,
  Layer,
  Option,
  Random,
  Schema,
  Scope
} from "effect"
import { type AccountMessage, type AccountMessageError, fromXml } from "./AccountMessage.js"
import { describeInvalid, isAppId } from "./AppId.js"
import { maxHandlerBudget, statusOf as pushStatusOf } from "./ComponentPush.js"
import { componentCrypto, type Delivery as RawDelivery, openDelivery, readBody } from "./internal/delivery.js"
import { maxLength } from "./internal/xml.js"
import type * as MessageCrypto from "./MessageCrypto.js"
import { type PassiveReply, toXml } from "./PassiveReply.js"
import { WeChatClient } from "./WeChatClient.js"

/**
 * One delivery from WeChat, as any HTTP framework sees it: the query's
 * parameters and the raw body.
 *
 * @since 0.1.0
 * @category models
 */
export type Delivery = RawDelivery

/**
 * A delivery that is not an account's message: parameters missing, a path
 * without a valid appid, or a body that is not WeChat's envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccountPushError extends Schema.TaggedError<AccountPushError>()("AccountPushError", {
  reason: Schema.Literal("MissingParameter", "InvalidAppId", "MalformedEnvelope"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `not a WeChat message (${this.detail}): mount the receiver on the message URL, with $APPID$ in its path, ` +
      "and give it the query string and raw body"
  }
}

/**
 * Why a delivery was refused.
 *
 * @since 0.1.0
 * @category errors
 */
export type ReceiveError = AccountPushError | MessageCrypto.MessageCryptoError | AccountMessageError

/**
 * The HTTP status for a refused delivery: 403 for one that is not from WeChat
 * or not for this component, 400 for one that cannot be read.
 *
 * @since 0.1.0
 * @category errors
 */
export const statusOf = (error: ReceiveError): number =>
  error._tag === "MessageCryptoError" ? pushStatusOf(error) : 400

/**
 * What a delivery was answered: the message, the reply (if the handler gave
 * one in time) and the response's body: empty, or the encrypted reply.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly authorizerAppId: string
  readonly message: AccountMessage
  readonly reply: PassiveReply | undefined
  readonly body: string
}

/**
 * The receiver of one component's accounts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Checks (the appid, the query's parameters, the envelope's one `Encrypt`,
   * its signature), decrypts and only then reads a message, runs the handler
   * under its budget, and answers.
   */
  readonly receive: (authorizerAppId: string, delivery: Delivery) => Effect.Effect<Answer, ReceiveError>
}

/**
 * The receiver as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class AccountPush extends Context.Tag("@wxopen/core/AccountPush")<AccountPush, Service>() {}

/**
 * What the platform does with its accounts' messages.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<R> {
  /**
   * Answers a message of the account `authorizerAppId`: a passive reply, or
   * nothing (`undefined`) for an empty answer. Runs in the receiver's scope.
   */
  readonly onMessage?: (
    message: AccountMessage,
    authorizerAppId: string
  ) => Effect.Effect<PassiveReply | undefined | void, unknown, R | Scope.Scope>
  /** How long the handler has before WeChat is answered with an empty body; default and at most 4 s. */
  readonly handlerBudget?: Duration.DurationInput
}

/**
 * Builds the receiver; needs the message token and EncodingAESKey in the
 * component's configuration. Handlers left running past their budget, and
 * what handlers fork, live in the given scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(
  options: Options<R> = {}
): Effect.Effect<Service, ConfigError.ConfigError, WeChatClient | Scope.Scope | Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    const { config } = yield* WeChatClient
    const scope = yield* Effect.scope
    const context = yield* Effect.context<Exclude<R, Scope.Scope>>()
    const budget = Duration.decode(options.handlerBudget ?? maxHandlerBudget)
    if (Duration.greaterThan(budget, maxHandlerBudget)) {
      return yield* Effect.fail(
        ConfigError.InvalidData(["handlerBudget"], `at most ${Duration.format(maxHandlerBudget)}: WeChat waits 5 seconds for its answer`)
      )
    }
    const crypto = yield* componentCrypto(config)

    // The handler's reply, or undefined: nothing, a failure, an overrun (the handler goes on, its reply dropped).
    const handle = (message: AccountMessage, authorizerAppId: string): Effect.Effect<PassiveReply | undefined> => {
      if (options.onMessage === undefined) return Effect.succeed(undefined)
      const what = `the handler of a ${kindOf(message)} message to ${authorizerAppId}`
      const run = options.onMessage(message, authorizerAppId).pipe(
        Effect.map((reply) => reply ?? undefined),
        Effect.catchAllCause((cause) => Effect.as(Effect.logWarning(`${what} failed; WeChat was answered with an empty body`, cause), undefined)),
        Effect.provide(context),
        Effect.provideService(Scope.Scope, scope)
      ) as Effect.Effect<PassiveReply | undefined>
      return Effect.flatMap(Effect.forkIn(run, scope), (fiber) =>
        Fiber.join(fiber).pipe(
          Effect.timeout(budget),
          Effect.catchTag("TimeoutException", () =>
            Effect.as(
              Effect.logWarning(
                `${what} is still running after ${Duration.format(budget)}; WeChat was answered with an empty body, ` +
                  "the handler goes on and its reply will be dropped"
              ),
              undefined
            ))
        ))
    }

    // The reply encrypted for WeChat, signed, in its envelope; a reply WeChat would refuse is logged and not sent.
    const seal = (reply: PassiveReply, message: AccountMessage) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const xml = toXml(reply, {
          toUserName: message.fromUserName,
          fromUserName: message.toUserName,
          createTime: DateTime.unsafeMake(now)
        })
        if (Either.isLeft(xml)) {
          yield* Effect.logWarning(xml.left.message)
          return Option.none<string>()
        }
        const timestamp = String(Math.floor(now / 1000))
        const nonce = String(yield* Random.nextIntBetween(100_000_000, 1_000_000_000))
        const encrypted = crypto.encrypt(xml.right)
        const signature = crypto.sign(timestamp, nonce, encrypted)
        return Option.some(
          `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature>` +
            `<TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`
        )
      })

    const receive = (authorizerAppId: string, delivery: Delivery) =>
      Effect.gen(function*() {
        if (!isAppId(authorizerAppId)) {
          return yield* new AccountPushError({ reason: "InvalidAppId", detail: describeInvalid(authorizerAppId) })
        }
        const plaintext = yield* openDelivery(crypto, delivery, (reason, detail) => new AccountPushError({ reason, detail }))
        const message = yield* fromXml(plaintext)
        yield* Effect.annotateCurrentSpan("wechat.msg_type", kindOf(message))
        const reply = yield* handle(message, authorizerAppId)
        const sealed = reply === undefined ? Option.none<string>() : yield* seal(reply, message)
        return {
          authorizerAppId,
          message,
          reply: Option.isSome(sealed) ? reply : undefined,
          body: Option.getOrElse(sealed, () => "")
        }
      }).pipe(
        Effect.tapError((error) =>
          Effect.logWarning("refused a delivery to the accounts' message URL").pipe(
            Effect.annotateLogs({ reason: error.reason, error: error.message })
          )
        ),
        Effect.withSpan("AccountPush.receive", {
          attributes: {
            "wechat.component_appid": config.appId,
            ...(isAppId(authorizerAppId) ? { "wechat.authorizer_appid": authorizerAppId } : {})
          }
        })
      )

    return { receive }
  })

// `text`, `image`, …, or `event:CLICK`: what a log line may say of a message, never its content.
const kindOf = (message: AccountMessage): string =>
  message.msgType === "event" && "event" in message ? `event:${message.event}` : message.msgType

/**
 * The receiver as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  options: Options<R> = {}
): Layer.Layer<AccountPush, ConfigError.ConfigError, WeChatClient | Exclude<R, Scope.Scope>> =>
  Layer.scoped(AccountPush, make(options))

/**
 * Receives one delivery for the account `authorizerAppId` (the `$APPID$` of
 * the URL) with the receiver in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const receive = (authorizerAppId: string, delivery: Delivery): Effect.Effect<Answer, ReceiveError, AccountPush> =>
  Effect.flatMap(AccountPush, (push) => push.receive(authorizerAppId, delivery))

/**
 * The path parameter {@link httpApp} reads the account's appid from:
 * `/…/:appid/…`.
 *
 * @since 0.1.0
 * @category constants
 */
export const pathParameter = "appid"

/**
 * The receiver as an `@effect/platform` HTTP app, for a `POST` route with
 * the account's appid as the path parameter `:appid`: answers the encrypted
 * reply (`application/xml`) or an empty body, or the refusal's message with
 * {@link statusOf}'s status; a body over 64 KiB, 413, unread when its length
 * is declared.
 *
 * @since 0.1.0
 * @category http
 */
export const httpApp: HttpApp.Default<
  never,
  AccountPush | HttpServerRequest.HttpServerRequest | HttpRouter.RouteContext
> = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const appId = (yield* HttpRouter.params)[pathParameter] ?? ""
  const body = yield* Effect.either(readBody(request))
  if (Either.isLeft(body)) return HttpServerResponse.text("the body could not be read", { status: 400 })
  if (Option.isNone(body.right)) {
    return HttpServerResponse.text(`the body is larger than ${maxLength} bytes, which no WeChat message is`, { status: 413 })
  }
  const query = new URL(request.url, "http://receiver.invalid").searchParams
  return yield* receive(appId, { query, body: body.right.value }).pipe(
    Effect.map((answer) =>
      answer.reply === undefined
        ? HttpServerResponse.text(answer.body)
        : HttpServerResponse.text(answer.body, { contentType: "application/xml" })
    ),
    Effect.catchAll((error) => Effect.succeed(HttpServerResponse.text(error.message, { status: statusOf(error) })))
  )
})
