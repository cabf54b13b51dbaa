/**
 * The access tokens of the accounts that authorized the component, kept
 * valid with `api_authorizer_token` and the stored refresh token, under the
 * same rules as the component token: the stored token while it has the
 * margin left, one refresh per account at a time (in-process and across
 * processes, under the store's lease), compare-and-set invalidation, and a
 * fallback on the stored token if a refresh fails before it expires.
 *
 * A refresh token that WeChat rotates is stored before the new access token
 * is handed out, and only over the refresh token the refresh used: a refresh
 * never overwrites a re-authorization or brings back a revoked account. An
 * invalid one (61023) is a `RefreshTokenError` (the merchant has to authorize
 * again), and is not sent again until a new authorization stores another. An
 * account that no longer authorizes the component (61003, to a refresh or to
 * a call as the account) is forgotten: its stored tokens are deleted, unless
 * it authorized again after the request was sent.
 *
 * An account costs nothing in this process between calls: what is kept per
 * account is in the store, not in memory.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuthorizerToken, WeChatClient } from "@wxopen/core"
 *
 * // an Official Account API, as the account: its token goes in `access_token`
 * const GetMenu = WeChatClient.endpoint({
 *   path: "/cgi-bin/get_current_selfmenu_info",
 *   method: "GET",
 *   token: "access_token",
 *   response: Schema.Struct({ is_menu_open: Schema.Number })
 * })
 * const menu = AuthorizerToken.execute("wxfedcba9876543210", GetMenu)
 * ```
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Option, Redacted, Schema, type Scope } from "effect"
import { ComponentToken, type ComponentTokenError } from "./ComponentToken.js"
import * as Authorizers from "./internal/authorizers.js"
import * as Refresh from "./internal/refresh.js"
import * as RetryOnce from "./internal/retryOnce.js"
import * as SingleFlight from "./internal/singleFlight.js"
import { type AccessToken, type AuthorizerTokens, TokenStore, TokenStoreError } from "./TokenStore.js"
import { endpoint, type Endpoint, type Request, WeChatClient } from "./WeChatClient.js"
import { type PermissionError, type RefreshTokenError, WeChatError, withAuthorizer } from "./WeChatError.js"

/**
 * The component holds no refresh token for this account: it never authorized,
 * its authorization code was never exchanged, or it revoked the authorization.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownAuthorizerError extends Schema.TaggedError<UnknownAuthorizerError>()("UnknownAuthorizerError", {
  authorizerAppId: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `no refresh token is stored for ${this.authorizerAppId}: exchange its authorization code ` +
      "(Authorization.exchange), or send the merchant an authorization link"
  }
}

/**
 * What can go wrong while getting an authorizer token.
 *
 * @since 0.1.0
 * @category errors
 */
export type AuthorizerTokenError = ComponentTokenError | UnknownAuthorizerError

/**
 * The schema of {@link AuthorizerTokenError}, to serialize errors or log them as data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuthorizerTokenError = Schema.Union(WeChatError, TokenStoreError, UnknownAuthorizerError)

/**
 * The authorizer token service of one component.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * An access token of `authorizerAppId` with at least the refresh margin
   * left, refreshed if need be. An appid not of WeChat's form (`AppId`) fails
   * with an `InvalidRequestError` (`InvalidAppId`) before anything is read.
   */
  readonly get: (authorizerAppId: string) => Effect.Effect<AccessToken, AuthorizerTokenError>
  /** Marks the stored access token expired if it is still `token` (the refresh token stays). */
  readonly invalidate: (authorizerAppId: string, token: Redacted.Redacted<string>) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Forgets an account that revoked at `revokedAt` (Unix epoch milliseconds):
   * its stored tokens are deleted unless it authorized again later. Answers
   * whether they were.
   */
  readonly forget: (authorizerAppId: string, revokedAt: number) => Effect.Effect<boolean, TokenStoreError>
}

