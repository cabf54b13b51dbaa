/**
 * The profile of an account that authorized the component
 * (`api_get_authorizer_info`): Official Account or Mini Program, told apart in
 * the type, with WeChat's numeric types as literals that say what they mean,
 * and the permission sets the account granted.
 *
 * Reading a profile also repairs the store: when it holds no authorization
 * for the account (a refresh token lost, an exchange that never ran), the
 * refresh token in the answer is stored, as an authorization of unknown date
 * that any exchanged authorization outranks. An account that no longer
 * authorizes the component (61003) is forgotten.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AuthorizerProfile } from "@wxopen/core"
 *
 * const describeAccount = (authorizerAppId: string) =>
 *   Effect.map(AuthorizerProfile.get(authorizerAppId), (profile) =>
 *     profile._tag === "OfficialAccount"
 *       ? `${profile.nickname}: ${profile.serviceType} account, menus ${AuthorizerProfile.hasPermission(profile, 15) ? "granted" : "not granted"}`
 *       : `${profile.nickname}: mini program, ${profile.categories.length} categories`)
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import * as Authorizers from "./internal/authorizers.js"
import { type ComponentToken, type ComponentTokenError, execute } from "./ComponentToken.js"
import { TokenStore } from "./TokenStore.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"

/**
 * An Official Account's type (`service_type_info.id`): 0 subscription, 1 a
 * subscription account upgraded from an old account, 2 service account;
 * `Other` for an id WeChat has not documented (its `serviceTypeId` is kept).
 *
 * @since 0.1.0
 * @category models
 */
export type OfficialAccountType = "Subscription" | "UpgradedSubscription" | "Service" | "Other"

/**
 * A Mini Program's type (`service_type_info.id`): 0 standard, 12 trial, 4 mini
 * game, 10 mini shop; `Other` otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type MiniProgramType = "Standard" | "Trial" | "MiniGame" | "MiniShop" | "Other"

/**
 * How the account is verified (`verify_type_info.id`): -1 not verified, 0
 * WeChat verification, 1 Sina Weibo, 2 Tencent Weibo, 3 qualification
 * verified but not its name yet, 4 the same and Sina Weibo, 5 the same and
 * Tencent Weibo; `Other` otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type Verification =
  | "Unverified"
  | "WeChat"
  | "SinaWeibo"
  | "TencentWeibo"
  | "QualificationOnly"
  | "QualificationAndSinaWeibo"
  | "QualificationAndTencentWeibo"
  | "Other"

/**
 * What both kinds of account have.
 *
 * @since 0.1.0
 * @category models
 */
export interface Common {
  readonly authorizerAppId: string
  readonly nickname: string
  readonly headImage: string
  /** The original id, `gh_…`. */
  readonly userName: string
  /** The WeChat id the account set, or "". */
  readonly alias: string
  readonly principalName: string
  readonly qrcodeUrl: string
  readonly serviceTypeId: number
  readonly verification: Verification
  readonly verifyTypeId: number
  /** Whether WeChat verified the account in some way (`verify_type_info.id` ≥ 0). */
  readonly verified: boolean
  /** The permission sets (`funcscope_category` ids) the account granted the component. */
  readonly permissions: ReadonlyArray<number>
}

/**
 * An Official Account's profile.
 *
 * @since 0.1.0
 * @category models
 */
export interface OfficialAccount extends Common {
  readonly _tag: "OfficialAccount"
  readonly serviceType: OfficialAccountType
}

/**
 * A Mini Program's profile, with its configured domains and categories.
 *
 * @since 0.1.0
 * @category models
 */
export interface MiniProgram extends Common {
  readonly _tag: "MiniProgram"
  readonly serviceType: MiniProgramType
  readonly domains: {
    readonly request: ReadonlyArray<string>
    readonly webSocket: ReadonlyArray<string>
    readonly upload: ReadonlyArray<string>
    readonly download: ReadonlyArray<string>
  }
  readonly categories: ReadonlyArray<{ readonly first: string; readonly second: string }>
}

/**
 * An authorized account's profile.
 *
 * @since 0.1.0
 * @category models
 */
export type Profile = OfficialAccount | MiniProgram

/**
 * Whether the account granted the component a permission set
 * (`funcscope_category` id: 1 messages, 15 menus, 18 Mini Program
 * development, …).
 *
 * @since 0.1.0
 * @category predicates
 */
export const hasPermission = (profile: Profile, permission: number): boolean => profile.permissions.includes(permission)

const Strings = Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
const Text = Schema.optionalWith(Schema.String, { default: () => "" })

