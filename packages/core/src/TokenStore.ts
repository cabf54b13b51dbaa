/**
 * Where the verify ticket and the tokens live, keyed by component appid.
 *
 * It also holds, per component, the tokens of every account that authorized
 * it (its refresh token above all: losing it means the merchant authorizes
 * again).
 *
 * The contract is written so that a shared store (Redis) can implement it for
 * several processes without callers changing:
 * - writes never go backwards: an older ticket (by creation) or token (by
 *   expiry) does not replace a newer one, whatever order the writes arrive in;
 * - a token is removed only if it is still the one the caller names
 *   (compare-and-delete), so a stale 40001 cannot drop a token that another
 *   fiber has just fetched;
 * - a lease lets one holder at a time refresh a token; the others
 *   {@link Service.awaitLease | await} its release or its lapse for a
 *   while, then read the store again. The store keeps a lease for as long as
 *   its holder works, and lets it lapse a short time to live after the holder
 *   stops renewing it (a process that died), so that nobody waits long on a
 *   holder that is gone.
 *
 * {@link layerMemory} implements the contract in-process, for one process or
 * tests: what it holds is lost when the process ends. Several processes need a
 * shared store (`@wxopen/redis-store`).
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { TokenStore } from "@wxopen/core"
 *
 * const hasTicket = (componentAppId: string) =>
 *   Effect.flatMap(TokenStore.TokenStore, (store) => store.getTicket(componentAppId)).pipe(
 *     Effect.map(Option.isSome)
 *   )
 * ```
 *
 * @since 0.1.0
 */
import { Context, Deferred, type Duration, Effect, FiberId, Layer, Option, Redacted, Schema } from "effect"

/**
 * A component verify ticket, when WeChat created it (the push's `CreateTime`)
 * and when it was received, both Unix epoch milliseconds. WeChat accepts a
 * ticket for 12 hours after creating it; pushes can arrive out of order, so
 * the creation time says which ticket is newer.
 *
 * @since 0.1.0
 * @category models
 */
export interface VerifyTicket {
  readonly value: Redacted.Redacted<string>
  readonly createdAt: number
  readonly receivedAt: number
}

/**
 * An access token and when it expires (Unix epoch milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly value: Redacted.Redacted<string>
  readonly expiresAt: number
}

/**
 * What a component holds for an account that authorized it: the authorizer
 * access token with its expiry (Unix epoch milliseconds), and the refresh
 * token, which is all that stands between the merchant and authorizing again.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizerTokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly expiresAt: number
  readonly refreshToken: Redacted.Redacted<string>
  /** When the authorization these tokens belong to was exchanged (Unix epoch milliseconds). */
  readonly authorizedAt: number
}

/**
 * The store could not be read or written (a shared store that is down, say).
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>()("TokenStoreError", {
  operation: Schema.String,
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `the token store failed to ${this.operation} (${this.detail}): check the store's connection; the operation can be retried`
  }
}

/**
 * What a token store does. Every write is atomic.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The component's verify ticket, if one has been stored. */
  readonly getTicket: (componentAppId: string) => Effect.Effect<Option.Option<VerifyTicket>, TokenStoreError>
  /**
   * Stores a ticket unless the stored one was created later. Answers whether
   * it was stored.
   */
  readonly setTicket: (componentAppId: string, ticket: VerifyTicket) => Effect.Effect<boolean, TokenStoreError>
  /** The component's access token, if one is stored, expired or not. */
  readonly getComponentToken: (componentAppId: string) => Effect.Effect<Option.Option<AccessToken>, TokenStoreError>
  /**
   * Stores a token unless the stored one expires later. Answers whether it
   * was stored.
   */
  readonly setComponentToken: (componentAppId: string, token: AccessToken) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Removes the component's token if its value is still `expected`. Answers
   * whether it was removed.
   */
  readonly deleteComponentToken: (
    componentAppId: string,
    expected: Redacted.Redacted<string>
  ) => Effect.Effect<boolean, TokenStoreError>
  /** An authorizer's tokens, if the component holds them. */
  readonly getAuthorizer: (
    componentAppId: string,
    authorizerAppId: string
  ) => Effect.Effect<Option.Option<AuthorizerTokens>, TokenStoreError>
  /**
   * The appids of every account whose tokens the component holds, in no
   * particular order: what a reconciliation with WeChat's list of authorizers
   * compares.
   */
  readonly listAuthorizers: (componentAppId: string) => Effect.Effect<ReadonlyArray<string>, TokenStoreError>
  /**
   * Stores the tokens of an authorization just exchanged, unless the stored
   * ones belong to a later authorization (`authorizedAt`). Answers whether they
   * were stored.
   */
  readonly setAuthorizer: (
    componentAppId: string,
    authorizerAppId: string,
    tokens: AuthorizerTokens
  ) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Replaces an authorizer's tokens with refreshed ones, if the stored refresh
   * token is still `expected`: a refresh never overwrites a re-authorization or
   * brings back a revoked account. Answers whether it did.
   */
  readonly refreshAuthorizer: (
    componentAppId: string,
    authorizerAppId: string,
    tokens: AuthorizerTokens,
    expected: Redacted.Redacted<string>
  ) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Marks the authorizer's access token expired if its value is still
   * `expected`; the refresh token is kept. Answers whether it did.
   */
  readonly invalidateAuthorizer: (
    componentAppId: string,
    authorizerAppId: string,
    expected: Redacted.Redacted<string>
  ) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Forgets an authorizer that revoked at `revokedAt`, unless its stored
   * authorization came later (a late revocation must not undo a new
   * authorization). Answers whether it did.
   */
  readonly deleteAuthorizer: (
    componentAppId: string,
    authorizerAppId: string,
    revokedAt: number
  ) => Effect.Effect<boolean, TokenStoreError>
  /**
   * Runs `effect` holding the lease named `key`, and releases it afterwards;
   * `None` without running it when another holder has the lease.
   *
   * The lease is held for as long as `effect` runs. `ttl` is how long it
   * outlives a holder that no longer renews it (a process that died, a store
   * it cannot reach): a shared store renews it at least every third of `ttl`
   * while `effect` runs. A release that fails (the store is unreachable) is
   * tried again in the background until it goes through or the lease has
   * lapsed, so that a store that comes back does not hand out a lease nobody
   * holds.
   */
  readonly withLease: <A, E, R>(
    key: string,
    ttl: Duration.DurationInput,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<Option.Option<A>, E | TokenStoreError, R>
  /**
   * Waits until the lease named `key` is released or lapses, or `timeout` has
   * passed, whichever comes first; at once if nobody holds it. Callers read
   * the store again afterwards, so a short `timeout` only costs a read.
   */
  readonly awaitLease: (key: string, timeout: Duration.DurationInput) => Effect.Effect<void, TokenStoreError>
}

