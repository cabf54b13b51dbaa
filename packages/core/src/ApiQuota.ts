/**
 * An API's daily quota: how much of it is used and left
 * (`openapi/quota/get`), and resets, which are never automatic.
 *
 * A 45009 (`QuotaError`, `Daily`) ends an API's calls until midnight. A reset
 * lifts it now, but each account has 10 resets a month (`clear_quota` and
 * `clear_quota/v2` together), so wxopen never resets on its own: a loop that
 * reset on every 45009 would spend the month's resets in minutes. Call
 * {@link reset} deliberately, once the cause (often a process fetching tokens
 * without a shared store) is fixed. {@link resetWithSecret} is for when no
 * token can be had (the token endpoint itself is out of quota): it sends the
 * app secret in the body, never in a log, span or error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApiQuota } from "@wxopen/core"
 *
 * const report = Effect.gen(function*() {
 *   const quota = yield* ApiQuota.get("/cgi-bin/component/api_create_preauthcode")
 *   yield* Effect.log(`${quota.used} of ${quota.dailyLimit} used, ${quota.remain} left`)
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import type { AuthorizerToken, AuthorizerTokenError } from "./AuthorizerToken.js"
import * as AuthorizerTokenModule from "./AuthorizerToken.js"
import type { ComponentToken } from "./ComponentToken.js"
import * as ComponentTokenModule from "./ComponentToken.js"
import { checkAppId, checkNonEmpty } from "./internal/authorizers.js"
import { type Endpoint, endpoint, type Request, WeChatClient } from "./WeChatClient.js"
import type { WeChatError } from "./WeChatError.js"

/**
 * An API's quota today, as WeChat counts it (within about 1%).
 *
 * @since 0.1.0
 * @category models
 */
export interface Quota {
  readonly dailyLimit: number
  readonly used: number
  readonly remain: number
  /** The rate limit, when WeChat sets one: at most `callCount` calls every `refreshSeconds` seconds. */
  readonly rateLimit?: RateLimit
}

/**
 * A rate limit: at most `callCount` calls every `refreshSeconds` seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimit {
  readonly callCount: number
  readonly refreshSeconds: number
}

/**
 * Whose quota: the component's (none given) or an account's, with its token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly authorizerAppId?: string
}

const RateLimitAnswer = Schema.Struct({ call_count: Schema.Number, refresh_second: Schema.Number })

const GetQuota = endpoint({
  path: "/cgi-bin/openapi/quota/get",
  token: "access_token",
  response: Schema.Struct({
    quota: Schema.Struct({ daily_limit: Schema.Number, used: Schema.Number, remain: Schema.Number }),
    rate_limit: Schema.optional(RateLimitAnswer)
  })
})

const Ok = Schema.Struct({})

// A reset spends one of the month's 10: sent once, resent only after an answer that says nothing was done (-1, 45011),
// never after a timeout, a reset connection or a 5xx, after which WeChat may have done it.
const ClearQuota = endpoint({ path: "/cgi-bin/clear_quota", token: "access_token", singleUse: true, response: Ok })

const ClearQuotaWithSecret = endpoint({ path: "/cgi-bin/component/clear_quota/v2", singleUse: true, response: Ok })

// With the component token, or an account's when one is named.
const asOwner = <A, I>(
  target: Endpoint<A, I>,
  request: Request,
  authorizerAppId: string | undefined
): Effect.Effect<A, AuthorizerTokenError, WeChatClient | ComponentToken | AuthorizerToken> =>
  authorizerAppId === undefined
    ? ComponentTokenModule.execute(target, request)
    : Effect.zipRight(
      Effect.zipRight(
        Effect.annotateCurrentSpan("wechat.authorizer_appid", authorizerAppId),
        checkAppId(authorizerAppId, target.path)
      ),
      AuthorizerTokenModule.execute(authorizerAppId, target, request)
    )

/**
 * The daily quota of the API at `cgiPath` (`/cgi-bin/message/custom/send`,
 * from its leading slash): the component's, or with `authorizerAppId` that
 * account's. A path WeChat does not know is a `QuotaQueryError`
 * (`UnknownPath`), one it reports no quota for `NotQueryable`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = Effect.fn("ApiQuota.get")(function*(
  cgiPath: string,
  options: Options = {}
): Effect.fn.Return<Quota, AuthorizerTokenError, WeChatClient | ComponentToken | AuthorizerToken> {
  yield* Effect.annotateCurrentSpan("wechat.cgi_path", cgiPath)
  yield* checkNonEmpty(Redacted.make(cgiPath), "cgi_path", GetQuota.path)
  const answer = yield* asOwner(GetQuota, { body: { cgi_path: cgiPath } }, options.authorizerAppId)
  const { rate_limit: rate } = answer
  return {
    dailyLimit: answer.quota.daily_limit,
    used: answer.quota.used,
    remain: answer.quota.remain,
    ...(rate === undefined ? {} : { rateLimit: { callCount: rate.call_count, refreshSeconds: rate.refresh_second } })
  }
})

/**
 * Resets every daily quota of the component, or with `authorizerAppId` of
 * that account, with its token (`cgi-bin/clear_quota`). Spends one of the
 * account's 10 resets this month: call it deliberately, never in a loop or on
 * every 45009. None left is a `QuotaError` (`NoResetsLeft`, 48006).
 *
 * @since 0.1.0
 * @category mutations
 */
export const reset = Effect.fn("ApiQuota.reset")(function*(
  options: Options = {}
): Effect.fn.Return<void, AuthorizerTokenError, WeChatClient | ComponentToken | AuthorizerToken> {
  const { appId } = (yield* WeChatClient).config
  yield* asOwner(ClearQuota, { body: { appid: options.authorizerAppId ?? appId } }, options.authorizerAppId)
})

/**
 * Resets every daily quota of the component, or with `appId` of an account
 * that authorized it, with the component's app secret instead of a token
 * (`cgi-bin/component/clear_quota/v2`): for when no token can be had, the
 * token endpoint being out of quota itself. Spends one of the account's 10
 * resets this month, shared with {@link reset}. The secret is sent in the
 * body only, never in a log, span or error. None left is a `QuotaError`
 * (`NoResetsLeft`, 48006), a wrong secret an `AppSecretError`.
 *
 * @since 0.1.0
 * @category mutations
 */
export const resetWithSecret = Effect.fn("ApiQuota.resetWithSecret")(function*(
  options: { readonly appId?: string } = {}
): Effect.fn.Return<void, WeChatError, WeChatClient> {
  const client = yield* WeChatClient
  const { appId: componentAppId, appSecret } = client.config
  if (options.appId !== undefined) {
    yield* Effect.annotateCurrentSpan("wechat.authorizer_appid", options.appId)
    yield* checkAppId(options.appId, ClearQuotaWithSecret.path)
  }
  yield* client.execute(ClearQuotaWithSecret, {
    body: {
      component_appid: componentAppId,
      appsecret: Redacted.value(appSecret),
      ...(options.appId === undefined ? {} : { appid: options.appId })
    }
  })
})
