/**
 * A user's OAuth tokens for an authorized Official Account, obtained through
 * the component (网页授权, on the account's behalf): the code from the
 * redirect of `UserAuthorizationUrl` exchanged for the user's openid and
 * tokens ({@link exchange}), the access token renewed with the refresh token
 * ({@link refresh}), and the user's profile read with the access token
 * ({@link userInfo}).
 *
 * The exchange and the refresh are component calls: they carry
 * `component_appid` and the component access token, which is replaced once if
 * WeChat refuses it. A code is single use: a request that may have reached
 * WeChat is never sent again (only WeChat's own "busy" answers are retried).
 * The user's tokens are `Redacted` and stay out of errors, logs and spans; they
 * are yours to keep (wxopen stores nothing of a user; {@link UserToken} is
 * also the schema that encodes a token for a session store). `userInfo` sends the
 * user's access token: a refusal of it is a `UserTokenError`, never a
 * component-token replacement.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { UserToken } from "@wxopen/core"
 *
 * // in the handler of the redirect URI, with ?code=… from the query
 * const onLogin = (authorizerAppId: string, code: string) =>
 *   Effect.gen(function*() {
 *     const token = yield* UserToken.exchange(authorizerAppId, code)
 *     const profile = yield* UserToken.userInfo(token)
 *     return `${profile.nickname} (${token.openid})`
 *   })
 * ```
 *
 * @since 0.1.0
 */
import { Clock, DateTime, Effect, Redacted, Schema } from "effect"
import { type ComponentToken, type ComponentTokenError, execute } from "./ComponentToken.js"
import { checkAppId, checkNonEmpty } from "./internal/authorizers.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"
import type { WeChatError } from "./WeChatError.js"

/**
 * A user's tokens for one account. The access token lives 2 hours
 * (`expiresAt`, counted from when the request was sent), the refresh token 30
 * days. `scope` is what the user granted (`snsapi_base`, `snsapi_userinfo`), as
 * WeChat wrote it; `unionid` is there when the account is bound to an Open
 * Platform account and WeChat sends it.
 *
 * @since 0.1.0
 * @category models
 */
export interface UserToken extends Schema.Schema.Type<typeof UserToken> {}

/**
 * The schema of {@link UserToken}, to keep one in a session store: encoded,
 * the tokens are plain strings and `expiresAt` an ISO date (`JSON.stringify`
 * of the token itself writes `<redacted>` in their place).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserToken = Schema.Struct({
  authorizerAppId: Schema.String,
  openid: Schema.String,
  scope: Schema.String,
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.Redacted(Schema.String),
  expiresAt: Schema.DateTimeUtc,
  unionid: Schema.optionalWith(Schema.String, { exact: true })
})

/**
 * A user's profile (`sns/userinfo`), for a token of scope `snsapi_userinfo`.
 * WeChat no longer sends the user's gender or region, so they are left out.
 *
 * @since 0.1.0
 * @category models
 */
export interface Profile {
  readonly openid: string
  readonly nickname: string
  /** The avatar's URL, "" when the user has none. */
  readonly headImageUrl: string
  /** WeChat's privileges of the user (`chinaunicom` for a WoCard holder). */
  readonly privileges: ReadonlyArray<string>
  readonly unionid?: string
}

/**
 * The languages WeChat writes a profile in.
 *
 * @since 0.1.0
 * @category models
 */
export type Lang = "zh_CN" | "zh_TW" | "en"

const TokenAnswer = Schema.Struct({
  access_token: Schema.Redacted(Schema.NonEmptyString),
  expires_in: Schema.Number.pipe(Schema.int(), Schema.positive()),
  refresh_token: Schema.Redacted(Schema.NonEmptyString),
  openid: Schema.NonEmptyString,
  scope: Schema.String,
  unionid: Schema.optional(Schema.String)
})

// The code is single use: a request that may have reached WeChat is not sent again.
const ExchangeCode = endpoint({
  path: "/sns/oauth2/component/access_token",
  method: "GET",
  token: "component_access_token",
  singleUse: true,
  response: TokenAnswer
})

const RefreshToken = endpoint({
  path: "/sns/oauth2/component/refresh_token",
  method: "GET",
  token: "component_access_token",
  response: TokenAnswer
})

const UserInfo = endpoint({
  path: "/sns/userinfo",
  method: "GET",
  token: "access_token",
  response: Schema.Struct({
    openid: Schema.NonEmptyString,
    nickname: Schema.optionalWith(Schema.String, { default: () => "" }),
    headimgurl: Schema.optionalWith(Schema.String, { default: () => "" }),
    privilege: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    unionid: Schema.optional(Schema.String)
  })
})

