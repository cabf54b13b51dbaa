/**
 * The receiver of WeChat's pushes to the component's event URL
 * ("授权事件接收URL"): it checks the signature, decrypts, reads the event,
 * stores a verify ticket in the {@link TokenStore.TokenStore | TokenStore},
 * exchanges the authorization code of an `authorized` push (the account's
 * tokens are stored), forgets the tokens of an account that revoked, and
 * hands every event but tickets to your handler.
 *
 * Mount it in any HTTP framework with {@link receive} (given the query
 * parameters and the raw body), or serve {@link httpApp} with
 * `@effect/platform`. WeChat wants the plain text `success` within 5 seconds:
 * {@link httpApp} answers once a ticket is stored (within {@link storeTimeout}),
 * or once wxopen's handling of the event and then your handler have finished or
 * `handlerBudget` has run out (what is still running goes on in the
 * background). A forged or unreadable push changes nothing and gets a 4xx (a
 * body over {@link maxBodySize}, 413); one that could not be handled now gets
 * a 503, and WeChat pushes it again. Nothing is parsed before the signature
 * holds: the envelope's one `Encrypt` is found by a scan of the raw body, its
 * `msg_signature` checked, then it is decrypted, and only the decrypted event
 * is read as XML.
 *
 * When pushes stop (a platform that was offline, a ticket expired),
 * {@link startPushTicket} asks WeChat to start them again.
 *
 * @example
 * ```ts
 * import * as HttpRouter from "@effect/platform/HttpRouter"
 * import { Effect, Layer } from "effect"
 * import { ComponentPush } from "@wxopen/core"
 *
 * const router = HttpRouter.empty.pipe(HttpRouter.post("/wechat/component/events", ComponentPush.httpApp))
 *
 * const Receiver = ComponentPush.layer({
 *   onEvent: (event) => Effect.log(`push: ${event.infoType}`)
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
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
  Redacted,
  Schema,
  type Scope
} from "effect"
import * as Authorization from "./Authorization.js"
import type { ComponentToken, ComponentTokenError } from "./ComponentToken.js"
import { componentCrypto, type Delivery as RawDelivery, openDelivery, readBody } from "./internal/delivery.js"
import { maxLength } from "./internal/xml.js"
import * as MessageCrypto from "./MessageCrypto.js"
import { fromXml, type PushEvent, type PushEventError } from "./PushEvent.js"
import { TokenStore, TokenStoreError } from "./TokenStore.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"
import type { WeChatError } from "./WeChatError.js"

/**
 * One delivery from WeChat, as any HTTP framework sees it: the query's
 * parameters and the raw body.
 *
 * @since 0.1.0
 * @category models
 */
export type Delivery = RawDelivery

/**
 * A delivery that is not a push: parameters missing, or a body that is not
 * WeChat's envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class ComponentPushError extends Schema.TaggedError<ComponentPushError>()("ComponentPushError", {
  reason: Schema.Literal("MissingParameter", "MalformedEnvelope"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `not a WeChat push (${this.detail}): mount the receiver on the component's event URL, with its query string and raw body`
  }
}

/**
 * wxopen's own handling of an event (exchanging the authorization code of an
 * `authorized` push, forgetting an account that revoked) did not finish within
 * the handler budget. The push is refused with 503, and WeChat pushes it again;
 * the handling goes on in the background, so that an exchange WeChat answers
 * still stores the account's tokens.
 *
 * @since 0.1.0
 * @category errors
 */
export class HandlerTimeoutError extends Schema.TaggedError<HandlerTimeoutError>()("HandlerTimeoutError", {
  infoType: Schema.String,
  seconds: Schema.Number
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `handling the ${this.infoType} push took longer than the handler budget (${this.seconds} s), ` +
      "so it was refused with 503 and WeChat will push it again; if this recurs, check that the token store answers " +
      "quickly and that WeChat can be reached"
  }
}

/**
 * Why a delivery was refused.
 *
 * @since 0.1.0
 * @category errors
 */
export type ReceiveError =
  | ComponentPushError
  | MessageCrypto.MessageCryptoError
  | PushEventError
  | TokenStoreError
  | ComponentTokenError
  | HandlerTimeoutError

/**
 * The HTTP status for a refused delivery: 403 for a push that is not from
 * WeChat or not for this component, 400 for one that cannot be read, 503 when
 * it could not be handled (the ticket not stored, the authorization code not
 * exchanged): WeChat pushes it again.
 *
 * @since 0.1.0
 * @category errors
 */
export const statusOf = (error: ReceiveError): number => {
  switch (error._tag) {
    case "MessageCryptoError":
      return error.reason === "BadSignature" || error.reason === "WrongAppId" ? 403 : 400
    case "ComponentPushError":
    case "PushEventError":
      return 400
    default:
      return 503
  }
}

/**
 * The receiver of one component.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Checks (the query's parameters, the envelope's one `Encrypt`, its
   * signature), decrypts and only then reads a delivery, stores a ticket or
   * runs the handler, and answers the event.
   */
  readonly receive: (delivery: Delivery) => Effect.Effect<PushEvent, ReceiveError>
}

