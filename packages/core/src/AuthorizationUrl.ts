/**
 * The links a merchant opens to authorize the component: {@link pc} (the
 * page that shows a QR code to scan) and {@link mobile} (opened inside
 * WeChat). Every value is percent-encoded as a query component, `auth_type`
 * is always sent, and the mobile link ends in the `#wechat_redirect` fragment
 * that WeChat requires.
 *
 * The builders answer an `Either`: use it as a value, or `yield*` it in
 * `Effect.gen`. The host can be replaced (`baseUrl`) to point the link at the
 * wxopen mock.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { AuthorizationUrl } from "@wxopen/core"
 *
 * const link = AuthorizationUrl.mobile({
 *   componentAppId: "wx1234567890abcdef",
 *   preAuthCode: "preauthcode@@@...",
 *   redirectUri: "https://example.com/wechat/authorized?shop=42",
 *   authType: "MiniProgram"
 * })
 * if (Either.isRight(link)) console.log(link.right)
 * ```
 *
 * @since 0.1.0
 */
import { Either, Schema } from "effect"
import { describeInvalid, isAppId } from "./AppId.js"
import * as Url from "./internal/url.js"

/**
 * Which accounts the merchant may pick: official accounts only (1), mini
 * programs only (2), or both (3, WeChat's default).
 *
 * @since 0.1.0
 * @category models
 */
export type AuthType = "OfficialAccount" | "MiniProgram" | "Both"

const authTypeCode: Record<AuthType, number> = { OfficialAccount: 1, MiniProgram: 2, Both: 3 }

/**
 * The host of the PC link.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPcBaseUrl = "https://mp.weixin.qq.com"

/**
 * The host of the mobile link.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMobileBaseUrl = "https://open.weixin.qq.com"

/**
 * What an authorization link is made of.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The component's appid. */
  readonly componentAppId: string
  /** A fresh pre-authorization code (`PreAuthCode.create`); single use. */
  readonly preAuthCode: string
  /** Where WeChat sends the merchant back, with `auth_code`: an absolute http(s) URL. */
  readonly redirectUri: string
  /** Default `"Both"`. */
  readonly authType?: AuthType
  /** Pins the one account allowed to authorize; WeChat lets it win over a conflicting `authType`. */
  readonly bizAppId?: string
  /** The permission sets offered, by id; sent joined with `|`. */
  readonly categoryIds?: ReadonlyArray<number>
  /** Replaces the host (scheme, host and port), to point the link at the wxopen mock. */
  readonly baseUrl?: string
}

/**
 * An option that cannot make a valid link.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationUrlError extends Schema.TaggedError<AuthorizationUrlError>()("AuthorizationUrlError", {
  option: Schema.String,
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `cannot build the authorization link: ${this.option} ${this.detail}`
  }
}

const fail = (option: string, detail: string) => Either.left(new AuthorizationUrlError({ option, detail }))

const build = (
  defaultBaseUrl: string,
  path: string,
  leading: ReadonlyArray<readonly [string, string]>,
  fragment: string,
  options: Options
): Either.Either<string, AuthorizationUrlError> => {
  const base = Url.baseUrl(options.baseUrl, defaultBaseUrl)
  if (!base.ok) return fail("baseUrl", `must be an absolute http(s) URL without a query or fragment, got "${base.value}"`)
  if (!isAppId(options.componentAppId)) return fail("componentAppId", `is an ${describeInvalid(options.componentAppId)}`)
  if (options.preAuthCode.trim() === "") return fail("preAuthCode", "is empty")
  if (!Url.isAbsoluteHttp(options.redirectUri)) {
    return fail("redirectUri", `must be an absolute http(s) URL, got "${options.redirectUri}"`)
  }
  if (options.bizAppId !== undefined && !isAppId(options.bizAppId)) {
    return fail("bizAppId", `is an ${describeInvalid(options.bizAppId)}`)
  }
  const categoryIds = options.categoryIds ?? []
  if (categoryIds.some((id) => !Number.isSafeInteger(id) || id <= 0)) {
    return fail("categoryIds", `must be positive integers, got [${categoryIds.join(", ")}]`)
  }
  const params: ReadonlyArray<readonly [string, string]> = [
    ...leading,
    ["component_appid", options.componentAppId],
    ["pre_auth_code", options.preAuthCode],
    ["redirect_uri", options.redirectUri],
    ["auth_type", String(authTypeCode[options.authType ?? "Both"])],
    ...(options.bizAppId === undefined ? [] : [["biz_appid", options.bizAppId] as const]),
    ...(categoryIds.length === 0 ? [] : [["category_id_list", categoryIds.join("|")] as const])
  ]
  const query = params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&")
  return Either.right(`${base.value}${path}?${query}${fragment}`)
}

/**
 * The PC link: `…/cgi-bin/componentloginpage?component_appid=…`, opened in a
 * desktop browser, where the merchant's administrator scans a QR code.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pc = (options: Options): Either.Either<string, AuthorizationUrlError> =>
  build(defaultPcBaseUrl, "/cgi-bin/componentloginpage", [], "", options)

/**
 * The mobile link: `…/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&…#wechat_redirect`,
 * opened inside WeChat by the merchant's administrator.
 *
 * @since 0.1.0
 * @category constructors
 */
export const mobile = (options: Options): Either.Either<string, AuthorizationUrlError> =>
  build(
    defaultMobileBaseUrl,
    "/wxaopen/safe/bindcomponent",
    [["action", "bindcomponent"], ["no_scan", "1"]],
    "#wechat_redirect",
    options
  )
