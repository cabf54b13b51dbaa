/**
 * WeChat's side of the protocol, as state with lifetimes and the answers its
 * endpoints give: tickets (12 h), component tokens (7,200 s, the previous one
 * honoured for 5 minutes after a new one), pre-authorization codes (1,800 s,
 * single use), authorization codes (3,600 s, single use), authorizers with
 * their tokens, daily quotas. Time is the mock's clock, which tests advance.
 *
 * The state is a plain object, the one json-server's router shows under
 * `/__admin/state`. Nothing in it grows with traffic for ever: expired entries
 * are pruned, and live pre-authorization codes are capped across components
 * (`maxLivePreAuthCodes`; WeChat's own limit is not known).
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import { type Authorizer, type Component, defaultQuotas, type Endpoint, type MockConfig } from "../MockConfig.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface TicketRecord {
  readonly componentAppId: string
  readonly createdAt: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenRecord {
  readonly componentAppId: string
  readonly expiresAt: number
  supersededAt?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CodeRecord {
  readonly componentAppId: string
  readonly expiresAt: number
  usedAt?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthCodeRecord extends CodeRecord {
  readonly authorizerAppId: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationRecord {
  readonly componentAppId: string
  readonly authorizerAppId: string
  accessToken: string
  accessTokenExpiresAt: number
  refreshToken: string
  /** The refresh token a re-authorization replaced, honoured until `previousRefreshTokenUntil`. */
  previousRefreshToken?: string
  previousRefreshTokenUntil?: number
}

/**
 * Everything the mock WeChat holds.
 *
 * @since 0.1.0
 * @category models
 */
export interface State {
  components: Array<Component & { readonly id: string }>
  authorizers: Array<Authorizer & { readonly id: string }>
  tickets: Record<string, TicketRecord>
  tokens: Record<string, TokenRecord>
  preAuthCodes: Record<string, CodeRecord>
  authCodes: Record<string, AuthCodeRecord>
  authorizations: Record<string, AuthorizationRecord>
  quota: Record<string, number>
}

/**
 * A request to a WeChat endpoint, as the HTTP layer read it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly endpoint: string
  readonly method: string
  readonly query: Readonly<Record<string, string>>
  /** The body parsed as JSON, `undefined` when it is not JSON. */
  readonly json: unknown
  /** Read only for a body that is not JSON: node builds a request's headers when they are first read. */
  readonly contentType: () => string
  /** Read only for a component with an IP whitelist. */
  readonly ip: () => string
}

/**
 * A WeChat answer body (always HTTP 200, as WeChat answers).
 *
 * @since 0.1.0
 * @category models
 */
export type Answer = Readonly<Record<string, unknown>>

/**
 * WeChat's English texts, by errcode.
 *
 * @since 0.1.0
 * @category constants
 */
export const errmsgs: Readonly<Record<number, string>> = {
  [-1]: "system error",
  40001: "invalid credential, access_token is invalid or not latest",
  40013: "invalid appid",
  40125: "invalid appsecret",
  41001: "access_token missing",
  41002: "appid missing",
  41004: "appsecret missing",
  41018: "missing component_appid",
  42001: "access_token expired",
  45009: "reach max api daily quota limit",
  45011: "api minute-quota reach limit  mustslower  retry next minute",
  47001: "data format error",
  48001: "api unauthorized",
  61003: "component is not authorized by this account",
  61004: "access clientip is not registered",
  61005: "component ticket is expired",
  61006: "component ticket is invalid",
  61009: "code is invalid",
  61010: "code is expired",
  61011: "invalid component",
  61023: "refresh_token is invalid"
}

// Random bytes are drawn 64 KiB at a time: each draw is a call into OpenSSL that costs more than the bytes it gives, and a
// load test draws for every code it is issued.
let pool = Buffer.alloc(0)
let taken = 0
/** Where `bytes` fresh random bytes start in `pool`. */
const draw = (bytes: number): number => {
  if (taken + bytes > pool.length) {
    pool = Crypto.randomBytes(64 * 1024)
    taken = 0
  }
  taken += bytes
  return taken - bytes
}
const hex = (bytes: number) => {
  const from = draw(bytes)
  return pool.toString("hex", from, from + bytes)
}
const rid = () => `${hex(4)}-${hex(4)}-${hex(4)}`
/** `length` random base64url characters. */
const random = (length: number) => {
  const bytes = Math.ceil(length * 3 / 4)
  const from = draw(bytes)
  return pool.toString("base64url", from, from + bytes).slice(0, length)
}
/** An access token shaped like WeChat's: a short prefix, then opaque characters. */
const accessToken = (now: number) => `${Math.floor(now / 1000) % 100}_${random(120)}`

