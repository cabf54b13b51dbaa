/**
 * Pre-authorization codes (`api_create_preauthcode`): the single-use code an
 * authorization link is built from.
 *
 * A code is never cached: WeChat accepts each one for one authorization, so
 * every call to {@link create} asks WeChat for a fresh one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AuthorizationUrl, ComponentConfig, PreAuthCode } from "@wxopen/core"
 *
 * const link = Effect.gen(function*() {
 *   const { appId } = yield* ComponentConfig.ComponentConfig
 *   const code = yield* PreAuthCode.create
 *   return yield* AuthorizationUrl.pc({
 *     componentAppId: appId,
 *     preAuthCode: code.code,
 *     redirectUri: "https://example.com/wechat/authorized"
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Clock, DateTime, Effect, Schema } from "effect"
import { type ComponentToken, ComponentTokenError, execute } from "./ComponentToken.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"

/**
 * A pre-authorization code, its lifetime in seconds as WeChat gave it, and
 * when it expires (counted from when the request was sent).
 *
 * @since 0.1.0
 * @category models
 */
export class PreAuthCode extends Schema.Class<PreAuthCode>("@wxopen/core/PreAuthCode")({
  code: Schema.NonEmptyString,
  expiresIn: Schema.Number,
  expiresAt: Schema.DateTimeUtcFromSelf
}) {}

/**
 * What can go wrong while creating a pre-authorization code.
 *
 * @since 0.1.0
 * @category errors
 */
export type PreAuthCodeError = ComponentTokenError

/**
 * The schema of {@link PreAuthCodeError}.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PreAuthCodeError = ComponentTokenError

const Create = endpoint({
  path: "/cgi-bin/component/api_create_preauthcode",
  token: "component_access_token",
  response: Schema.Struct({
    pre_auth_code: Schema.NonEmptyString,
    expires_in: Schema.Number.pipe(Schema.int(), Schema.positive())
  })
})

/**
 * Asks WeChat for a fresh pre-authorization code.
 *
 * @since 0.1.0
 * @category constructors
 */
export const create: Effect.Effect<PreAuthCode, PreAuthCodeError, WeChatClient | ComponentToken> = Effect.gen(function*() {
  const { config } = yield* WeChatClient
  const sentAt = yield* Clock.currentTimeMillis
  const answer = yield* execute(Create, { body: { component_appid: config.appId } })
  // The fields come from a decoded answer: checking them again on construction would only cost time.
  return new PreAuthCode({
    code: answer.pre_auth_code,
    expiresIn: answer.expires_in,
    expiresAt: DateTime.unsafeMake(sentAt + answer.expires_in * 1000)
  }, true)
}).pipe(Effect.withSpan("PreAuthCode.create"))
