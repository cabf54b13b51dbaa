/**
 * WeChat's side of the protocol, as state with lifetimes and the answers its
 * endpoints give: tickets (12 h), component tokens (7,200 s, the previous one
 * honoured for 5 minutes after a new one), pre-authorization codes (1,800 s,
 * single use), authorization codes (3,600 s, single use), authorizers with
 * their tokens, daily quotas. Time is the mock's clock, which tests advance.
 *
 * The state is a plain object, the one json-server's router shows under
 * `/__admin/state`, but for the pre-authorization codes, which a load test
 * makes by the hundred thousand: they are held compactly (see {@link codes})
 * and shown as a copy. Nothing grows with traffic for ever: expired entries
 * are pruned, and live pre-authorization codes are capped across components
 * (`maxLivePreAuthCodes`; WeChat's own limit is not known).
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import {
  type AuthorizerProfile,
  type Component,
  defaultApiQuota,
  defaultQuotas,
  type Endpoint,
  type MockConfig,
  withDefaults
} from "../MockConfig.js"
import * as Permissions from "../Permissions.js"

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
  /** The permission sets (`funcscope_category` ids) the account granted. */
  permissions: ReadonlyArray<number>
  /** When the account (last) authorized, mock time in milliseconds. */
  authTime: number
}

/**
 * An authorizer access token, indexed by its value so that an account call
 * finds it at once.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizerTokenRecord {
  readonly componentAppId: string
  readonly authorizerAppId: string
  readonly expiresAt: number
  /** When a newer token replaced it (refresh or re-authorization); honoured 5 minutes more. */
  replacedAt?: number
  /** When the admin API retired it (`invalidate-token`): 40001 from then on. */
  invalidatedAt?: number
  /** The account revoked the authorization: 61003 while it has not authorized again. */
  revoked?: boolean
}

/**
 * Everything the mock WeChat holds.
 *
 * @since 0.1.0
 * @category models
 */
