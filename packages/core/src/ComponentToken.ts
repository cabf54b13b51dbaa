/**
 * Hands out a valid `component_access_token`, fetching one with
 * `api_component_token` only when the stored one has less than the refresh
 * margin left.
 *
 * - One fetch per component at a time: in this process, callers join the
 *   fetch under way; across processes, the fetch runs under the
 *   {@link TokenStore.TokenStore | TokenStore}'s lease and the others wait for
 *   the token it writes, reading the store again every second, and take the
 *   lease over once it is free (a holder that died lets it lapse after
 *   {@link refreshLeaseTtl}). A caller that has waited {@link refreshDeadline}
 *   gives up with a `RefreshTimeoutError`.
 * - A failed fetch is not kept: the next caller tries again. While the stored
 *   token has not expired (it is inside the refresh margin), callers get it
 *   instead of the failure, with a warning in the log.
 * - Interrupting a caller never interrupts the fetch the others wait for.
 * - No usable verify ticket (none received, older than 12 hours, or already
 *   refused by WeChat with 61005/61006): a `VerifyTicketError`, and no call to
 *   WeChat until a new ticket is pushed.
 * - {@link Service.invalidate | invalidate} drops a token only if it is still
 *   the stored one, so a late 40001 cannot drop a token just fetched.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ComponentToken, WeChatClient } from "@wxopen/core"
 *
 * // any component API: the token goes in the endpoint's parameter; a refused token is replaced and the call sent once more
 * const GetAuthorizerList = WeChatClient.endpoint({
 *   path: "/cgi-bin/component/api_get_authorizer_list",
 *   token: "component_access_token",
 *   response: Schema.Struct({ total_count: Schema.Number })
 * })
 * const count = ComponentToken.execute(GetAuthorizerList, {
 *   body: { component_appid: "wx1234567890abcdef", offset: 0, count: 1 }
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Clock, Config, type ConfigError, Context, Duration, Effect, Layer, Option, Redacted, Schema, type Scope } from "effect"
import { secret } from "./ComponentConfig.js"
import * as Refresh from "./internal/refresh.js"
import * as RetryOnce from "./internal/retryOnce.js"
import * as SingleFlight from "./internal/singleFlight.js"
import { type AccessToken, TokenStore, TokenStoreError, type VerifyTicket } from "./TokenStore.js"
import { endpoint, type Endpoint, type Request, WeChatClient } from "./WeChatClient.js"
import { VerifyTicketError, WeChatError as WeChatErrorSchema, type WeChatError } from "./WeChatError.js"

/**
 * How long WeChat accepts a verify ticket after creating it.
 *
 * @since 0.1.0
 * @category constants
 */
export const ticketLifetime: Duration.Duration = Duration.hours(12)

// Past its lifetime, counted from the earlier of its creation and its arrival: a creation time ahead of our clock must
// not keep a ticket young.
const isStale = (ticket: VerifyTicket, now: number) =>
  now - Math.min(ticket.createdAt, ticket.receivedAt) >= Duration.toMillis(ticketLifetime)

/**
 * How long a refresh lease outlives a holder that stopped renewing it (a
 * process that died, a store it cannot reach): the longest the other
 * instances wait for a holder that is gone, once the store answers. A live
 * holder keeps its lease for as long as it works.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshLeaseTtl: Duration.Duration = Refresh.leaseTtl

/**
 * How long a caller may take to get a token before it fails with a
 * `RefreshTimeoutError`, counted from when it asked: its own fetch, retries
 * included, and its waits for other instances' fetches (a lease taken over
 * after a wait gets what is left).
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshDeadline: Duration.Duration = Refresh.deadline

/**
 * The name of the component's refresh lease in the {@link TokenStore.TokenStore | TokenStore}.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshLeaseKey = (componentAppId: string): string => `component_access_token:${componentAppId}`

/**
 * What can go wrong while getting a token.
 *
 * @since 0.1.0
 * @category errors
 */
export type ComponentTokenError = WeChatError | TokenStoreError

