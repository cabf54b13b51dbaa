/**
 * What the store keeps of an account, as WeChat reports it: an account that
 * no longer authorizes the component is forgotten, and a refresh token the
 * store lost is refilled.
 */
import { Clock, Effect, Option, Redacted } from "effect"
import { describeInvalid, isAppId } from "../AppId.js"
import type { Service as TokenStore, TokenStoreError } from "../TokenStore.js"
import { InvalidRequestError, PermissionError } from "../WeChatError.js"

/**
 * Refuses an account's appid that is not of WeChat's form, before anything is read or sent: `endpoint` is where it
 * would have gone.
 */
export const checkAppId = (authorizerAppId: string, endpoint: string): Effect.Effect<void, InvalidRequestError> =>
  isAppId(authorizerAppId)
    ? Effect.void
    : Effect.fail(new InvalidRequestError({ endpoint, reason: "InvalidAppId", detail: describeInvalid(authorizerAppId) }))

/** Refuses an empty code or token (`what`) before anything is sent: WeChat would answer with an errcode that hides why. */
export const checkNonEmpty = (
  value: Redacted.Redacted<string>,
  what: string,
  endpoint: string
): Effect.Effect<void, InvalidRequestError> =>
  Redacted.value(value).trim() !== ""
    ? Effect.void
    : Effect.fail(new InvalidRequestError({ endpoint, reason: "EmptyValue", detail: `the ${what} is empty` }))

/** Whether an error says the account no longer authorizes the component (61003). */
export const isRevoked = (error: unknown): error is PermissionError =>
  error instanceof PermissionError && error.reason === "NotAuthorized"

/**
 * Runs `call`; if it answers 61003, forgets the account as revoked when the call was sent, so that an authorization
 * exchanged after that survives. A store that cannot forget is logged, and the 61003 is what the caller gets.
 */
export const forgetIfRevoked = <A, E, R>(
  forget: (authorizerAppId: string, revokedAt: number) => Effect.Effect<boolean, TokenStoreError>,
  authorizerAppId: string,
  call: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(Clock.currentTimeMillis, (sentAt) =>
    Effect.tapError(call, (error) =>
      isRevoked(error)
        ? Effect.catchAll(forget(authorizerAppId, sentAt), (storeError) =>
          Effect.logWarning(`could not forget ${authorizerAppId}, which no longer authorizes the component`).pipe(
            Effect.annotateLogs({ error: storeError.message })
          ))
        : Effect.void))

/**
 * Stores a refresh token WeChat named for an account, if the store holds no authorization for it, with no access token
 * yet (the first call refreshes one). `authorizedAt` is when the account authorized as far as is known (0 when not),
 * so that an exchanged authorization outranks it. Answers whether it was stored.
 */
export const refill = (
  store: TokenStore,
  componentAppId: string,
  authorizerAppId: string,
  refreshToken: Redacted.Redacted<string>,
  authorizedAt: number
): Effect.Effect<boolean, TokenStoreError> =>
  Effect.gen(function*() {
    if (Option.isSome(yield* store.getAuthorizer(componentAppId, authorizerAppId))) return false
    const stored = yield* store.setAuthorizer(componentAppId, authorizerAppId, {
      accessToken: Redacted.make(""),
      expiresAt: 0,
      refreshToken,
      authorizedAt
    })
    if (stored) yield* Effect.logDebug(`stored the refresh token WeChat holds for ${authorizerAppId}, which the store had lost`)
    return stored
  })