/**
 * The token store as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@wxopen/core/TokenStore")<TokenStore, Service>() {}

const setUnlessNewer = <A>(map: Map<string, A>, key: string, value: A, order: (a: A) => number) =>
  Effect.sync(() => {
    const current = map.get(key)
    if (current !== undefined && order(current) > order(value)) return false
    map.set(key, value)
    return true
  })

/**
 * An in-process store, for one process or for tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.sync(() => {
  const tickets = new Map<string, VerifyTicket>()
  const tokens = new Map<string, AccessToken>()
  const leases = new Map<string, Deferred.Deferred<void>>()
  const authorizers = new Map<string, AuthorizerTokens>()
  const authorizerKey = (componentAppId: string, authorizerAppId: string) => `${componentAppId}\u0000${authorizerAppId}`

  const service: Service = {
    getTicket: (componentAppId) => Effect.sync(() => Option.fromNullable(tickets.get(componentAppId))),
    setTicket: (componentAppId, ticket) => setUnlessNewer(tickets, componentAppId, ticket, (t) => t.createdAt),
    getComponentToken: (componentAppId) => Effect.sync(() => Option.fromNullable(tokens.get(componentAppId))),
    setComponentToken: (componentAppId, token) => setUnlessNewer(tokens, componentAppId, token, (t) => t.expiresAt),
    deleteComponentToken: (componentAppId, expected) =>
      Effect.sync(() => {
        const current = tokens.get(componentAppId)
        if (current === undefined || Redacted.value(current.value) !== Redacted.value(expected)) return false
        tokens.delete(componentAppId)
        return true
      }),
    getAuthorizer: (componentAppId, authorizerAppId) =>
      Effect.sync(() => Option.fromNullable(authorizers.get(authorizerKey(componentAppId, authorizerAppId)))),
    listAuthorizers: (componentAppId) =>
      Effect.sync(() => {
        const prefix = authorizerKey(componentAppId, "")
        return [...authorizers.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length))
      }),
    setAuthorizer: (componentAppId, authorizerAppId, tokens) =>
      setUnlessNewer(authorizers, authorizerKey(componentAppId, authorizerAppId), tokens, (t) => t.authorizedAt),
    refreshAuthorizer: (componentAppId, authorizerAppId, tokens, expected) =>
      Effect.sync(() => {
        const key = authorizerKey(componentAppId, authorizerAppId)
        const current = authorizers.get(key)
        if (current === undefined || Redacted.value(current.refreshToken) !== Redacted.value(expected)) return false
        authorizers.set(key, tokens)
        return true
      }),
    invalidateAuthorizer: (componentAppId, authorizerAppId, expected) =>
      Effect.sync(() => {
        const key = authorizerKey(componentAppId, authorizerAppId)
        const current = authorizers.get(key)
        if (current === undefined || Redacted.value(current.accessToken) !== Redacted.value(expected)) return false
        authorizers.set(key, { ...current, expiresAt: 0 })
        return true
      }),
    deleteAuthorizer: (componentAppId, authorizerAppId, revokedAt) =>
      Effect.sync(() => {
        const key = authorizerKey(componentAppId, authorizerAppId)
        const current = authorizers.get(key)
        if (current === undefined || current.authorizedAt > revokedAt) return false
        return authorizers.delete(key)
      }),
    // A holder in this process cannot die without its release running, so a lease here lasts exactly as long as
    // its holder works: `ttl` has nothing to bound.
    withLease: (key, _ttl, effect) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          // Check and take in one synchronous step: no other fiber can run in between.
          if (leases.has(key)) return Effect.succeedNone
          const released = Deferred.unsafeMake<void>(FiberId.none)
          leases.set(key, released)
          return restore(effect).pipe(
            Effect.map(Option.some),
            Effect.ensuring(
              Effect.suspend(() => {
                leases.delete(key)
                return Deferred.succeed(released, undefined)
              })
            )
          )
        })
      ),
    awaitLease: (key, timeout) =>
      Effect.suspend(() => {
        const released = leases.get(key)
        return released === undefined ? Effect.void : Effect.timeoutOption(Deferred.await(released), timeout)
      }).pipe(Effect.asVoid)
  }
  return service
})

/**
 * The in-process store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)