/**
 * A WeChat error body: the code, its text, and a fresh `rid`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const error = (errcode: number, text = errmsgs[errcode] ?? "unknown error"): Answer => ({
  errcode,
  errmsg: `${text} rid: ${rid()}`
})

/**
 * Keys in the order they were added, the oldest taken in O(1).
 *
 * @since 0.1.0
 * @category constructors
 */
export const queue = () => {
  let keys: Array<string | undefined> = []
  let front = 0
  return {
    get size(): number {
      return keys.length - front
    },
    /** The oldest key. */
    peek: (): string | undefined => keys[front],
    push: (key: string): void => void keys.push(key),
    shift: (): string | undefined => {
      const key = keys[front]
      if (key === undefined) return undefined
      keys[front++] = undefined
      // The slots taken are dropped once they are half the array: each key is moved once more, on average.
      if (front > 1024 && 2 * front > keys.length) {
        keys = keys.slice(front)
        front = 0
      }
      return key
    }
  }
}

const minute = 60_000
const lifetimes = {
  ticket: 12 * 60 * minute,
  componentToken: 7_200_000,
  grace: 5 * minute,
  preAuthCode: 1_800_000,
  authCode: 3_600_000,
  authorizerToken: 7_200_000
}

/**
 * The mock WeChat's state and behaviour.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: MockConfig, clock: { readonly now: () => number }) => {
  const initial = (): State => ({
    components: config.components.map((c) => ({ ...c, id: c.appId })),
    authorizers: config.authorizers.map((a) => ({ ...a, id: a.appId })),
    tickets: {},
    tokens: {},
    preAuthCodes: {},
    authCodes: {},
    authorizations: {},
    quota: {}
  })
  let state = initial()
  // The pre-authorization codes held, oldest first, and each component's newest token: the cap, pruning and a new
  // token find what they change at once rather than by enumerating codes or tokens (a `for…in` over 100,000 codes,
  // on every call once the cap was reached, was most of what a long load test measured).
  let issued = queue()
  let newestToken = new Map<string, string>()
  let lastPrune = clock.now()

  const component = (appId: string) => state.components.find((c) => c.appId === appId)

  const prune = (now: number = clock.now()) => {
    if (now - lastPrune < minute && now >= lastPrune) return
    lastPrune = now
    const day = new Date(now).toISOString().slice(0, 10)
    // Kept a while past their end, so that the mock still answers "expired" rather than "invalid".
    for (const [key, ticket] of Object.entries(state.tickets)) {
      if (now - ticket.createdAt > 2 * lifetimes.ticket) delete state.tickets[key]
    }
    for (const [key, token] of Object.entries(state.tokens)) {
      if (now - token.expiresAt > 60 * minute) delete state.tokens[key]
    }
    // Codes expire in the order they were issued (one lifetime, and a clock that moves forward): expired ones are
    // at the front.
    for (let code = issued.peek(); code !== undefined; code = issued.peek()) {
      const held = state.preAuthCodes[code]
      if (held !== undefined && now - held.expiresAt <= 60 * minute) break
      delete state.preAuthCodes[issued.shift()!]
    }
    for (const [key, code] of Object.entries(state.authCodes)) {
      if (now - code.expiresAt > 60 * minute) delete state.authCodes[key]
    }
    for (const key of Object.keys(state.quota)) {
      if (!key.startsWith(day)) delete state.quota[key]
    }
  }

  /** The component the body names, or WeChat's error for it. */
  const identify = (request: Request): { readonly component: Component } | { readonly refused: Answer } => {
    const appId = (request.json as Record<string, unknown>).component_appid
    if (appId === undefined || appId === "") return { refused: error(41018) }
    if (typeof appId !== "string" || !/^wx[0-9a-f]{16}$/.test(appId)) return { refused: error(40013) }
    const found = component(appId)
    if (found === undefined) return { refused: error(61011) }
    if (found.ipWhitelist !== undefined && !found.ipWhitelist.includes(request.ip())) {
      return { refused: error(61004, `${errmsgs[61004]} requestIP: ${request.ip()}`) }
    }
    return { component: found }
  }

  const checkToken = (request: Request, appId: string, now: number): Answer | undefined => {
    const token = request.query.component_access_token
    if (token === undefined || token === "") {
      // WeChat reads the token from the query string only; one sent in the body is an invalid credential.
      return "component_access_token" in (request.json as Record<string, unknown>) ? error(40001) : error(41001)
    }
    const record = state.tokens[token]
    if (record === undefined || record.componentAppId !== appId) return error(40001)
    if (record.expiresAt <= now) return error(42001)
    if (record.supersededAt !== undefined && now > record.supersededAt + lifetimes.grace) return error(40001)
    return undefined
  }

  const spend = (appId: string, endpoint: string, now: number): Answer | undefined => {
    const limit = config.quotas[endpoint as Endpoint] ?? defaultQuotas[endpoint as Endpoint]
    if (limit === undefined) return undefined
    const key = `${new Date(now).toISOString().slice(0, 10)}:${appId}:${endpoint}`
    const used = state.quota[key] ?? 0
    if (used >= limit) return error(45009)
    state.quota[key] = used + 1
    return undefined
  }

  const checkSecret = (given: unknown, expected: string): Answer | undefined =>
    given === undefined || given === "" ? error(41004) : given !== expected ? error(40125) : undefined

  const issueToken = (appId: string, now: number) => {
    // Only the newest token of a component is not superseded yet.
    const newest = state.tokens[newestToken.get(appId) ?? ""]
    if (newest !== undefined && newest.supersededAt === undefined) newest.supersededAt = now
    const token = accessToken(now)
    state.tokens[token] = { componentAppId: appId, expiresAt: now + lifetimes.componentToken }
    newestToken.set(appId, token)
    return token
  }

  const issuePreAuthCode = (appId: string, now: number) => {
    if (issued.size >= config.maxLivePreAuthCodes) delete state.preAuthCodes[issued.shift()!]
    const code = `preauthcode@@@${random(86)}`
    state.preAuthCodes[code] = { componentAppId: appId, expiresAt: now + lifetimes.preAuthCode }
    issued.push(code)
    return code
  }

  const handlers: Record<string, (request: Request, c: Component, now: number) => Answer> = {
    api_component_token: (request, c, now) => {
      const body = request.json as Record<string, unknown>
      const secret = checkSecret(body.component_appsecret, c.appSecret)
      if (secret !== undefined) return secret
      const ticket = typeof body.component_verify_ticket === "string" ? state.tickets[body.component_verify_ticket] : undefined
      if (ticket === undefined || ticket.componentAppId !== c.appId) return error(61006)
      if (now - ticket.createdAt >= lifetimes.ticket) return error(61005)
      return spend(c.appId, request.endpoint, now) ??
        { component_access_token: issueToken(c.appId, now), expires_in: lifetimes.componentToken / 1000 }
    },
    api_create_preauthcode: (request, c, now) =>
      checkToken(request, c.appId, now) ?? spend(c.appId, request.endpoint, now) ??
        { pre_auth_code: issuePreAuthCode(c.appId, now), expires_in: lifetimes.preAuthCode / 1000 },
    api_query_auth: (request, c, now) => {
      const refused = checkToken(request, c.appId, now) ?? spend(c.appId, request.endpoint, now)
      if (refused !== undefined) return refused
      const code = (request.json as Record<string, unknown>).authorization_code
      const record = typeof code === "string" ? state.authCodes[code] : undefined
      if (record === undefined || record.componentAppId !== c.appId) return error(61009)
      if (record.usedAt !== undefined || record.expiresAt <= now) return error(61010)
      record.usedAt = now
      const authorization = state.authorizations[`${c.appId}:${record.authorizerAppId}`]
      if (authorization === undefined) return error(61003)
      authorization.accessToken = accessToken(now)
      authorization.accessTokenExpiresAt = now + lifetimes.authorizerToken
      return {
        authorization_info: {
          authorizer_appid: record.authorizerAppId,
          authorizer_access_token: authorization.accessToken,
          expires_in: lifetimes.authorizerToken / 1000,
          authorizer_refresh_token: authorization.refreshToken,
          func_info: [{ funcscope_category: { id: 1 } }, { funcscope_category: { id: 18 } }]
        }
      }
    },
    api_authorizer_token: (request, c, now) => {
      const refused = checkToken(request, c.appId, now) ?? spend(c.appId, request.endpoint, now)
      if (refused !== undefined) return refused
      const body = request.json as Record<string, unknown>
      if (typeof body.authorizer_appid !== "string" || body.authorizer_appid === "") return error(41002)
      const authorization = state.authorizations[`${c.appId}:${body.authorizer_appid}`]
      if (authorization === undefined) return error(61003)
      const given = body.authorizer_refresh_token
      const current = given === authorization.refreshToken
      const previous = given === authorization.previousRefreshToken && now <= (authorization.previousRefreshTokenUntil ?? 0)
      if (!current && !previous) return error(61023)
      authorization.accessToken = accessToken(now)
      authorization.accessTokenExpiresAt = now + lifetimes.authorizerToken
      return {
        authorizer_access_token: authorization.accessToken,
        expires_in: lifetimes.authorizerToken / 1000,
        authorizer_refresh_token: authorization.refreshToken
      }
    },
    api_start_push_ticket: (request, c, now) =>
      checkSecret((request.json as Record<string, unknown>).component_secret, c.appSecret) ??
        spend(c.appId, request.endpoint, now) ?? { errcode: 0, errmsg: "ok" }
  }

  return {
    /** The current state; the object json-server's router shows. */
    get state(): State {
      return state
    },
    /** Back to the configured state: no tickets, tokens, codes or authorizations. */
    reset: (): State => {
      state = initial()
      issued = queue()
      newestToken = new Map()
      lastPrune = clock.now()
      return state
    },
    /** Drops expired state; runs at most once a minute of mock time. */
    prune: (): void => prune(),
    component,
    /** Answers one request to a WeChat endpoint. */
    answer: (request: Request): Answer => {
      const now = clock.now()
      prune(now)
      const handler = handlers[request.endpoint]
      if (handler === undefined) return error(48001)
      if (typeof request.json !== "object" || request.json === null || Array.isArray(request.json)) {
        return request.contentType().includes("application/x-www-form-urlencoded") ? error(41018) : error(47001)
      }
      const identified = identify(request)
      if ("refused" in identified) return identified.refused
      if (identified.component.deniedApis?.includes(request.endpoint as Endpoint)) return error(48001)
      return handler(request, identified.component, now)
    },
    /** A new verify ticket for a component, valid 12 hours from now. */
    issueTicket: (appId: string): { readonly ticket: string; readonly createdAt: number } => {
      const createdAt = clock.now()
      const ticket = `ticket@@@${random(86)}`
      state.tickets[ticket] = { componentAppId: appId, createdAt }
      return { ticket, createdAt }
    },
    /** The newest ticket of a component, if it has one. */
    currentTicket: (appId: string): { readonly ticket: string; readonly createdAt: number } | undefined => {
      let newest: { ticket: string; createdAt: number } | undefined
      for (const [ticket, record] of Object.entries(state.tickets)) {
        if (record.componentAppId === appId && (newest === undefined || record.createdAt >= newest.createdAt)) {
          newest = { ticket, createdAt: record.createdAt }
        }
      }
      return newest
    },
    /**
     * What the authorization page does when an account confirms: uses the
     * pre-authorization code (if given), records the authorization and issues an
     * authorization code.
     */
    authorize: (options: {
      readonly componentAppId: string
      readonly authorizerAppId: string
      readonly preAuthCode?: string
    }): { readonly authorizationCode: string; readonly expiresAt: number; readonly infoType: "authorized" | "updateauthorized" } | { readonly error: string } => {
      const now = clock.now()
      if (component(options.componentAppId) === undefined) return { error: "unknown component" }
      if (!state.authorizers.some((a) => a.appId === options.authorizerAppId)) return { error: "unknown authorizer" }
      if (options.preAuthCode !== undefined) {
        const code = state.preAuthCodes[options.preAuthCode]
        if (code === undefined || code.componentAppId !== options.componentAppId) return { error: "unknown pre_auth_code" }
        if (code.usedAt !== undefined) return { error: "pre_auth_code already used" }
        if (code.expiresAt <= now) return { error: "pre_auth_code expired" }
        code.usedAt = now
      }
      const key = `${options.componentAppId}:${options.authorizerAppId}`
      const existing = state.authorizations[key]
      // A re-authorization rotates the refresh token; the old one keeps working for the grace period.
      state.authorizations[key] = {
        componentAppId: options.componentAppId,
        authorizerAppId: options.authorizerAppId,
        accessToken: existing?.accessToken ?? "",
        accessTokenExpiresAt: existing?.accessTokenExpiresAt ?? 0,
        refreshToken: `refreshtoken@@@${random(40)}`,
        ...(existing === undefined
          ? {}
          : { previousRefreshToken: existing.refreshToken, previousRefreshTokenUntil: now + lifetimes.grace })
      }
      const authorizationCode = `queryauthcode@@@${random(86)}`
      const expiresAt = now + lifetimes.authCode
      state.authCodes[authorizationCode] = {
        componentAppId: options.componentAppId,
        authorizerAppId: options.authorizerAppId,
        expiresAt
      }
      return { authorizationCode, expiresAt, infoType: existing === undefined ? "authorized" : "updateauthorized" }
    },
    /** Removes an authorization; answers whether there was one. */
    revoke: (componentAppId: string, authorizerAppId: string): boolean => {
      const key = `${componentAppId}:${authorizerAppId}`
      const existed = state.authorizations[key] !== undefined
      delete state.authorizations[key]
      return existed
    }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type WeChatState = ReturnType<typeof make>