/**
 * The schema of {@link ComponentTokenError}, to serialize errors or log them as data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ComponentTokenError = Schema.Union(WeChatErrorSchema, TokenStoreError)

/**
 * The token service of one component.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * A token with at least the refresh margin left, fetched if need be; if the
   * fetch fails, the stored token as long as it has not expired.
   */
  readonly get: Effect.Effect<AccessToken, ComponentTokenError>
  /** Drops the stored token if it is still `token`. Answers whether it did. */
  readonly invalidate: (token: Redacted.Redacted<string>) => Effect.Effect<boolean, TokenStoreError>
}

/**
 * The token service as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class ComponentToken extends Context.Tag("@wxopen/core/ComponentToken")<ComponentToken, Service>() {}

const FetchToken = endpoint({
  path: "/cgi-bin/component/api_component_token",
  response: Schema.Struct({
    component_access_token: Schema.Redacted(Schema.NonEmptyString),
    expires_in: Schema.Number.pipe(Schema.int(), Schema.positive())
  })
})

/**
 * Builds the service; fetches run in the given scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, WeChatClient | TokenStore | Scope.Scope> = Effect.gen(function*() {
  const client = yield* WeChatClient
  const { config } = client
  const store = yield* TokenStore
  const singleFlight = yield* SingleFlight.make<AccessToken, ComponentTokenError>()
  const appId = config.appId

  // The last push WeChat refused (61005, 61006). It is not sent again: only a new push is worth a request.
  let refused: { readonly ticket: VerifyTicket; readonly error: VerifyTicketError } | undefined

  const ticket = Effect.gen(function*() {
    const stored = yield* store.getTicket(appId)
    if (Option.isNone(stored)) {
      return yield* new VerifyTicketError({ endpoint: FetchToken.path, reason: "NotReceived" })
    }
    if (isStale(stored.value, yield* Clock.currentTimeMillis)) {
      return yield* new VerifyTicketError({ endpoint: FetchToken.path, reason: "Stale" })
    }
    if (
      refused !== undefined && refused.ticket.createdAt === stored.value.createdAt &&
      Redacted.value(refused.ticket.value) === Redacted.value(stored.value.value)
    ) {
      return yield* refused.error
    }
    return stored.value
  })

  const fetch = Effect.gen(function*() {
    const verifyTicket = yield* ticket
    const sentAt = yield* Clock.currentTimeMillis
    const answer = yield* client.execute(FetchToken, {
      body: {
        component_appid: appId,
        component_appsecret: Redacted.value(config.appSecret),
        component_verify_ticket: Redacted.value(verifyTicket.value)
      },
      secrets: [verifyTicket.value]
    }).pipe(
      Effect.tapErrorTag("VerifyTicketError", (error) => Effect.sync(() => refused = { ticket: verifyTicket, error }))
    )
    // Counted from when the request was sent, so the stored expiry is never later than WeChat's.
    const token: AccessToken = { value: answer.component_access_token, expiresAt: sentAt + answer.expires_in * 1000 }
    yield* store.setComponentToken(appId, token)
    yield* Effect.logDebug("fetched a new component_access_token").pipe(
      Effect.annotateLogs({ componentAppId: appId, expiresInSeconds: answer.expires_in })
    )
    return token
  }).pipe(Effect.withSpan("ComponentToken.fetch", { attributes: { "wechat.component_appid": appId } }))

  const refresher = Refresh.make({
    store,
    read: store.getComponentToken(appId),
    fetch,
    leaseKey: refreshLeaseKey(appId),
    margin: Duration.toMillis(config.refreshMargin),
    name: "component_access_token"
  })

  return {
    get: refresher.get(singleFlight, appId, { name: "ComponentToken.get", attributes: { "wechat.component_appid": appId } }),
    invalidate: (token) =>
      store.deleteComponentToken(appId, token).pipe(
        Effect.withSpan("ComponentToken.invalidate", { attributes: { "wechat.component_appid": appId } })
      )
  }
})

/**
 * The token service, from the client and a token store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ComponentToken, never, WeChatClient | TokenStore> = Layer.scoped(
  ComponentToken,
  make
)

/**
 * The verify ticket given in `WXOPEN_COMPONENT_VERIFY_TICKET`.
 *
 * @since 0.1.0
 * @category config
 */