/**
 * The receiver as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class ComponentPush extends Context.Tag("@wxopen/core/ComponentPush")<ComponentPush, Service>() {}

/**
 * What to do with the events that are not verify tickets.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<R> {
  /**
   * Runs for every event but verify tickets, after wxopen's own handling. Its
   * failures are logged, not answered: WeChat only needs to know the push
   * arrived.
   */
  readonly onEvent?: (event: PushEvent) => Effect.Effect<void, unknown, R>
  /**
   * Whether an `authorized` or `updateauthorized` push has its authorization
   * code exchanged (`Authorization.exchange`), so that the account's tokens
   * are stored. Default `true`. The code is single use: set `false` if your
   * redirect handler exchanges it instead.
   */
  readonly exchangeOnAuthorized?: boolean
  /**
   * How long {@link Service.receive} spends on an event before it answers (the
   * exchange of an authorization code, then `onEvent`); default 3 s, at most 4 s.
   */
  readonly handlerBudget?: Duration.DurationInput
}

/**
 * The longest `handlerBudget` allowed, leaving room within WeChat's 5 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxHandlerBudget: Duration.Duration = Duration.seconds(4)

/**
 * How long storing a ticket may take before the push is refused with 503.
 *
 * @since 0.1.0
 * @category constants
 */
export const storeTimeout: Duration.Duration = Duration.seconds(1)

/**
 * Builds the receiver; needs the message token and EncodingAESKey in the
 * component's configuration. Handlers left running past their budget live in
 * the given scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(
  options: Options<R> = {}
): Effect.Effect<
  Service,
  ConfigError.ConfigError,
  WeChatClient | TokenStore | ComponentToken | Scope.Scope | R
> =>
  Effect.gen(function*() {
    const { config } = yield* WeChatClient
    const store = yield* TokenStore
    const scope = yield* Effect.scope
    const context = yield* Effect.context<R | WeChatClient | TokenStore | ComponentToken>()
    const exchange = options.exchangeOnAuthorized ?? true
    const budget = Duration.decode(options.handlerBudget ?? Duration.seconds(3))
    if (Duration.greaterThan(budget, maxHandlerBudget)) {
      return yield* Effect.fail(
        ConfigError.InvalidData(["handlerBudget"], `at most ${Duration.format(maxHandlerBudget)}: WeChat waits 5 seconds for its answer`)
      )
    }
    const crypto = yield* componentCrypto(config)

    const open = (delivery: Delivery) =>
      openDelivery(crypto, delivery, (reason, detail) => new ComponentPushError({ reason, detail }))

    // A creation time ahead of our clock counts as now: a ticket dated in the future would otherwise
    // outrank every later push, and never grow old.
    const storeTicket = (ticket: Redacted.Redacted<string>, createTime: DateTime.Utc) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        store.setTicket(config.appId, {
          value: ticket,
          createdAt: Math.min(DateTime.toEpochMillis(createTime), now),
          receivedAt: now
        })).pipe(
          Effect.timeoutFail({
            duration: storeTimeout,
            onTimeout: () =>
              new TokenStoreError({
                operation: "store the verify ticket",
                detail: `no answer within ${Duration.format(storeTimeout)}`
              })
          }),
          Effect.tap((stored) =>
            Effect.logDebug(stored ? "stored a new component_verify_ticket" : "kept the newer component_verify_ticket")
          )
        )

    // wxopen's own part: store the account's tokens when it authorizes, forget them when it revokes. A failure that
    // leaves WeChat's push worth sending again refuses the push (WeChat pushes it again); a code that can never be
    // exchanged (used, expired, wrong) is only logged.
    const builtIn = (event: PushEvent): Effect.Effect<void, ComponentTokenError, WeChatClient | TokenStore | ComponentToken> => {
      switch (event._tag) {
        case "AuthorizedEvent":
        case "UpdateAuthorizedEvent":
          return exchange
            ? Authorization.exchange(event.authorizationCode).pipe(
              Effect.asVoid,
              Effect.catchTag("AuthorizationCodeError", (error) =>
                Effect.logWarning(`the authorization code of a ${event.infoType} push cannot be exchanged: ${error.message}`))
            )
            : Effect.void
        case "UnauthorizedEvent":
          // CreateTime has second precision: an authorization within the same second counts as revoked.
          return Effect.asVoid(
            store.deleteAuthorizer(config.appId, event.authorizerAppId, DateTime.toEpochMillis(event.createTime) + 999)
          )
        default:
          return Effect.void
      }
    }

    // The user's handler, with what is left of the budget; past it, the handler goes on in the background.
    const handle = (event: PushEvent, left: Duration.Duration): Effect.Effect<void> => {
      if (options.onEvent === undefined) return Effect.void
      const run = options.onEvent(event).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning(`the handler of a ${event.infoType} push failed`, cause)),
        Effect.provide(context)
      )
      return Effect.flatMap(Effect.forkIn(run, scope), (fiber) =>
        Fiber.join(fiber).pipe(
          Effect.timeout(left),
          Effect.catchTag("TimeoutException", () =>
            Effect.logWarning(
              `the handler of a ${event.infoType} push is still running after ${
                Duration.format(budget)
              }; WeChat was answered, and the handler goes on`
            ))
        ))
    }

    const respond = (event: PushEvent) =>
      Effect.gen(function*() {
        const started = yield* Clock.currentTimeMillis
        // Past the budget the push is refused, but wxopen's part goes on in the background: an exchange WeChat may
        // already have answered must still store the account's tokens, as its code cannot be exchanged again.
        const own = yield* Effect.forkIn(Effect.provide(builtIn(event), context), scope)
        yield* Fiber.join(own).pipe(
          Effect.timeoutFail({
            duration: budget,
            onTimeout: () => new HandlerTimeoutError({ infoType: event.infoType, seconds: Duration.toSeconds(budget) })
          }),
          Effect.tapErrorTag("HandlerTimeoutError", () =>
            Effect.forkIn(
              Effect.catchAllCause(
                Fiber.join(own),
                (cause) => Effect.logWarning(`wxopen's handling of a ${event.infoType} push failed after its budget`, cause)
              ),
              scope
            ))
        )
        const elapsed = (yield* Clock.currentTimeMillis) - started
        yield* handle(event, Duration.millis(Math.max(0, Duration.toMillis(budget) - elapsed)))
      })

    const receive = (delivery: Delivery) =>
      Effect.gen(function*() {
        const plaintext = yield* open(delivery)
        const event = yield* fromXml(plaintext)
        yield* Effect.annotateCurrentSpan("wechat.info_type", event.infoType)
        if (event._tag === "VerifyTicketEvent") {
          yield* storeTicket(event.ticket, event.createTime)
        } else {
          yield* respond(event)
        }
        return event
      }).pipe(
        Effect.tapError((error) =>
          Effect.logWarning("refused a push to the component's event URL").pipe(
            Effect.annotateLogs({ reason: "reason" in error ? error.reason : error._tag, error: error.message })
          )
        ),
        Effect.withSpan("ComponentPush.receive", { attributes: { "wechat.component_appid": config.appId } })
      )

    return { receive }
  })

/**
 * The receiver as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  options: Options<R> = {}
): Layer.Layer<ComponentPush, ConfigError.ConfigError, WeChatClient | TokenStore | ComponentToken | R> =>
  Layer.scoped(ComponentPush, make(options))

/**
 * Receives one delivery with the receiver in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const receive = (delivery: Delivery): Effect.Effect<PushEvent, ReceiveError, ComponentPush> =>
  Effect.flatMap(ComponentPush, (push) => push.receive(delivery))

/**
 * The largest body {@link httpApp} accepts, in bytes (64 KiB; WeChat's pushes
 * are about 1 KB); {@link receive} holds a body to as many characters.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBodySize: number = maxLength

/**
 * The receiver as an `@effect/platform` HTTP app, for a `POST` route: answers
 * `success`, or the refusal's message with {@link statusOf}'s status. A body
 * over {@link maxBodySize} is answered 413 without being kept (nor read, when
 * its length is declared); one that cannot be read (the client went away)
 * 400. The checks then run in {@link Service.receive}'s order: the query's
 * parameters, the one `Encrypt` of the envelope, its signature, the
 * decryption, and only then the XML of the event.
 *
 * @since 0.1.0
 * @category http
 */
