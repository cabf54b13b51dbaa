/**
 * The link that logs a user of an authorized Official Account into the
 * account's web pages, through the component (网页授权, on the account's
 * behalf): `…/connect/oauth2/authorize?appid=ACCOUNT&redirect_uri=…&response_type=code&scope=…&state=…&component_appid=COMPONENT#wechat_redirect`.
 *
 * `component_appid` is always the configured component's: a link built by
 * hand without it sends the user back with a code that WeChat refuses (40029).
 * The user comes back to `redirectUri` with `code` and `state` in the query;
 * `UserToken.exchange` turns the code into the user's tokens. The host can be
 * replaced (`baseUrl`) to point the link at the wxopen mock.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { UserAuthorizationUrl } from "@wxopen/core"
 *
 * const loginLink = UserAuthorizationUrl.make({
 *   authorizerAppId: "wxa1b2c3d4e5f60001",
 *   redirectUri: "https://shop.example/wechat/login?next=%2Forders",
 *   scope: "snsapi_userinfo",
 *   state: "k3J9x"
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { describeInvalid, isAppId } from "./AppId.js"
import { AuthorizationUrlError } from "./AuthorizationUrl.js"
import * as Url from "./internal/url.js"
import { WeChatClient } from "./WeChatClient.js"

/**
 * What the user is asked for: `snsapi_base` the openid alone, without asking
 * the user; `snsapi_userinfo` the profile too (`UserToken.userInfo`), after
 * the user agrees.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "snsapi_base" | "snsapi_userinfo"

/**
 * The host of the link.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://open.weixin.qq.com"

/**
 * The longest `state` WeChat accepts, in characters of `[a-zA-Z0-9]`.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxStateLength = 128

/**
 * What a user's login link is made of.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The Official Account the user logs into, which authorized the component. */
  readonly authorizerAppId: string
  /** Where WeChat sends the user back, with `code` and `state`: an absolute http(s) URL on the account's web domain. */
  readonly redirectUri: string
  readonly scope: Scope
  /** Handed back on the redirect, to tie it to the session that sent the user: at most 128 letters and digits. */
  readonly state?: string
  /** Replaces the host (scheme, host and port), to point the link at the wxopen mock. */
  readonly baseUrl?: string
}

const scopes: ReadonlyArray<Scope> = ["snsapi_base", "snsapi_userinfo"]

/**
 * The link, with the configured component's appid in `component_appid`. An
 * option that cannot make a valid link fails with an `AuthorizationUrlError`
 * naming it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<string, AuthorizationUrlError, WeChatClient> =>
  Effect.flatMap(WeChatClient, ({ config }) => {
    const fail = (option: string, detail: string) => Effect.fail(new AuthorizationUrlError({ option, detail }))
    const base = Url.baseUrl(options.baseUrl, defaultBaseUrl)
    if (!base.ok) return fail("baseUrl", `must be an absolute http(s) URL without a query or fragment, got "${base.value}"`)
    if (!isAppId(options.authorizerAppId)) return fail("authorizerAppId", `is an ${describeInvalid(options.authorizerAppId)}`)
    if (!Url.isAbsoluteHttp(options.redirectUri)) {
      return fail("redirectUri", `must be an absolute http(s) URL, got "${options.redirectUri}"`)
    }
    if (!scopes.includes(options.scope)) {
      return fail("scope", `must be "snsapi_base" or "snsapi_userinfo", got ${JSON.stringify(options.scope)}`)
    }
    if (options.state !== undefined && !/^[a-zA-Z0-9]*$/.test(options.state)) {
      return fail("state", "may hold only letters and digits: keep anything else server-side, under a key you put in state")
    }
    if (options.state !== undefined && options.state.length > maxStateLength) {
      return fail("state", `is ${options.state.length} characters long; WeChat takes at most ${maxStateLength}`)
    }
    const params: ReadonlyArray<readonly [string, string]> = [
      ["appid", options.authorizerAppId],
      ["redirect_uri", options.redirectUri],
      ["response_type", "code"],
      ["scope", options.scope],
      ...(options.state === undefined ? [] : [["state", options.state] as const]),
      ["component_appid", config.appId]
    ]
    const query = params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&")
    return Effect.succeed(`${base.value}/connect/oauth2/authorize?${query}#wechat_redirect`)
  })