/**
 * The authorizer token service as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class AuthorizerToken extends Context.Tag("@wxopen/core/AuthorizerToken")<AuthorizerToken, Service>() {}

/**
 * The name of an authorizer's refresh lease in the token store.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshLeaseKey = (componentAppId: string, authorizerAppId: string): string =>
  `authorizer_access_token:${componentAppId}:${authorizerAppId}`

const RefreshToken = endpoint({
  path: "/cgi-bin/component/api_authorizer_token",
  token: "component_access_token",
  response: Schema.Struct({
    authorizer_access_token: Schema.Redacted(Schema.NonEmptyString),
    expires_in: Schema.Number.pipe(Schema.int(), Schema.positive()),
    authorizer_refresh_token: Schema.optional(Schema.Redacted(Schema.NonEmptyString))
  })
})

/**
 * Builds the service; refreshes run in the given scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  Service,
  never,
  WeChatClient | TokenStore | ComponentToken | Scope.Scope
> = Effect.gen(function*() {
  const client = yield* WeChatClient
  const { config } = client
  const store = yield* TokenStore
  const componentToken = yield* ComponentToken
  const singleFlight = yield* SingleFlight.make<AuthorizerTokens, AuthorizerTokenError>()
  const appId = config.appId
  // Refresh tokens WeChat refused (61023), by account: not sent again until a new authorization stores another.
  // Bounded: past the bound the oldest goes, which costs that account one more refused request.
  const refused = new Map<string, { readonly refreshToken: string; readonly error: RefreshTokenError }>()
  const refuse = (authorizerAppId: string, refreshToken: string, error: RefreshTokenError) => {
    refused.delete(authorizerAppId)
    if (refused.size >= maxRefused) refused.delete(refused.keys().next().value!)
    refused.set(authorizerAppId, { refreshToken, error })
  }
  const forget = (authorizerAppId: string, revokedAt: number) =>
    Effect.zipRight(
      Effect.sync(() => refused.delete(authorizerAppId)),
      store.deleteAuthorizer(appId, authorizerAppId, revokedAt)
    ).pipe(Effect.withSpan("AuthorizerToken.forget", {
      attributes: { "wechat.component_appid": appId, "wechat.authorizer_appid": authorizerAppId }
    }))

  const fetch = (authorizerAppId: string) =>
    Effect.gen(function*() {
      const current = yield* store.getAuthorizer(appId, authorizerAppId)
      if (Option.isNone(current)) return yield* new UnknownAuthorizerError({ authorizerAppId })
      const refreshToken = current.value.refreshToken
      const known = refused.get(authorizerAppId)
      if (known !== undefined) {
        if (known.refreshToken === Redacted.value(refreshToken)) return yield* known.error
        refused.delete(authorizerAppId)
      }
      const sentAt = yield* Clock.currentTimeMillis
      const refresh = RetryOnce.execute(client, componentToken.get, componentToken.invalidate, RefreshToken, {
        body: {
          component_appid: appId,
          authorizer_appid: authorizerAppId,
          authorizer_refresh_token: Redacted.value(refreshToken)
        },
        secrets: [refreshToken]
      })
      const answer = yield* Authorizers.forgetIfRevoked(forget, authorizerAppId, refresh).pipe(
        Effect.tapErrorTag("RefreshTokenError", (error) =>
          Effect.sync(() => refuse(authorizerAppId, Redacted.value(refreshToken), error)))
      )
      const tokens: AuthorizerTokens = {
        accessToken: answer.authorizer_access_token,
        expiresAt: sentAt + answer.expires_in * 1000,
        refreshToken: answer.authorizer_refresh_token ?? refreshToken,
        authorizedAt: current.value.authorizedAt
      }
      // Stored before it is handed out, over the refresh token it used: a rotated refresh token never exists only
      // in memory, and a refresh never overwrites a re-authorization or brings back a revoked account.
      if (yield* store.refreshAuthorizer(appId, authorizerAppId, tokens, refreshToken)) return tokens
      // The account authorized again, or revoked, meanwhile: what the store holds is the truth.
      const now = yield* store.getAuthorizer(appId, authorizerAppId)
      return yield* Option.match(now, {
        onNone: () => Effect.fail(new UnknownAuthorizerError({ authorizerAppId })),
        onSome: Effect.succeed
      })
    }).pipe(
      Effect.withSpan("AuthorizerToken.fetch", {
        attributes: { "wechat.component_appid": appId, "wechat.authorizer_appid": authorizerAppId }
      })
    )

  // Made for each call and dropped after it, so that an account kept nothing in memory between calls; it is a few
  // closures, cheaper than the store read that follows.
  const refresherOf = (authorizerAppId: string) =>
    Refresh.make({
      store,
      read: store.getAuthorizer(appId, authorizerAppId),
      fetch: fetch(authorizerAppId),
      leaseKey: refreshLeaseKey(appId, authorizerAppId),
      margin: Duration.toMillis(config.refreshMargin),
      name: "authorizer_access_token"
    })

  const asAccessToken = (tokens: AuthorizerTokens): AccessToken => ({ value: tokens.accessToken, expiresAt: tokens.expiresAt })

  return {
    get: (authorizerAppId) =>
      // An appid of the wrong form is refused before the store is read: it could only be an unknown account.
      Effect.flatMap(Authorizers.checkAppId(authorizerAppId, RefreshToken.path), () =>
        refresherOf(authorizerAppId).get(singleFlight, authorizerAppId, {
          name: "AuthorizerToken.get",
          attributes: { "wechat.component_appid": appId, "wechat.authorizer_appid": authorizerAppId }
        }).pipe(Effect.map(asAccessToken))),
    invalidate: (authorizerAppId, token) =>
      store.invalidateAuthorizer(appId, authorizerAppId, token).pipe(Effect.withSpan("AuthorizerToken.invalidate")),
    forget
  }
})

// How many refused refresh tokens are remembered.
const maxRefused = 10_000

/**
 * Whether an error says the account no longer authorizes the component
 * (61003), after which its stored tokens are forgotten.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRevoked: (error: unknown) => error is PermissionError = Authorizers.isRevoked

/**
 * The authorizer token service, from the client, the token
 * store, component token service and the client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<AuthorizerToken, never, WeChatClient | TokenStore | ComponentToken> =
  Layer.scoped(AuthorizerToken, make)

/**
 * A valid access token of an account, from the service in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = (authorizerAppId: string): Effect.Effect<AccessToken, AuthorizerTokenError, AuthorizerToken> =>
  Effect.flatMap(AuthorizerToken, (tokens) => tokens.get(authorizerAppId))

/**
 * Runs `f` with a valid access token of an account. If WeChat refuses it (the
 * access-token family), marks it expired, gets a new one and runs `f` once
 * more, unless the new one is the token just refused; a second refusal is
 * returned as it is. A 61003 from `f` forgets the account.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withToken = <A, E, R>(
  authorizerAppId: string,
  f: (token: Redacted.Redacted<string>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | AuthorizerTokenError, R | AuthorizerToken> =>
  Effect.flatMap(AuthorizerToken, (tokens) =>
    RetryOnce.withToken(tokens.get(authorizerAppId), (token) => tokens.invalidate(authorizerAppId, token), (token) =>
      Authorizers.forgetIfRevoked(tokens.forget, authorizerAppId, f(token))))

/**
 * Sends one request, as an account, to an endpoint that takes the account's
 * token (`access_token` for Official Account and Mini Program APIs), under
 * the same rule as {@link withToken}. `AuthorizerClient` does the same for a
 * path and a schema. An error WeChat answered carries the account as
 * `authorizerAppId`, so `RequestRecord.lookup` uses its token.
 *
 * @since 0.1.0
 * @category combinators
 */
export const execute = <A, I>(
  authorizerAppId: string,
  endpoint: Endpoint<A, I>,
  request?: Request
): Effect.Effect<A, AuthorizerTokenError, WeChatClient | AuthorizerToken> =>
  Effect.flatMap(WeChatClient, (client) =>
    withToken(authorizerAppId, (accessToken) =>
      Effect.mapError(client.execute(endpoint, { ...request, accessToken }), (error) => withAuthorizer(error, authorizerAppId))))