export const httpApp: HttpApp.Default<never, ComponentPush | HttpServerRequest.HttpServerRequest> = Effect.gen(
  function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Effect.either(readBody(request))
    if (Either.isLeft(body)) return HttpServerResponse.text("the body could not be read", { status: 400 })
    if (Option.isNone(body.right)) {
      return HttpServerResponse.text(`the body is larger than ${maxBodySize} bytes, which no WeChat push is`, { status: 413 })
    }
    const query = new URL(request.url, "http://receiver.invalid").searchParams
    return yield* receive({ query, body: body.right.value }).pipe(
      Effect.as(HttpServerResponse.text("success")),
      Effect.catchAll((error) =>
        Effect.succeed(
          // The store's own words (a connection string, say) stay in the log.
          statusOf(error) === 503
            ? HttpServerResponse.text("the push could not be handled now; push it again", { status: 503 })
            : HttpServerResponse.text(error.message, { status: statusOf(error) })
        )
      )
    )
  }
)

/**
 * Asks WeChat to start pushing verify tickets again (`api_start_push_ticket`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const startPushTicket: Effect.Effect<void, WeChatError, WeChatClient> = Effect.gen(function*() {
  const client = yield* WeChatClient
  const { appId, appSecret } = client.config
  // This endpoint names the secret component_secret, not component_appsecret.
  yield* client.execute(StartPushTicket, { body: { component_appid: appId, component_secret: Redacted.value(appSecret) } })
}).pipe(Effect.withSpan("ComponentPush.startPushTicket"))

const StartPushTicket = endpoint({ path: "/cgi-bin/component/api_start_push_ticket", response: Schema.Struct({}) })
