/**
 * User login on an authorized account's behalf, as WeChat plays it for a
 * component: the OAuth page of an Official Account
 * (`/connect/oauth2/authorize?…&component_appid=`), the exchange of its code
 * (`/sns/oauth2/component/access_token`), the user token's refresh
 * (`/sns/oauth2/component/refresh_token`), the user's profile
 * (`/sns/userinfo`), and a Mini Program's `wx.login` code exchanged with
 * `/sns/component/jscode2session`.
 *
 * Codes live 5 minutes of mock time and are single use (40029 unknown,
 * expired, another account's or without `component_appid`; 40163 used); user
 * access tokens 7,200 s, refresh tokens 30 days. Codes and tokens are held in
 * insertion order, at most {@link maxLive} of each kind: past it, the oldest
 * goes, so that traffic cannot grow the mock's memory without bound.
 *
 * A user is an openid of one account: the caller picks it (`openid` on the
 * OAuth page, or in the admin call), or the account's default user answers,
 * an openid derived from the account's appid.
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import { type Answer, error, type WeChatState } from "./WeChatState.js"

/** The most codes, and the most user tokens, held at once (each kind on its own). */
export const maxLive = 10_000

const minute = 60_000
const lifetimes = { code: 5 * minute, accessToken: 7_200_000, refreshToken: 30 * 24 * 60 * minute }

/** The OAuth scopes of an Official Account's web page. */
export type Scope = "snsapi_base" | "snsapi_userinfo"

interface CodeRecord {
  readonly kind: "oauth" | "js"
  readonly componentAppId: string
  readonly authorizerAppId: string
  readonly openid: string
  readonly scope: Scope
  readonly expiresAt: number
  usedAt?: number
}

interface UserTokenRecord {
  readonly componentAppId: string
  readonly authorizerAppId: string
  readonly openid: string
  readonly scope: Scope
  readonly expiresAt: number
}

/** An openid as WeChat shapes them: `o` and 27 base64url characters. */
const openidPattern = /^[A-Za-z0-9_-]{1,64}$/

/** The default user of an account: a fixed openid derived from its appid. */
export const defaultOpenid = (authorizerAppId: string): string =>
  `o${Crypto.createHash("sha256").update(`wxopen-mock-user:${authorizerAppId}`).digest("base64url").slice(0, 27)}`

const secret = (prefix: string, bytes: number) => `${prefix}${Crypto.randomBytes(bytes).toString("base64url")}`

/** A Map that keeps at most `cap` entries, dropping the oldest. */
const bounded = <V>(cap: number) => {
  const map = new Map<string, V>()
  return {
    map,
    set: (key: string, value: V) => {
      if (map.size >= cap) map.delete(map.keys().next().value!)
      map.set(key, value)
    }
  }
}

/** Why an OAuth link is refused, as WeChat's page says it (its error code and text), or `undefined`. */
export interface PageProblem {
  readonly code: number
  readonly text: string
}

/**
 * The user-login state and answers of one mock.
 */