const toUserToken = (authorizerAppId: string, sentAt: number, answer: typeof TokenAnswer.Type): UserToken => ({
  authorizerAppId,
  openid: answer.openid,
  scope: answer.scope,
  accessToken: answer.access_token,
  refreshToken: answer.refresh_token,
  // Counted from when the request was sent, so it is never later than WeChat's.
  expiresAt: DateTime.unsafeMake(sentAt + answer.expires_in * 1000),
  ...(answer.unionid === undefined || answer.unionid === "" ? {} : { unionid: answer.unionid })
})

const redacted = (value: string | Redacted.Redacted<string>) => typeof value === "string" ? Redacted.make(value) : value

/**
 * Exchanges the `code` of the redirect for the user's tokens
 * (`sns/oauth2/component/access_token`). `authorizerAppId` is the account
 * whose link the user followed. A wrong, expired or foreign code is a
 * `UserCodeError` (`Invalid`), a used one `Used`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const exchange = Effect.fn("UserToken.exchange")(function*(
  authorizerAppId: string,
  code: string | Redacted.Redacted<string>
): Effect.fn.Return<UserToken, ComponentTokenError, WeChatClient | ComponentToken> {
  yield* Effect.annotateCurrentSpan("wechat.authorizer_appid", authorizerAppId)
  yield* checkAppId(authorizerAppId, ExchangeCode.path)
  const secret = redacted(code)
  yield* checkNonEmpty(secret, "code", ExchangeCode.path)
  const { appId } = (yield* WeChatClient).config
  const sentAt = yield* Clock.currentTimeMillis
  const answer = yield* execute(ExchangeCode, {
    query: { appid: authorizerAppId, code: Redacted.value(secret), grant_type: "authorization_code", component_appid: appId },
    secrets: [secret]
  })
  return toUserToken(authorizerAppId, sentAt, answer)
})

/**
 * A new access token for the user, with the refresh token of an earlier
 * {@link exchange} or refresh (`sns/oauth2/component/refresh_token`). An
 * invalid refresh token is a `UserTokenError` (`RefreshTokenInvalid`), one
 * older than 30 days `RefreshTokenExpired`: the user has to log in again.
 *
 * @since 0.1.0
 * @category constructors
 */
export const refresh = Effect.fn("UserToken.refresh")(function*(
  authorizerAppId: string,
  refreshToken: Redacted.Redacted<string>
): Effect.fn.Return<UserToken, ComponentTokenError, WeChatClient | ComponentToken> {
  yield* Effect.annotateCurrentSpan("wechat.authorizer_appid", authorizerAppId)
  yield* checkAppId(authorizerAppId, RefreshToken.path)
  yield* checkNonEmpty(refreshToken, "refresh token", RefreshToken.path)
  const { appId } = (yield* WeChatClient).config
  const sentAt = yield* Clock.currentTimeMillis
  const answer = yield* execute(RefreshToken, {
    query: {
      appid: authorizerAppId,
      grant_type: "refresh_token",
      component_appid: appId,
      refresh_token: Redacted.value(refreshToken)
    },
    secrets: [refreshToken]
  })
  return toUserToken(authorizerAppId, sentAt, answer)
})

/**
 * The user's profile (`sns/userinfo`), with the user's access token and
 * openid (a {@link UserToken} of scope `snsapi_userinfo`). A refused or
 * expired token is a `UserTokenError` (`AccessTokenInvalid`,
 * `AccessTokenExpired`: {@link refresh} it), an openid that is not the
 * token's `InvalidOpenId`, a token of scope `snsapi_base` `ScopeTooNarrow`
 * (48001).
 *
 * @since 0.1.0
 * @category constructors
 */
export const userInfo = Effect.fn("UserToken.userInfo")(function*(
  token: Pick<UserToken, "accessToken" | "openid">,
  options: { readonly lang?: Lang } = {}
): Effect.fn.Return<Profile, WeChatError, WeChatClient> {
  yield* checkNonEmpty(token.accessToken, "access token", UserInfo.path)
  const client = yield* WeChatClient
  const answer = yield* client.execute(UserInfo, {
    accessToken: token.accessToken,
    query: { openid: token.openid, lang: options.lang ?? "zh_CN" }
  })
  return {
    openid: answer.openid,
    nickname: answer.nickname,
    headImageUrl: answer.headimgurl,
    privileges: answer.privilege,
    ...(answer.unionid === undefined || answer.unionid === "" ? {} : { unionid: answer.unionid })
  }
})