const GetAuthorizerInfo = endpoint({
  path: "/cgi-bin/component/api_get_authorizer_info",
  token: "component_access_token",
  response: Schema.Struct({
    authorizer_info: Schema.Struct({
      nick_name: Text,
      head_img: Text,
      service_type_info: Schema.Struct({ id: Schema.Number }),
      verify_type_info: Schema.Struct({ id: Schema.Number }),
      user_name: Text,
      alias: Text,
      qrcode_url: Text,
      principal_name: Text,
      MiniProgramInfo: Schema.optional(Schema.Struct({
        network: Schema.optionalWith(
          Schema.Struct({ RequestDomain: Strings, WsRequestDomain: Strings, UploadDomain: Strings, DownloadDomain: Strings }),
          { default: () => ({ RequestDomain: [], WsRequestDomain: [], UploadDomain: [], DownloadDomain: [] }) }
        ),
        categories: Schema.optionalWith(Schema.Array(Schema.Struct({ first: Schema.String, second: Schema.String })), {
          default: () => []
        })
      }))
    }),
    authorization_info: Schema.Struct({
      authorizer_appid: Schema.NonEmptyString,
      // Only for an account with API permissions, WeChat says: absent or empty otherwise.
      authorizer_refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
      func_info: Schema.optionalWith(
        Schema.Array(Schema.Struct({ funcscope_category: Schema.Struct({ id: Schema.Number }) })),
        { default: () => [] }
      )
    })
  })
})

const officialAccountTypes: Record<number, OfficialAccountType> = { 0: "Subscription", 1: "UpgradedSubscription", 2: "Service" }
const miniProgramTypes: Record<number, MiniProgramType> = { 0: "Standard", 12: "Trial", 4: "MiniGame", 10: "MiniShop" }
const verifications: Record<number, Verification> = {
  [-1]: "Unverified",
  0: "WeChat",
  1: "SinaWeibo",
  2: "TencentWeibo",
  3: "QualificationOnly",
  4: "QualificationAndSinaWeibo",
  5: "QualificationAndTencentWeibo"
}

/**
 * The profile of `authorizerAppId`, with the component token. Stores the
 * refresh token in the answer when the store holds none for the account.
 * An appid not of WeChat's form (`AppId`) fails with an `InvalidRequestError`
 * (`InvalidAppId`) before anything is sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const get = (
  authorizerAppId: string
): Effect.Effect<Profile, ComponentTokenError, WeChatClient | ComponentToken | TokenStore> =>
  Effect.gen(function*() {
    yield* Authorizers.checkAppId(authorizerAppId, GetAuthorizerInfo.path)
    const { appId } = (yield* WeChatClient).config
    const store = yield* TokenStore
    const forget = (account: string, revokedAt: number) => store.deleteAuthorizer(appId, account, revokedAt)
    const answer = yield* Authorizers.forgetIfRevoked(
      forget,
      authorizerAppId,
      execute(GetAuthorizerInfo, { body: { component_appid: appId, authorizer_appid: authorizerAppId } })
    )
    const { authorization_info: authorization, authorizer_info: info } = answer
    const refreshToken = authorization.authorizer_refresh_token
    if (refreshToken !== undefined && Redacted.value(refreshToken) !== "") {
      yield* Authorizers.refill(store, appId, authorizerAppId, refreshToken, 0)
    }
    const common: Common = {
      authorizerAppId: authorization.authorizer_appid,
      nickname: info.nick_name,
      headImage: info.head_img,
      userName: info.user_name,
      alias: info.alias,
      principalName: info.principal_name,
      qrcodeUrl: info.qrcode_url,
      serviceTypeId: info.service_type_info.id,
      verification: verifications[info.verify_type_info.id] ?? "Other",
      verifyTypeId: info.verify_type_info.id,
      verified: info.verify_type_info.id >= 0,
      permissions: authorization.func_info.map((f) => f.funcscope_category.id)
    }
    const mini = info.MiniProgramInfo
    if (mini === undefined) {
      return { _tag: "OfficialAccount", ...common, serviceType: officialAccountTypes[info.service_type_info.id] ?? "Other" } as const
    }
    const profile: MiniProgram = {
        _tag: "MiniProgram",
        ...common,
        serviceType: miniProgramTypes[info.service_type_info.id] ?? "Other",
        domains: {
          request: mini.network.RequestDomain,
          webSocket: mini.network.WsRequestDomain,
          upload: mini.network.UploadDomain,
          download: mini.network.DownloadDomain
        },
        categories: mini.categories
      }
    return profile
  }).pipe(Effect.withSpan("AuthorizerProfile.get", { attributes: { "wechat.authorizer_appid": authorizerAppId } }))