export const ticketConfig: Config.Config<Redacted.Redacted<string>> = secret(
  "WXOPEN_COMPONENT_VERIFY_TICKET",
  "the component_verify_ticket WeChat last pushed (wxopen-mock prints its own)"
)

/**
 * How old a ticket given by hand ({@link storeTicket}) is taken to be: its
 * real age is unknown, so any ticket WeChat pushed within this hour outranks
 * it, and it counts as usable for the rest of {@link ticketLifetime} (a
 * ticket older than that is refused by WeChat with 61005, a
 * `VerifyTicketError` that says to wait for the next push).
 *
 * @since 0.1.0
 * @category constants
 */
export const givenTicketAge: Duration.Duration = Duration.hours(1)

/**
 * Stores a verify ticket that did not come through this process's receiver
 * (copied from another's log, printed by `wxopen-mock`), as created
 * {@link givenTicketAge} ago, unless the store already holds a usable one. A
 * pushed ticket is never replaced by it: one already stored is kept, and one
 * stored meanwhile (by another instance's receiver) is newer, which the
 * store's write keeps. Succeeds with whether it was stored.
 *
 * @since 0.1.0
 * @category constructors
 */
export const storeTicket = (
  ticket: Redacted.Redacted<string>
): Effect.Effect<boolean, TokenStoreError, WeChatClient | TokenStore> =>
  Effect.gen(function*() {
    const { config } = yield* WeChatClient
    const store = yield* TokenStore
    const now = yield* Clock.currentTimeMillis
    const stored = yield* store.getTicket(config.appId)
    if (Option.isSome(stored) && !isStale(stored.value, now)) return false
    return yield* store.setTicket(config.appId, {
      value: ticket,
      createdAt: now - Duration.toMillis(givenTicketAge),
      receivedAt: now
    })
  }).pipe(Effect.withSpan("ComponentToken.storeTicket"))

/**
 * Stores the ticket in {@link ticketConfig} (or the `Config` given) with
 * {@link storeTicket} when the layer is built: for a program that does not
 * receive WeChat's pushes itself (a script, a job, a first try against
 * `wxopen-mock`). A platform that receives pushes needs none: its receiver
 * stores every ticket.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTicketConfig = (
  ticket: Config.Config<Redacted.Redacted<string>> = ticketConfig
): Layer.Layer<never, ConfigError.ConfigError | TokenStoreError, WeChatClient | TokenStore> =>
  Layer.effectDiscard(Effect.flatMap(ticket, storeTicket))

/**
 * A valid token from the service in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get: Effect.Effect<AccessToken, ComponentTokenError, ComponentToken> = Effect.flatMap(
  ComponentToken,
  (tokens) => tokens.get
)

/**
 * Runs `f` with a valid token. If WeChat refuses the token (the access-token
 * family: 40001, 40014, 42001, 41001), drops it, gets a new one and runs `f`
 * once more; a second refusal is returned as it is, never looped on.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withToken = <A, E, R>(
  f: (token: Redacted.Redacted<string>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | ComponentTokenError, R | ComponentToken> =>
  Effect.flatMap(ComponentToken, (tokens) => RetryOnce.withToken(tokens.get, tokens.invalidate, f))

/**
 * Sends one request to a component endpoint with a valid token in the
 * endpoint's token parameter, under the same rule as {@link withToken}: a
 * refused token is replaced and the request sent once more.
 *
 * @since 0.1.0
 * @category combinators
 */
export const execute = <A, I>(
  endpoint: Endpoint<A, I>,
  request?: Request
): Effect.Effect<A, ComponentTokenError, WeChatClient | ComponentToken> =>
  Effect.flatMap(WeChatClient, (client) =>
    Effect.flatMap(ComponentToken, (tokens) => RetryOnce.execute(client, tokens.get, tokens.invalidate, endpoint, request)))
