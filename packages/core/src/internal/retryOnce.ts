/**
 * The access-token rule, for any kind of token: run `f` with a token; if
 * WeChat refuses it (the access-token family), invalidate it (compare-and-set),
 * get a new one and run `f` once more, unless the new one is the token just
 * refused (nothing would change). A second refusal is returned as it is.
 */
import { Effect, Redacted } from "effect"
import type { AccessToken, TokenStoreError } from "../TokenStore.js"
import type { Endpoint, Request, Service as WeChatClient } from "../WeChatClient.js"
import { AccessTokenError, type WeChatError } from "../WeChatError.js"

export const withToken = <A, E, R, EG>(
  get: Effect.Effect<AccessToken, EG>,
  invalidate: (token: Redacted.Redacted<string>) => Effect.Effect<boolean, TokenStoreError>,
  f: (token: Redacted.Redacted<string>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | EG | TokenStoreError, R> =>
  Effect.flatMap(get, (token) =>
    Effect.catchIf(
      f(token.value),
      (error): error is E & AccessTokenError => error instanceof AccessTokenError,
      (refused) =>
        invalidate(token.value).pipe(
          Effect.zipRight(get),
          Effect.flatMap((fresh) =>
            Redacted.value(fresh.value) === Redacted.value(token.value) ? Effect.fail(refused) : f(fresh.value)
          )
        )
    ))

/** One request to `endpoint` with a token of `get` in the endpoint's token parameter, under the rule above. */
export const execute = <A, I, EG>(
  client: WeChatClient,
  get: Effect.Effect<AccessToken, EG>,
  invalidate: (token: Redacted.Redacted<string>) => Effect.Effect<boolean, TokenStoreError>,
  endpoint: Endpoint<A, I>,
  request: Request = {}
): Effect.Effect<A, WeChatError | EG | TokenStoreError> =>
  withToken(get, invalidate, (accessToken) => client.execute(endpoint, { ...request, accessToken }))
