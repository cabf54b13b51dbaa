/**
 * The end of an authorization: the code WeChat hands back (on the redirect as
 * `auth_code`, and in the `authorized` push) exchanged with `api_query_auth`
 * for the account's tokens, which are stored in the
 * {@link TokenStore.TokenStore | TokenStore} for `AuthorizerToken` to keep valid.
 *
 * A code is single use, so a request that may have reached WeChat is not sent
 * again: only WeChat's own "busy" answers (-1, 45011) are retried, never a
 * transport failure or a 5xx, whatever the `RetryPolicy` says. Exchange each
 * code in one place: `ComponentPush` exchanges the code of an `authorized`
 * push by default, and then the redirect handler's exchange answers 61010
 * (set `exchangeOnAuthorized: false` to exchange on the redirect instead).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Authorization } from "@wxopen/core"
 *
 * // in the handler of the redirect URI, with ?auth_code=… from the query (and exchangeOnAuthorized: false)
 * const onRedirect = (authCode: string) =>
 *   Authorization.exchange(authCode).pipe(
 *     Effect.tap((authorization) => Effect.log(`authorized by ${authorization.authorizerAppId}`))
 *   )
 * ```
 *
 * @since 0.1.0
 */
import { Clock, DateTime, Effect, Redacted, Schema } from "effect"
import { type ComponentToken, type ComponentTokenError, execute } from "./ComponentToken.js"
import { TokenStore } from "./TokenStore.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"

/**
 * An account's authorization: which account, the permission sets it granted
 * (`funcscope_category` ids), and when its first access token expires. The
 * tokens themselves are in the token store.
 *
 * @since 0.1.0
 * @category models
 */
export class Authorization extends Schema.Class<Authorization>("@wxopen/core/Authorization")({
  authorizerAppId: Schema.NonEmptyString,
  permissions: Schema.Array(Schema.Number),
  accessTokenExpiresAt: Schema.DateTimeUtcFromSelf
}) {}

// The code is single use: a request that may have reached WeChat is not sent again.
const QueryAuth = endpoint({
  path: "/cgi-bin/component/api_query_auth",
  token: "component_access_token",
  singleUse: true,
  response: Schema.Struct({
    authorization_info: Schema.Struct({
      authorizer_appid: Schema.NonEmptyString,
      authorizer_access_token: Schema.Redacted(Schema.NonEmptyString),
      expires_in: Schema.Number.pipe(Schema.int(), Schema.positive()),
      authorizer_refresh_token: Schema.Redacted(Schema.NonEmptyString),
      func_info: Schema.optionalWith(
        Schema.Array(Schema.Struct({ funcscope_category: Schema.Struct({ id: Schema.Number }) })),
        { default: () => [] }
      )
    })
  })
})

/**
 * Exchanges an authorization code for the account's tokens, stores them, and
 * answers the authorization.
 *
 * @since 0.1.0
 * @category constructors
 */
export const exchange = (
  authorizationCode: string | Redacted.Redacted<string>
): Effect.Effect<Authorization, ComponentTokenError, WeChatClient | ComponentToken | TokenStore> =>
  Effect.gen(function*() {
    const { appId } = (yield* WeChatClient).config
    const store = yield* TokenStore
    const code = typeof authorizationCode === "string" ? Redacted.make(authorizationCode) : authorizationCode
    const sentAt = yield* Clock.currentTimeMillis
    const { authorization_info: info } = yield* execute(QueryAuth, {
      body: { component_appid: appId, authorization_code: Redacted.value(code) },
      secrets: [code]
    })
    const expiresAt = sentAt + info.expires_in * 1000
    // An authorization is the truth about the account: it replaces what a refresh may have written meanwhile.
    yield* store.setAuthorizer(appId, info.authorizer_appid, {
      accessToken: info.authorizer_access_token,
      expiresAt,
      refreshToken: info.authorizer_refresh_token,
      authorizedAt: sentAt
    })
    return new Authorization({
      authorizerAppId: info.authorizer_appid,
      permissions: info.func_info.map((f) => f.funcscope_category.id),
      accessTokenExpiresAt: DateTime.unsafeMake(expiresAt)
    })
  }).pipe(Effect.withSpan("Authorization.exchange"))