export const make = (state: WeChatState, clock: { readonly now: () => number }) => {
  let codes = bounded<CodeRecord>(maxLive)
  let accessTokens = bounded<UserTokenRecord>(maxLive)
  let refreshTokens = bounded<UserTokenRecord>(maxLive)
  let lastPrune = clock.now()

  const issueCode = (kind: CodeRecord["kind"], options: {
    readonly componentAppId: string
    readonly authorizerAppId: string
    readonly openid?: string | undefined
    readonly scope?: Scope | undefined
  }) => {
    const code = secret(kind === "oauth" ? "0" : "0j", 24)
    const openid = options.openid ?? defaultOpenid(options.authorizerAppId)
    codes.set(code, {
      kind,
      componentAppId: options.componentAppId,
      authorizerAppId: options.authorizerAppId,
      openid,
      scope: options.scope ?? "snsapi_base",
      expiresAt: clock.now() + lifetimes.code
    })
    return { code, openid }
  }

  /** Why the admin API may not issue a code for this account, or `undefined`. */
  const adminRefusal = (
    kind: CodeRecord["kind"],
    options: { readonly componentAppId: unknown; readonly authorizerAppId: unknown; readonly openid?: unknown; readonly scope?: unknown }
  ): string | undefined => {
    if (typeof options.componentAppId !== "string" || typeof options.authorizerAppId !== "string") {
      return "componentAppId and authorizerAppId are required"
    }
    if (state.component(options.componentAppId) === undefined) return "unknown component"
    const account = state.authorizer(options.authorizerAppId)
    if (account === undefined) return "unknown authorizer"
    const type = kind === "oauth" ? "officialAccount" : "miniProgram"
    if (account.type !== type) return `${options.authorizerAppId} is not ${kind === "oauth" ? "an Official Account" : "a Mini Program"}`
    if (!state.isAuthorized(options.componentAppId, options.authorizerAppId)) {
      return `${options.authorizerAppId} has not authorized ${options.componentAppId}: authorize it first (POST /__admin/authorizations)`
    }
    if (options.openid !== undefined && !(typeof options.openid === "string" && openidPattern.test(options.openid))) {
      return "openid must be 1 to 64 letters, digits, - or _"
    }
    if (options.scope !== undefined && options.scope !== "snsapi_base" && options.scope !== "snsapi_userinfo") {
      return "scope must be snsapi_base or snsapi_userinfo"
    }
    return undefined
  }

  /** The component named by `component_appid` and its access token checked; WeChat's error otherwise. */
  const checkComponent = (query: Readonly<Record<string, string>>, missing: Answer): Answer | undefined => {
    const componentAppId = query.component_appid
    if (componentAppId === undefined || componentAppId === "" || state.component(componentAppId) === undefined) return missing
    return state.componentTokenRefusal(componentAppId, query.component_access_token)
  }

  /** Takes a code of `kind` for `appid` and the component: the record, or WeChat's 40029 or 40163. */
  const takeCode = (kind: CodeRecord["kind"], code: string | undefined, query: Readonly<Record<string, string>>) => {
    const record = code === undefined ? undefined : codes.map.get(code)
    const now = clock.now()
    if (
      record === undefined || record.kind !== kind || record.authorizerAppId !== query.appid ||
      record.componentAppId !== query.component_appid || record.expiresAt <= now
    ) return { refused: error(40029) } as const
    if (record.usedAt !== undefined) return { refused: error(40163) } as const
    record.usedAt = now
    return { record } as const
  }

  const issueUserToken = (record: Omit<UserTokenRecord, "expiresAt">, refreshToken?: string) => {
    const now = clock.now()
    const accessToken = secret("", 60)
    accessTokens.set(accessToken, { ...record, expiresAt: now + lifetimes.accessToken })
    const refresh = refreshToken ?? secret("", 60)
    if (refreshToken === undefined) refreshTokens.set(refresh, { ...record, expiresAt: now + lifetimes.refreshToken })
    return {
      access_token: accessToken,
      expires_in: lifetimes.accessToken / 1000,
      refresh_token: refresh,
      openid: record.openid,
      scope: record.scope
    }
  }

  const grantType = (query: Readonly<Record<string, string>>, expected: string) =>
    query.grant_type === expected ? undefined : error(40002)

  /** The answers of the `/sns/…` endpoints, by path; each counts against the account's quota once the request is valid. */
  const endpoints: Readonly<Record<string, (query: Readonly<Record<string, string>>) => Answer>> = {
    "/sns/oauth2/component/access_token": (query) => {
      const refused = checkComponent(query, error(40029)) ?? grantType(query, "authorization_code") ??
        (query.appid === undefined || query.appid === "" ? error(41002) : undefined) ??
        state.spendAccountQuota(query.appid!, "/sns/oauth2/component/access_token")
      if (refused !== undefined) return refused
      const taken = takeCode("oauth", query.code, query)
      if (taken.refused !== undefined) return taken.refused
      const { authorizerAppId, componentAppId, openid, scope } = taken.record
      return issueUserToken({ componentAppId, authorizerAppId, openid, scope })
    },
    "/sns/oauth2/component/refresh_token": (query) => {
      const refused = checkComponent(query, error(41018)) ?? grantType(query, "refresh_token") ??
        (query.appid === undefined || query.appid === "" ? error(41002) : undefined) ??
        state.spendAccountQuota(query.appid!, "/sns/oauth2/component/refresh_token")
      if (refused !== undefined) return refused
      const record = query.refresh_token === undefined ? undefined : refreshTokens.map.get(query.refresh_token)
      if (record === undefined || record.authorizerAppId !== query.appid || record.componentAppId !== query.component_appid) {
        return error(40030)
      }
      if (record.expiresAt <= clock.now()) return error(42002)
      return issueUserToken(record, query.refresh_token)
    },
    "/sns/userinfo": (query) => {
      const token = query.access_token
      if (token === undefined || token === "") return error(41001)
      const record = accessTokens.map.get(token)
      if (record === undefined) return error(40001)
      if (record.expiresAt <= clock.now()) return error(42001)
      if (query.openid !== record.openid) return error(40003)
      if (record.scope !== "snsapi_userinfo") return error(48001)
      const spent = state.spendAccountQuota(record.authorizerAppId, "/sns/userinfo")
      if (spent !== undefined) return spent
      // Since October 2021 WeChat answers sex 0 and empty places for every user.
      return {
        openid: record.openid,
        nickname: `Mock User ${record.openid.slice(-6)}`,
        sex: 0,
        province: "",
        city: "",
        country: "",
        headimgurl: `https://thirdwx.qlogo.cn/mmopen/wxopen-mock-${record.openid}/132`,
        privilege: []
      }
    },
    "/sns/component/jscode2session": (query) => {
      const refused = checkComponent(query, error(40029)) ?? grantType(query, "authorization_code") ??
        (query.appid === undefined || query.appid === "" ? error(41002) : undefined) ??
        state.spendAccountQuota(query.appid!, "/sns/component/jscode2session")
      if (refused !== undefined) return refused
      const taken = takeCode("js", query.js_code, query)
      if (taken.refused !== undefined) return taken.refused
      return { openid: taken.record.openid, session_key: Crypto.randomBytes(16).toString("base64") }
    }
  }

  return {
    /** The answer of a `/sns/…` user-login endpoint, or `undefined` for another path. */
    answer: (path: string, query: Readonly<Record<string, string>>): Answer | undefined => endpoints[path]?.(query),
    /**
     * The OAuth page: why WeChat would refuse the link (its page's code and
     * text), or where it sends the browser, with a new code, once the user
     * agrees (this mock agrees at once).
     */
    authorize: (params: URLSearchParams): { readonly problem: PageProblem } | { readonly location: string } => {
      const appid = params.get("appid") ?? ""
      const componentAppId = params.get("component_appid") ?? ""
      const redirectUri = params.get("redirect_uri") ?? ""
      const scope = params.get("scope") ?? ""
      const openid = params.get("openid") ?? undefined
      if (appid === "") return { problem: { code: 10012, text: "appid不能为空 (appid is missing)" } }
      if (redirectUri === "") return { problem: { code: 10011, text: "redirect_uri不能为空 (redirect_uri is missing)" } }
      if (scope === "") return { problem: { code: 10010, text: "scope不能为空 (scope is missing)" } }
      if (scope !== "snsapi_base" && scope !== "snsapi_userinfo") {
        return { problem: { code: 10005, text: "此公众号并没有这些scope的权限 (scope must be snsapi_base or snsapi_userinfo)" } }
      }
      if (params.get("response_type") !== "code") return { problem: { code: 10001, text: "参数错误 (response_type must be code)" } }
      if (componentAppId === "" || state.component(componentAppId) === undefined) {
        return {
          problem: {
            code: 10003,
            text: "redirect_uri域名与后台配置不一致 (a component's link needs component_appid, the appid of a component of this mock)"
          }
        }
      }
      const account = state.authorizer(appid)
      if (account === undefined || account.type !== "officialAccount") {
        return { problem: { code: 10016, text: "不支持的Appid (appid is not an Official Account of this mock)" } }
      }
      if (!state.isAuthorized(componentAppId, appid)) {
        return { problem: { code: 10015, text: "公众号未授权第三方平台，请检查授权状态 (the account has not authorized this component)" } }
      }
      let target: URL
      try {
        target = new URL(redirectUri)
      } catch {
        return { problem: { code: 10003, text: "redirect_uri参数错误 (redirect_uri must be an absolute http(s) URL)" } }
      }
      if (target.protocol !== "http:" && target.protocol !== "https:") {
        return { problem: { code: 10003, text: "redirect_uri参数错误 (redirect_uri must be an absolute http(s) URL)" } }
      }
      if (openid !== undefined && !openidPattern.test(openid)) {
        return { problem: { code: 10001, text: "参数错误 (openid, the mock's choice of user, must be 1 to 64 letters, digits, - or _)" } }
      }
      const { code } = issueCode("oauth", { componentAppId, authorizerAppId: appid, openid, scope })
      target.searchParams.append("code", code)
      target.searchParams.append("state", params.get("state") ?? "")
      target.searchParams.append("appid", appid)
      return { location: target.toString() }
    },
    /** A code issued as the OAuth page would, for the admin API: its refusal, or the code and the user. */
    issueOAuthCode: (options: {
      readonly componentAppId: unknown
      readonly authorizerAppId: unknown
      readonly openid?: unknown
      readonly scope?: unknown
    }): { readonly error: string } | { readonly code: string; readonly openid: string } => {
      const refused = adminRefusal("oauth", options)
      return refused === undefined
        ? issueCode("oauth", options as { componentAppId: string; authorizerAppId: string; openid?: string; scope?: Scope })
        : { error: refused }
    },
    /** A Mini Program's `wx.login` code, for the admin API: its refusal, or the code and the user. */
    issueJsCode: (options: { readonly componentAppId: unknown; readonly authorizerAppId: unknown; readonly openid?: unknown }):
      | { readonly error: string }
      | { readonly code: string; readonly openid: string } => {
      const refused = adminRefusal("js", { ...options, scope: undefined })
      return refused === undefined
        ? issueCode("js", options as { componentAppId: string; authorizerAppId: string; openid?: string })
        : { error: refused }
    },
    /** Drops what expired an hour ago or more; runs at most once a minute of mock time. */
    prune: (): void => {
      const now = clock.now()
      if (now - lastPrune < minute && now >= lastPrune) return
      lastPrune = now
      for (const held of [codes.map, accessTokens.map, refreshTokens.map] as Array<Map<string, { expiresAt: number }>>) {
        for (const [key, record] of held) if (now - record.expiresAt > 60 * minute) held.delete(key)
      }
    },
    /** How many codes and user tokens are held. */
    sizes: () => ({ codes: codes.map.size, accessTokens: accessTokens.map.size, refreshTokens: refreshTokens.map.size }),
    reset: (): void => {
      codes = bounded(maxLive)
      accessTokens = bounded(maxLive)
      refreshTokens = bounded(maxLive)
    }
  }
}

/** @internal */
export type UserLogin = ReturnType<typeof make>