export interface State {
  components: Array<Component & { readonly id: string }>
  authorizers: Array<AuthorizerProfile & { readonly id: string }>
  tickets: Record<string, TicketRecord>
  tokens: Record<string, TokenRecord>
  /** A copy of the codes held, oldest first, made when it is read. */
  readonly preAuthCodes: Readonly<Record<string, CodeRecord>>
  authCodes: Record<string, AuthCodeRecord>
  authorizations: Record<string, AuthorizationRecord>
  authorizerTokens: Record<string, AuthorizerTokenRecord>
  /** Calls made today, by `day:appId:endpoint` for a component and `day:authorizerAppId:/path` for an account. */
  quota: Record<string, number>
  /** Quota resets made this month (mock time), by `month:appId` (a component's or an account's); 10 allowed. */
  quotaResets: Record<string, number>
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
 * An account's call to an Official Account or Mini Program API, as the HTTP
 * layer read it.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountRequest {
  readonly path: string
  readonly query: Readonly<Record<string, string>>
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
  40002: "invalid grant_type",
  40003: "invalid openid",
  40029: "invalid code",
  40030: "invalid refresh_token",
  40163: "code been used",
  40013: "invalid appid",
  40125: "invalid appsecret",
  41001: "access_token missing",
  41002: "appid missing",
  41004: "appsecret missing",
  40008: "invalid message type",
  40066: "invalid url",
  40097: "invalid args",
  40170: "args count exceed count limit",
  41018: "missing component_appid",
  42001: "access_token expired",
  42002: "refresh_token expired",
  43001: "require GET method",
  43002: "require POST method",
  44004: "empty content",
  45009: "reach max api daily quota limit",
  45011: "api minute-quota reach limit  mustslower  retry next minute",
  47001: "data format error",
  48001: "api unauthorized",
  61003: "component is not authorized by this account",
  61004: "access clientip is not registered",
  61005: "component ticket is expired",
  61006: "component ticket is invalid",
  61007: "api is unauthorized to component",
  61009: "code is invalid",
  61010: "code is expired",
  61011: "invalid component",
  61023: "refresh_token is invalid",
  48006: "forbid to clear quota because of reaching the limit",
  76001: "rid not found",
  76002: "rid is error",
  76003: "could not query this rid,no permission",
  76021: "cgi_path not found, please check",
  76022: "could not use this cgi_path,no permission"
}

// Random bytes are drawn 64 KiB at a time: each draw is a call into OpenSSL that costs more than the bytes it gives, and a
// load test draws for every code it is issued.
// A record of a plain-object table by a key from a request: its own entries only, so that `__proto__` or
// `constructor` finds nothing.
const own = <A>(table: Readonly<Record<string, A>>, key: string): A | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined

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
const base64url = Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", "latin1")
const scratch = Buffer.alloc(256)
/**
 * `prefix`, then `length` random base64url characters, as one flat string: a string built with a template and
 * `slice` is three heap objects (a concatenation, a slice, the string sliced), and the mock holds 100,000 codes.
 */
const random = (prefix: string, length: number) => {
  const from = draw(length)
  scratch.write(prefix, "latin1")
  for (let i = 0; i < length; i++) scratch[prefix.length + i] = base64url[pool[from + i]! & 63]!
  return scratch.toString("latin1", 0, prefix.length + length)
}
/**
 * An access token shaped like WeChat's (`50_Im7…`): two digits and an underscore, then 120 opaque characters,
 * always 123 characters long (so an output that shows a token's length does not change from run to run).
 */
const accessToken = (now: number) => random(`${String(Math.floor(now / 1000) % 100).padStart(2, "0")}_`, 120)

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
 * Codes held, oldest first, at most `cap` of them, with the component each
 * was issued to, its expiry and its use: a ring of parallel arrays, a slot
 * per code, and a Map from a code to its sequence number (its slot, modulo
 * the ring's size). A code costs its string and an entry of the Map. As a
 * record, a property of the state object, it cost six heap objects (the
 * record, its boxed expiry, the property's key, and the code as the queue of
 * codes held it: a concatenation, a slice, the string sliced), each marked
 * by every major GC: 100,000 codes at
 * the default cap took 23 MB and added about 30 ms to a full GC, against
 * 16 MB and about 1 ms held so.
 *
 * @since 0.1.0
 * @category constructors
 */
export const codes = (cap: number) => {
  const index = new Map<string, number>()
  // The ring grows by doubling up to the cap, so that a mock that holds a few codes (a test's) allocates a little.
  let size = Math.min(cap, 1024)
  // Filled at their full length: written from the middle, an empty array would turn into a dictionary.
  let keys: Array<string> = new Array<string>(size).fill("")
  let owners: Array<string> = new Array<string>(size).fill("")
  let expiries = new Float64Array(size)
  // NaN: not used yet.
  let uses = new Float64Array(size)
  let head = 0
  let tail = 0
  const grow = () => {
    const next = Math.min(cap, 2 * size)
    const [oldKeys, oldOwners, oldExpiries, oldUses] = [keys, owners, expiries, uses]
    keys = new Array<string>(next).fill("")
    owners = new Array<string>(next).fill("")
    expiries = new Float64Array(next)
    uses = new Float64Array(next)
    for (let n = head; n < tail; n++) {
      keys[n % next] = oldKeys[n % size]!
      owners[n % next] = oldOwners[n % size]!
      expiries[n % next] = oldExpiries[n % size]!
      uses[n % next] = oldUses[n % size]!
    }
    size = next
  }
  const shift = () => {
    index.delete(keys[head % size]!)
    head++
  }
  const slotOf = (code: string): number | undefined => {
    const n = index.get(code)
    return n === undefined ? undefined : n % size
  }
  const record = (slot: number): CodeRecord => ({
    componentAppId: owners[slot]!,
    expiresAt: expiries[slot]!,
    ...(Number.isNaN(uses[slot]) ? {} : { usedAt: uses[slot]! })
  })
  return {
    get size(): number {
      return tail - head
    },
    /** Holds a new code; past the cap, the oldest goes. */
    add: (code: string, componentAppId: string, expiresAt: number): void => {
      if (tail - head >= cap) shift()
      if (tail - head === size) grow()
      const slot = tail % size
      keys[slot] = code
      owners[slot] = componentAppId
      expiries[slot] = expiresAt
      uses[slot] = Number.NaN
      index.set(code, tail++)
    },
    get: (code: string): CodeRecord | undefined => {
      const slot = slotOf(code)
      return slot === undefined ? undefined : record(slot)
    },
    use: (code: string, at: number): void => {
      const slot = slotOf(code)
      if (slot !== undefined) uses[slot] = at
    },
    /** Drops the oldest codes as long as `expired` says so of their expiry. */
    dropWhile: (expired: (expiresAt: number) => boolean): void => {
      while (head < tail && expired(expiries[head % size]!)) shift()
    },
    /** A copy, oldest first. */
    toRecord: (): Record<string, CodeRecord> => {
      const copy: Record<string, CodeRecord> = {}
      for (let n = head; n < tail; n++) copy[keys[n % size]!] = record(n % size)
      return copy
    }
  }
}

/**
 * WeChat's release-check test accounts (the first group of its documentation):
 * they exist for every component, outside the configured authorizers, and
 * the release check authorizes them.
 *
 * @since 0.1.0
 * @category constants
 */
export const testAccounts: Readonly<Record<"officialAccount" | "miniProgram", AuthorizerProfile>> = {
  officialAccount: withDefaults({
    appId: "wx570bc396a51b8ff8",
    name: "全网发布测试公众号",
    type: "officialAccount",
    serviceType: 2,
    userName: "gh_3c884a361561"
  }),
  miniProgram: withDefaults({ appId: "wxd101a85aa106f53e", name: "全网发布测试小程序", type: "miniProgram", userName: "gh_8dad206e9538" })
}

const minute = 60_000
/** The most accounts `api_get_authorizer_list` answers at once. */
const maxListCount = 500
/**
 * The quota resets an account (or a component) may make in a calendar month,
 * `clear_quota` and `clear_quota/v2` together, as WeChat allows.
 *
 * @since 0.1.0
 * @category constants
 */
export const quotaResetsPerMonth = 10

/**
 * Whose a token is: a component's (its component access token) or an
 * account's (an authorizer access token), by appid.
 *
 * @since 0.1.0
 * @category models
 */
export type Owner =
  | { readonly kind: "component"; readonly appId: string }
  | { readonly kind: "account"; readonly appId: string; readonly componentAppId: string }

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
  let preAuthCodes = codes(config.maxLivePreAuthCodes)
  const initial = (): State => ({
    components: config.components.map((c) => ({ ...c, id: c.appId })),
    authorizers: config.authorizers.map((a) => ({ ...withDefaults(a), id: a.appId })),
    tickets: {},
    tokens: {},
    get preAuthCodes() {
      return preAuthCodes.toRecord()
    },
    authCodes: {},
    authorizations: {},
    authorizerTokens: {},
    quota: {},
    quotaResets: {}
  })
  let state = initial()
  // Each component's newest token: a new token finds the one it supersedes at once rather than by enumerating tokens.
  let newestToken = new Map<string, string>()
  let lastPrune = clock.now()

  const component = (appId: string) => state.components.find((c) => c.appId === appId)
  const authorizer = (appId: string): AuthorizerProfile | undefined =>
    state.authorizers.find((a) => a.appId === appId) ??
      (appId === testAccounts.officialAccount.appId
        ? testAccounts.officialAccount
        : appId === testAccounts.miniProgram.appId
        ? testAccounts.miniProgram
        : undefined)

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
    // A retired token answers 40001 as an unknown one does, so it goes as soon as its grace is over.
    for (const [key, token] of Object.entries(state.authorizerTokens)) {
      if (
        now - token.expiresAt > 60 * minute || token.invalidatedAt !== undefined ||
        (token.replacedAt !== undefined && now > token.replacedAt + lifetimes.grace)
      ) delete state.authorizerTokens[key]
    }
    // Codes expire in the order they were issued (one lifetime, and a clock that moves forward): expired ones are
    // at the front.
    preAuthCodes.dropWhile((expiresAt) => now - expiresAt > 60 * minute)
    for (const [key, code] of Object.entries(state.authCodes)) {
      if (now - code.expiresAt > 60 * minute) delete state.authCodes[key]
    }
    for (const key of Object.keys(state.quota)) {
      if (!key.startsWith(day)) delete state.quota[key]
    }
    const month = day.slice(0, 7)
    for (const key of Object.keys(state.quotaResets)) {
      if (!key.startsWith(month)) delete state.quotaResets[key]
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
    return componentTokenRefusal(appId, token, now)
  }

  /** WeChat's error for a component access token of `appId` that is not (or no longer) valid. */
  const componentTokenRefusal = (appId: string, token: string | undefined, now: number): Answer | undefined => {
    if (token === undefined || token === "") return error(41001)
    const record = own(state.tokens, token)
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

  const spendAccountQuota = (authorizerAppId: string, path: string, now: number): Answer | undefined => {
    const key = `${new Date(now).toISOString().slice(0, 10)}:${authorizerAppId}:${path}`
    const used = state.quota[key] ?? 0
    if (used >= (config.apiQuotas[path] ?? defaultApiQuota)) return error(45009)
    state.quota[key] = used + 1
    return undefined
  }

  /**
   * A quota reset for `appId` (a component or an account): its daily counters
   * zeroed, one of its 10 resets of the calendar month spent; 48006 when none
   * is left.
   */
  const clearQuota = (appId: string, now: number): Answer => {
    prune(now)
    const day = new Date(now).toISOString().slice(0, 10)
    const key = `${day.slice(0, 7)}:${appId}`
    const used = state.quotaResets[key] ?? 0
    if (used >= quotaResetsPerMonth) return error(48006)
    state.quotaResets[key] = used + 1
    const prefix = `${day}:${appId}:`
    for (const counter of Object.keys(state.quota)) {
      if (counter.startsWith(prefix)) delete state.quota[counter]
    }
    return { errcode: 0, errmsg: "ok" }
  }

  const checkSecret = (given: unknown, expected: string): Answer | undefined =>
    given === undefined || given === "" ? error(41004) : given !== expected ? error(40125) : undefined

  const issueToken = (appId: string, now: number) => {
    // Only the newest token of a component is not superseded yet.
    const newest = own(state.tokens, newestToken.get(appId) ?? "")
    if (newest !== undefined && newest.supersededAt === undefined) newest.supersededAt = now
    const token = accessToken(now)
    state.tokens[token] = { componentAppId: appId, expiresAt: now + lifetimes.componentToken }
    newestToken.set(appId, token)
    return token
  }

  const issuePreAuthCode = (appId: string, now: number) => {
    const code = random("preauthcode@@@", 86)
    preAuthCodes.add(code, appId, now + lifetimes.preAuthCode)
    return code
  }

  const issueAuthorizerToken = (authorization: AuthorizationRecord, now: number) => {
    const previous = own(state.authorizerTokens, authorization.accessToken)
    if (previous !== undefined && previous.replacedAt === undefined) previous.replacedAt = now
    const token = accessToken(now)
    const expiresAt = now + lifetimes.authorizerToken
    state.authorizerTokens[token] = {
      componentAppId: authorization.componentAppId,
      authorizerAppId: authorization.authorizerAppId,
      expiresAt
    }
    authorization.accessToken = token
    authorization.accessTokenExpiresAt = expiresAt
    return token
  }

  const funcInfo = (authorization: AuthorizationRecord) =>
    authorization.permissions.map((id) => ({ funcscope_category: { id } }))

  /** The authorization the body's `authorizer_appid` names, or WeChat's error for it. */
  const authorizationOf = (request: Request, c: Component): AuthorizationRecord | Answer => {
    const appId = (request.json as Record<string, unknown>).authorizer_appid
    if (typeof appId !== "string" || appId === "") return error(41002)
    return state.authorizations[`${c.appId}:${appId}`] ?? error(61003)
  }
  const isAnswer = (value: AuthorizationRecord | Answer): value is Answer => "errcode" in value

  const authorizerInfo = (profile: AuthorizerProfile) => ({
    nick_name: profile.name,
    head_img: `https://wx.qlogo.cn/mmopen/wxopen-mock-${profile.appId}/0`,
    service_type_info: { id: profile.serviceType },
    verify_type_info: { id: profile.verifyType },
    user_name: profile.userName,
    alias: profile.alias,
    qrcode_url: `https://mmbiz.qpic.cn/mmbiz_jpg/wxopen-mock-${profile.appId}/0`,
    principal_name: profile.principalName,
    business_info: { open_store: 0, open_scan: 0, open_pay: 0, open_card: 0, open_shake: 0 },
    signature: `${profile.name}, an account of the wxopen mock`,
    ...(profile.type === "miniProgram"
      ? {
        MiniProgramInfo: {
          network: {
            RequestDomain: ["https://api.example.com"],
            WsRequestDomain: ["wss://api.example.com"],
            UploadDomain: ["https://api.example.com"],
            DownloadDomain: ["https://api.example.com"]
          },
          categories: [{ first: "工具", second: "备忘录" }],
          visit_status: 0
        }
      }
      : {}),
    // 0: registered the usual way; 1: normal.
    register_type: 0,
    account_status: 1,
    basic_config: { is_phone_configured: true, is_email_configured: true }
  })

  // Admin operations only, over tokens that pruning keeps to the live ones: a scan is cheaper than an index to maintain.
  const tokensOf = (componentAppId: string, authorizerAppId: string) =>
    Object.values(state.authorizerTokens).filter((t) =>
      t.componentAppId === componentAppId && t.authorizerAppId === authorizerAppId
    )

  const handlers: Record<string, (request: Request, c: Component, now: number) => Answer> = {
    // The component's own counters, with its token (the body names the component).
    clear_quota: (request, c, now) => checkToken(request, c.appId, now) ?? clearQuota(c.appId, now),
    // With the app secret, for when no token can be had: the component's counters, or an authorized account's.
    "clear_quota/v2": (request, c, now) => {
      const body = request.json as Record<string, unknown>
      const secret = checkSecret(body.appsecret, c.appSecret)
      if (secret !== undefined) return secret
      const account = body.appid
      if (account === undefined || account === "") return clearQuota(c.appId, now)
      if (typeof account !== "string") return error(40013)
      if (state.authorizations[`${c.appId}:${account}`] === undefined) return error(61003)
      return clearQuota(account, now)
    },
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
      const record = typeof code === "string" ? own(state.authCodes, code) : undefined
      if (record === undefined || record.componentAppId !== c.appId) return error(61009)
      if (record.usedAt !== undefined || record.expiresAt <= now) return error(61010)
      record.usedAt = now
      const authorization = state.authorizations[`${c.appId}:${record.authorizerAppId}`]
      if (authorization === undefined) return error(61003)
      return {
        authorization_info: {
          authorizer_appid: record.authorizerAppId,
          authorizer_access_token: issueAuthorizerToken(authorization, now),
          expires_in: lifetimes.authorizerToken / 1000,
          authorizer_refresh_token: authorization.refreshToken,
          func_info: funcInfo(authorization)
        }
      }
    },
    api_authorizer_token: (request, c, now) => {
      const refused = checkToken(request, c.appId, now) ?? spend(c.appId, request.endpoint, now)
      if (refused !== undefined) return refused
      const authorization = authorizationOf(request, c)
      if (isAnswer(authorization)) return authorization
      const given = (request.json as Record<string, unknown>).authorizer_refresh_token
      const current = given === authorization.refreshToken
      const previous = given === authorization.previousRefreshToken && now <= (authorization.previousRefreshTokenUntil ?? 0)
      if (!current && !previous) return error(61023)
      return {
        authorizer_access_token: issueAuthorizerToken(authorization, now),
        expires_in: lifetimes.authorizerToken / 1000,
        authorizer_refresh_token: authorization.refreshToken
      }
    },
    api_start_push_ticket: (request, c, now) =>
      checkSecret((request.json as Record<string, unknown>).component_secret, c.appSecret) ??
        spend(c.appId, request.endpoint, now) ?? { errcode: 0, errmsg: "ok" },
    api_get_authorizer_info: (request, c, now) => {
      const refused = checkToken(request, c.appId, now) ?? spend(c.appId, request.endpoint, now)
      if (refused !== undefined) return refused
      const authorization = authorizationOf(request, c)
      if (isAnswer(authorization)) return authorization
      return {
        authorizer_info: authorizerInfo(authorizer(authorization.authorizerAppId)!),
        authorization_info: {
          authorizer_appid: authorization.authorizerAppId,
          authorizer_refresh_token: authorization.refreshToken,
          func_info: funcInfo(authorization)
        }
      }
    },
    api_get_authorizer_list: (request, c, now) => {
      const refused = checkToken(request, c.appId, now) ?? spend(c.appId, request.endpoint, now)
      if (refused !== undefined) return refused
      const { count, offset } = request.json as Record<string, unknown>
      if (Number.isInteger(count) && (count as number) > maxListCount) return error(40170)
      // WeChat documents no code for a count under 1 or a bad offset.
      if (!Number.isInteger(count) || (count as number) < 1 || !Number.isInteger(offset) || (offset as number) < 0) {
        return error(40097)
      }
      const listed = Object.values(state.authorizations)
        .filter((a) => a.componentAppId === c.appId)
        .sort((a, b) => a.authTime - b.authTime || (a.authorizerAppId < b.authorizerAppId ? -1 : 1))
      return {
        total_count: listed.length,
        list: listed.slice(offset as number, (offset as number) + (count as number)).map((a) => ({
          authorizer_appid: a.authorizerAppId,
          ...(authorizer(a.authorizerAppId)?.listedWithoutRefreshToken ? {} : { refresh_token: a.refreshToken }),
          auth_time: Math.floor(a.authTime / 1000)
        }))
      }
    }
  }

  /** The account an authorizer access token acts for, or WeChat's error for the token. */
  const checkAccountToken = (token: string | undefined, now: number) => {
    if (token === undefined || token === "") return { refused: error(41001) } as const
    const record = own(state.authorizerTokens, token)
    if (record === undefined) return { refused: error(40001) } as const
    const authorization = state.authorizations[`${record.componentAppId}:${record.authorizerAppId}`]
    // A token from before a revocation: "not authorized" until the account authorizes again, then just stale.
    if (authorization === undefined) return { refused: error(61003) } as const
    if (record.revoked === true) return { refused: error(40001) } as const
    if (record.expiresAt <= now) return { refused: error(42001) } as const
    if (record.invalidatedAt !== undefined) return { refused: error(40001) } as const
    if (record.replacedAt !== undefined && now > record.replacedAt + lifetimes.grace) return { refused: error(40001) } as const
    return { record, authorization } as const
  }

  return {
    /** The current state; the object json-server's router shows. */
    get state(): State {
      return state
    },
    /** Back to the configured state: no tickets, tokens, codes or authorizations. */
    reset: (): State => {
      preAuthCodes = codes(config.maxLivePreAuthCodes)
      state = initial()
      newestToken = new Map()
      lastPrune = clock.now()
      return state
    },
    /** Drops expired state; runs at most once a minute of mock time. */
    prune: (): void => prune(),
    component,
    /** A pre-authorization code held, used or not. */
    preAuthCode: (code: string): CodeRecord | undefined => preAuthCodes.get(code),
    /** WeChat's error for a component access token of `appId` that is missing or not valid now; `undefined` for a valid one. */
    componentTokenRefusal: (appId: string, token: string | undefined): Answer | undefined =>
      componentTokenRefusal(appId, token, clock.now()),
    /** Counts a call of `path` against an account's daily quota for it; WeChat's 45009 past the quota. */
    spendAccountQuota: (authorizerAppId: string, path: string): Answer | undefined =>
      spendAccountQuota(authorizerAppId, path, clock.now()),
    /** Whether `authorizerAppId` has authorized `componentAppId` now. */
    isAuthorized: (componentAppId: string, authorizerAppId: string): boolean =>
      state.authorizations[`${componentAppId}:${authorizerAppId}`] !== undefined,
    authorizer,
    /**
     * The owner of an `access_token` that the diagnostics APIs take (a
     * component's token or an account's), or WeChat's error for it.
     */
    tokenOwner: (token: string | undefined): { readonly owner: Owner } | { readonly refused: Answer } => {
      const now = clock.now()
      prune(now)
      const componentToken = token === undefined ? undefined : own(state.tokens, token)
      if (componentToken !== undefined) {
        const refused = componentTokenRefusal(componentToken.componentAppId, token, now)
        return refused === undefined ? { owner: { kind: "component", appId: componentToken.componentAppId } } : { refused }
      }
      const checked = checkAccountToken(token, now)
      if (checked.refused !== undefined) return { refused: checked.refused }
      return { owner: { kind: "account", appId: checked.record.authorizerAppId, componentAppId: checked.record.componentAppId } }
    },
    /**
     * Whose call a request was, for its rid: the appid of the token it
     * carried, valid or not, as far as the mock still knows it; else the
     * component its body names.
     */
    callOwner: (token: string | undefined, componentAppId: unknown): string | undefined => {
      if (token !== undefined && token !== "") {
        const owner = own(state.tokens, token)?.componentAppId ?? own(state.authorizerTokens, token)?.authorizerAppId
        if (owner !== undefined) return owner
      }
      return typeof componentAppId === "string" && component(componentAppId) !== undefined ? componentAppId : undefined
    },
    /**
     * `openapi/quota/get` for `cgiPath`: today's limit, use and remainder
     * of the owner's counter; 76021 for a path the mock counts nothing for,
     * 76022 for one that is not the owner's (another account type's, a
     * component's path with an account's token or the reverse, `/sns/`).
     */
    quotaOf: (owner: Owner, cgiPath: unknown): Answer => {
      const now = clock.now()
      prune(now)
      if (typeof cgiPath !== "string" || !cgiPath.startsWith("/")) return error(76021)
      const day = new Date(now).toISOString().slice(0, 10)
      const componentPath = /^\/cgi-bin\/component\/(.+)$/.exec(cgiPath)
      if (cgiPath.includes("/sns/") || (componentPath === null) !== (owner.kind === "account")) return error(76022)
      let limit: number | undefined
      if (componentPath !== null) {
        const endpoint = componentPath[1]! as Endpoint
        limit = config.quotas[endpoint] ?? defaultQuotas[endpoint]
        if (limit === undefined) return error(76021)
      } else {
        const account = authorizer(owner.appId)
        if (account !== undefined && Permissions.check(cgiPath, account.type, [])._tag === "WrongAccountType") return error(76022)
        limit = config.apiQuotas[cgiPath] ?? defaultApiQuota
      }
      const used = state.quota[`${day}:${owner.appId}:${componentPath?.[1] ?? cgiPath}`] ?? 0
      return { errcode: 0, errmsg: "ok", quota: { daily_limit: limit, used, remain: Math.max(0, limit - used) } }
    },
    /** A quota reset for `appId` (see {@link quotaResetsPerMonth}): its daily counters zeroed, or 48006. */
    clearQuota: (appId: string): Answer => clearQuota(appId, clock.now()),
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
    /**
     * Checks an account call: its access token, the component's IP
     * whitelist, the permission set of the path, the account's daily quota for
     * it (counting the call). Answers the account, or WeChat's error.
     */
    accountCall: (
      request: AccountRequest
    ): { readonly account: AuthorizerProfile; readonly componentAppId: string } | { readonly refused: Answer } => {
      const now = clock.now()
      prune(now)
      const checked = checkAccountToken(request.query.access_token, now)
      if (checked.refused !== undefined) return { refused: checked.refused }
      const { authorization } = checked
      const c = component(authorization.componentAppId)
      if (c?.ipWhitelist !== undefined && !c.ipWhitelist.includes(request.ip())) {
        return { refused: error(61004, `${errmsgs[61004]} requestIP: ${request.ip()}`) }
      }
      const account = authorizer(authorization.authorizerAppId)!
      const permission = Permissions.check(request.path, account.type, authorization.permissions)
      if (permission._tag === "WrongAccountType") return { refused: error(48001) }
      if (permission._tag === "NotGranted") {
        return { refused: error(61007, `${errmsgs[61007]} (funcscope_category ${permission.set} not granted)`) }
      }
      const spent = spendAccountQuota(account.appId, request.path, now)
      return spent === undefined ? { account, componentAppId: authorization.componentAppId } : { refused: spent }
    },
    /** A new verify ticket for a component, valid 12 hours from now. */
    issueTicket: (appId: string): { readonly ticket: string; readonly createdAt: number } => {
      const createdAt = clock.now()
      const ticket = random("ticket@@@", 86)
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
      /** The permission sets granted; the account's configured ones when absent. */
      readonly permissions?: ReadonlyArray<number>
    }): { readonly authorizationCode: string; readonly expiresAt: number; readonly infoType: "authorized" | "updateauthorized" } | { readonly error: string } => {
      const now = clock.now()
      if (component(options.componentAppId) === undefined) return { error: "unknown component" }
      const account = authorizer(options.authorizerAppId)
      if (account === undefined) return { error: "unknown authorizer" }
      if (options.preAuthCode !== undefined) {
        const code = preAuthCodes.get(options.preAuthCode)
        if (code === undefined || code.componentAppId !== options.componentAppId) return { error: "unknown pre_auth_code" }
        if (code.usedAt !== undefined) return { error: "pre_auth_code already used" }
        if (code.expiresAt <= now) return { error: "pre_auth_code expired" }
        preAuthCodes.use(options.preAuthCode, now)
      }
      const key = `${options.componentAppId}:${options.authorizerAppId}`
      const existing = state.authorizations[key]
      // A re-authorization rotates the refresh token; the old one keeps working for the grace period.
      state.authorizations[key] = {
        componentAppId: options.componentAppId,
        authorizerAppId: options.authorizerAppId,
        accessToken: existing?.accessToken ?? "",
        accessTokenExpiresAt: existing?.accessTokenExpiresAt ?? 0,
        refreshToken: random("refreshtoken@@@", 40),
        permissions: options.permissions ?? account.permissions,
        authTime: now,
        ...(existing === undefined
          ? {}
          : { previousRefreshToken: existing.refreshToken, previousRefreshTokenUntil: now + lifetimes.grace })
      }
      const authorizationCode = random("queryauthcode@@@", 86)
      const expiresAt = now + lifetimes.authCode
      state.authCodes[authorizationCode] = {
        componentAppId: options.componentAppId,
        authorizerAppId: options.authorizerAppId,
        expiresAt
      }
      return { authorizationCode, expiresAt, infoType: existing === undefined ? "authorized" : "updateauthorized" }
    },
    /** Removes an authorization, and its access tokens answer 61003; answers whether there was one. */
    revoke: (componentAppId: string, authorizerAppId: string): boolean => {
      const key = `${componentAppId}:${authorizerAppId}`
      const existed = state.authorizations[key] !== undefined
      delete state.authorizations[key]
      for (const token of tokensOf(componentAppId, authorizerAppId)) token.revoked = true
      return existed
    },
    /**
     * Retires every access token of an authorization, as WeChat does when it
     * takes a token back: 40001 from now on, while the refresh token keeps
     * working. Answers whether there was such an authorization.
     */
    invalidateToken: (componentAppId: string, authorizerAppId: string): boolean => {
      if (state.authorizations[`${componentAppId}:${authorizerAppId}`] === undefined) return false
      const now = clock.now()
      for (const token of tokensOf(componentAppId, authorizerAppId)) token.invalidatedAt ??= now
      return true
    }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type WeChatState = ReturnType<typeof make>
