/**
 * Every failure wxopen reports at its boundary: one class per family of WeChat
 * errcodes, plus the failures on the way to WeChat (transport, HTTP status, a
 * body that is not what the endpoint promises).
 *
 * Each class carries the endpoint that failed, and the errcode families carry
 * `errcode`, `errmsg` and the `rid` WeChat put in the message, so a support
 * ticket can quote it. Sub-kinds are a literal `reason`. Messages say what to
 * do next and never contain a secret.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PreAuthCode } from "@wxopen/core"
 *
 * const program = PreAuthCode.create.pipe(
 *   Effect.catchTags({
 *     VerifyTicketError: (error) => Effect.logWarning(error.message),
 *     IpWhitelistError: (error) => Effect.logError(`add ${error.requestIp} to the whitelist`)
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

// `endpoint` is the path the request went to (`/cgi-bin/component/api_create_preauthcode`), never its query.
// `authorizerAppId` is set when the request was sent with that account's token (`AuthorizerToken.execute`,
// `AuthorizerClient`), so `RequestRecord.lookup` knows whose token can look its rid up; absent, the token was the
// component's (or none).
const answered = {
  endpoint: Schema.String,
  errcode: Schema.Number,
  errmsg: Schema.String,
  rid: Schema.optionalWith(Schema.String, { exact: true }),
  authorizerAppId: Schema.optionalWith(Schema.String, { exact: true })
}

interface Answered {
  readonly endpoint: string
  readonly errcode: number
  readonly errmsg: string
  readonly rid?: string
  readonly authorizerAppId?: string
}

const describe = (
  self: { readonly endpoint: string; readonly errcode?: number | undefined; readonly rid?: string | undefined },
  meaning: string,
  advice: string
): string =>
  `${self.endpoint} answered errcode ${self.errcode} (${meaning})${
    self.rid === undefined ? "" : `, rid ${self.rid}`
  }: ${advice}`

/**
 * The component access token was refused: 40001 invalid or superseded, 40014
 * illegal, 42001 expired, 41001 missing. wxopen invalidates the token, fetches
 * a new one and retries once before it reports this.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessTokenError extends Schema.TaggedError<AccessTokenError>()("AccessTokenError", {
  ...answered,
  reason: Schema.Literal("Invalid", "Illegal", "Expired", "Missing")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      `access token ${this.reason.toLowerCase()}`,
      "wxopen replaces a refused token and retries once, so this refusal came after that. If it recurs, another " +
        "process is probably fetching tokens for this component with its own store (each new token retires the " +
        "previous one after 5 minutes): make every instance share one TokenStore"
    )
  }
}

/**
 * The component verify ticket is not usable: none received yet, older than 12
 * hours, or refused by WeChat (61005 expired, 61006 invalid). Retrying does
 * not help; the next push does.
 *
 * @since 0.1.0
 * @category errors
 */
export class VerifyTicketError extends Schema.TaggedError<VerifyTicketError>()("VerifyTicketError", {
  endpoint: Schema.String,
  reason: Schema.Literal("NotReceived", "Stale", "Expired", "Invalid"),
  errcode: Schema.optionalWith(Schema.Number, { exact: true }),
  errmsg: Schema.optionalWith(Schema.String, { exact: true }),
  rid: Schema.optionalWith(Schema.String, { exact: true })
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const next = "wait for WeChat's next push (every 10 minutes) or call api_start_push_ticket to restart the pushes"
    switch (this.reason) {
      case "NotReceived":
        return `no component_verify_ticket has been received for this component, so ${this.endpoint} was not called: ` +
          `check that the push receiver stores tickets in the same TokenStore, then ${next}`
      case "Stale":
        return `the stored component_verify_ticket is older than 12 hours, so ${this.endpoint} was not called: ` +
          `pushes have stopped arriving; ${next}`
      default:
        return describe(this, `verify ticket ${this.reason.toLowerCase()}`, next)
    }
  }
}

/**
 * The component app secret is missing (41004) or wrong (40125). A
 * configuration error: nothing is retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class AppSecretError extends Schema.TaggedError<AppSecretError>()("AppSecretError", {
  ...answered,
  reason: Schema.Literal("Missing", "Invalid")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      `app secret ${this.reason.toLowerCase()}`,
      "check WXOPEN_COMPONENT_APPSECRET against the secret shown on the Open Platform console (it changes when reset)"
    )
  }
}

/**
 * WeChat does not recognise the component: 61011 invalid component, 40013
 * invalid appid, 61024 a component account using the wrong token API. A
 * configuration error: nothing is retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class ComponentIdentityError extends Schema.TaggedError<ComponentIdentityError>()("ComponentIdentityError", {
  ...answered,
  reason: Schema.Literal("InvalidComponent", "InvalidAppId", "WrongTokenApi")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const advice = {
      InvalidComponent: "the appid is not a third-party platform (component): check WXOPEN_COMPONENT_APPID",
      InvalidAppId: "the appid is malformed: check WXOPEN_COMPONENT_APPID for typos and stray characters",
      WrongTokenApi: "a component account must get its token from api_component_token, not from cgi-bin/token"
    }[this.reason]
    return describe(this, "component identity", advice)
  }
}

/**
 * The caller's IP address is not on the component's whitelist (61004, 40164).
 * `requestIp` is the address WeChat saw, when it said.
 *
 * @since 0.1.0
 * @category errors
 */
export class IpWhitelistError extends Schema.TaggedError<IpWhitelistError>()("IpWhitelistError", {
  ...answered,
  requestIp: Schema.optionalWith(Schema.String, { exact: true })
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      "IP not whitelisted",
      `add ${this.requestIp ?? "this server's public IP"} to the component's IP whitelist on the Open Platform console`
    )
  }
}

/**
 * A quota is exhausted: 45009 the daily quota (never retried, never reset for
 * you: each retry would spend tomorrow's, and a reset spends one of 10 a
 * month), 45011 the per-minute quota (retried with backoff), 48006 no quota
 * resets left this month (`NoResetsLeft`, from `ApiQuota.reset`).
 *
 * @since 0.1.0
 * @category errors
 */
export class QuotaError extends Schema.TaggedError<QuotaError>()("QuotaError", {
  ...answered,
  reason: Schema.Literal("Daily", "PerMinute", "NoResetsLeft")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    switch (this.reason) {
      case "Daily":
        return describe(
          this,
          "daily quota reached",
          "stop calling this endpoint until the quota resets at midnight (Beijing time), or spend one of the month's 10 " +
            "resets deliberately with ApiQuota.reset; look for a process that fetches tokens without a shared store"
        )
      case "PerMinute":
        return describe(this, "per-minute quota reached", "slow down; retries under the RetryPolicy did not get through")
      case "NoResetsLeft":
        return describe(
          this,
          "no quota resets left this month",
          "the 10 resets of this month (clear_quota and clear_quota/v2 together) are spent: wait for midnight, when the " +
            "daily quota starts over, and for next month's resets"
        )
    }
  }
}

/**
 * A request id could not be looked up (`openapi/rid/get`): 76001 WeChat has
 * no such request (`Unknown`: older than 7 days, or mistyped), 76002 the rid
 * is not of WeChat's form (`Malformed`), 76003 the request was made with
 * another account's token (`NotOwner`).
 *
 * @since 0.1.0
 * @category errors
 */
export class RidError extends Schema.TaggedError<RidError>()("RidError", {
  ...answered,
  reason: Schema.Literal("Unknown", "Malformed", "NotOwner")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const advice = {
      Unknown: "WeChat keeps requests for 7 days: this rid is older, mistyped, or of another account (look it up " +
        "with that account's token: RequestRecord.get(rid, { authorizerAppId }))",
      Malformed: "pass the rid exactly as it appears after `rid:` in the errmsg (RequestRecord.lookup(error) reads it for you)",
      NotOwner: "the request was made with another token: look a component call up with the component token, an " +
        "account's call with that account's (RequestRecord.get(rid, { authorizerAppId }))"
    }[this.reason]
    return describe(this, `rid ${this.reason === "NotOwner" ? "not this token's" : this.reason.toLowerCase()}`, advice)
  }
}

/**
 * An API path's quota could not be read (`openapi/quota/get`): 76021 WeChat
 * does not know the path (`UnknownPath`), 76022 its quota cannot be queried
 * (`NotQueryable`).
 *
 * @since 0.1.0
 * @category errors
 */
export class QuotaQueryError extends Schema.TaggedError<QuotaQueryError>()("QuotaQueryError", {
  ...answered,
  reason: Schema.Literal("UnknownPath", "NotQueryable")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return this.reason === "UnknownPath"
      ? describe(
        this,
        "cgi_path not found",
        "give the API's path as WeChat documents it, from its leading slash and without query or host " +
          "(/cgi-bin/message/custom/send)"
      )
      : describe(this, "quota not queryable", "WeChat does not report a quota for this API; count the calls on your side")
  }
}

/**
 * The component or the account lacks a permission: 48001 the API is not
 * available to the caller (the account's type or verification does not allow
 * it, or the component's permission sets do not include it), 61007 the
 * account did not grant the API's permission set to the component
 * (`permission` is the set's `funcscope_category` id when WeChat names it),
 * 61003 the account has not authorized the component or revoked it (calls as
 * the account then forget its stored tokens). Nothing is retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionError extends Schema.TaggedError<PermissionError>()("PermissionError", {
  ...answered,
  reason: Schema.Literal("ApiUnauthorized", "ComponentUnauthorized", "NotAuthorized"),
  permission: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const set = this.permission === undefined ? "this API's permission set" : `permission set ${this.permission}`
    const advice = {
      ApiUnauthorized: "this API is not available to the caller: check that the account's type and verification allow it, " +
        "and that the component's permission sets on the Open Platform console include it",
      ComponentUnauthorized: `the account did not grant ${set} to the component: ask the merchant to authorize again ` +
        "with it (an authorization link without biz_appid restrictions lets them tick it)",
      NotAuthorized: "the account has not authorized this component, or revoked it (its stored tokens are forgotten): " +
        "send the merchant a new authorization link"
    }[this.reason]
    return describe(this, "permission", advice)
  }
}

/**
 * A request wxopen refused to send, because it would have gone wrong: a path
 * that is not a path on the API base URL (`NotAPath`), a query that already
 * carries the access token wxopen attaches (`TokenInQuery`), a page size
 * outside what WeChat accepts (`PageSize`), an account's appid that is not of
 * WeChat's form (`InvalidAppId`, see `AppId`), an empty code or token (`EmptyValue`). A bug on the calling side;
 * nothing reached WeChat. `endpoint` is the path without its query (for an
 * appid, the endpoint it would have been sent to).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>()("InvalidRequestError", {
  endpoint: Schema.String,
  reason: Schema.Literal("NotAPath", "TokenInQuery", "PageSize", "InvalidAppId", "EmptyValue"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${this.endpoint} was not sent to WeChat: ${this.detail}`
  }
}

/**
 * WeChat could not read the request: 47001 not valid JSON, 41018 missing
 * `component_appid`, 41002 missing appid. A bug on the calling side.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestFormatError extends Schema.TaggedError<RequestFormatError>()("RequestFormatError", {
  ...answered,
  reason: Schema.Literal("InvalidJson", "MissingComponentAppId", "MissingAppId")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      "request format",
      "the request body was not the JSON WeChat expects; if a proxy sits between this process and WeChat, check that it forwards the body unchanged"
    )
  }
}

/**
 * The authorization code from the merchant's redirect is invalid (61009) or
 * expired or already used (61010). The merchant has to authorize again.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationCodeError extends Schema.TaggedError<AuthorizationCodeError>()("AuthorizationCodeError", {
  ...answered,
  reason: Schema.Literal("Invalid", "ExpiredOrUsed")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      `authorization code ${this.reason === "Invalid" ? "invalid" : "expired or already used"}`,
      "an authorization code is single use: send the merchant a new authorization link"
    )
  }
}

/**
 * The authorizer refresh token is invalid (61023). The merchant has to
 * authorize again.
 *
 * @since 0.1.0
 * @category errors
 */
export class RefreshTokenError extends Schema.TaggedError<RefreshTokenError>()("RefreshTokenError", {
  ...answered
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      "authorizer refresh token invalid",
      "the authorization is lost: send the merchant a new authorization link"
    )
  }
}

/**
 * A user's login code was refused: 40029 invalid (wrong, expired, issued for
 * another account, or sent without `component_appid`), 40163 already used,
 * 42003 expired, 40226 blocked (WeChat rates the user high-risk and refuses
 * the Mini Program login). A code comes from the OAuth redirect
 * (`UserToken.exchange`) or from `wx.login()` (`MiniProgramSession.exchange`);
 * it is single use and lives 5 minutes. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class UserCodeError extends Schema.TaggedError<UserCodeError>()("UserCodeError", {
  ...answered,
  reason: Schema.Literal("Invalid", "Used", "Expired", "Blocked")
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const again = this.endpoint === "/sns/component/jscode2session"
      ? "call wx.login() in the Mini Program again and send the new code"
      : "send the user through the authorization link again"
    const advice = {
      Invalid: "the code is wrong, expired, or was issued for another account: check that the appid given is the " +
        `account whose link (or wx.login) produced it, then ${again}`,
      Used: `a code is single use: exchange each code once, in one place, then ${again}`,
      Expired: `a code lives 5 minutes: exchange it as soon as it arrives, ${again}`,
      Blocked: "WeChat rates this user high-risk and refuses the login: nothing on the platform's side can change that"
    }[this.reason]
    return describe(this, `login code ${this.reason === "Blocked" ? "blocked" : this.reason.toLowerCase()}`, advice)
  }
}

/**
 * A user's OAuth token was refused: the refresh token is invalid (40030) or
 * expired (42002, after 30 days), or on `sns/userinfo` the user's access
 * token is invalid (40001, 40014, 41001) or expired (42001), the openid is
 * not the token's (40003), or the token's scope is `snsapi_base` (48001). These are the user's tokens, not the component's:
 * nothing is replaced or retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class UserTokenError extends Schema.TaggedError<UserTokenError>()("UserTokenError", {
  ...answered,
  reason: Schema.Literal(
    "AccessTokenInvalid",
    "AccessTokenExpired",
    "RefreshTokenInvalid",
    "RefreshTokenExpired",
    "InvalidOpenId",
    "ScopeTooNarrow"
  )
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const advice = {
      AccessTokenInvalid: "the user's access token is not one WeChat issued, or was replaced by a refresh: use the " +
        "latest token of UserToken.exchange or UserToken.refresh",
      AccessTokenExpired: "the user's access token lives 2 hours: get a new one with UserToken.refresh",
      RefreshTokenInvalid: "the user's refresh token is not one WeChat issued for this account: send the user through " +
        "the authorization link again",
      RefreshTokenExpired: "the user's refresh token lives 30 days: send the user through the authorization link again",
      InvalidOpenId: "the openid is not the one the token was issued for: pass the openid that came with the token",
      ScopeTooNarrow: "a token of scope snsapi_base gives the openid only: send the user through a link of scope " +
        "snsapi_userinfo to read the profile"
    }[this.reason]
    return describe(this, "user token refused", advice)
  }
}

/**
 * WeChat is busy (-1). Retried with jittered exponential backoff, bounded in
 * count and time; incidents have lasted close to an hour.
 *
 * @since 0.1.0
 * @category errors
 */
export class SystemBusyError extends Schema.TaggedError<SystemBusyError>()("SystemBusyError", {
  ...answered
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "system busy", "WeChat stayed busy through every retry; try again later")
  }
}

/**
 * An errcode that wxopen does not classify, kept as WeChat sent it.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownWeChatError extends Schema.TaggedError<UnknownWeChatError>()("UnknownWeChatError", {
  ...answered
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, this.errmsg, "look the errcode up in WeChat's global return codes")
  }
}

/**
 * The request did not get an answer: the connection failed (`RequestFailed`)
 * or no answer came within the request timeout (`Timeout`). Retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  endpoint: Schema.String,
  reason: Schema.Literal("RequestFailed", "Timeout"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${this.endpoint} got no answer (${this.reason === "Timeout" ? "timed out" : "request failed"}: ${this.detail}); ` +
      "check the network path to the API base URL"
  }
}

/**
 * A token refresh ran out of time: the fetch, retries included, took longer
 * than its deadline (`Deadline`), or this caller waited that long for another
 * holder of the refresh lease (another instance, say) without a token being
 * stored (`LeaseWait`). Not retried: the next call starts over.
 *
 * @since 0.1.0
 * @category errors
 */
export class RefreshTimeoutError extends Schema.TaggedError<RefreshTimeoutError>()("RefreshTimeoutError", {
  token: Schema.String,
  reason: Schema.Literal("Deadline", "LeaseWait"),
  seconds: Schema.Number
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return this.reason === "Deadline"
      ? `getting a new ${this.token} took longer than ${this.seconds} s, retries included, and was cut off: ` +
        "WeChat or the network path to it is slow or failing; the next call tries again"
      : `waited ${this.seconds} s for another holder of the ${this.token} refresh lease without a token being stored: ` +
        "check that the instances sharing this TokenStore can reach WeChat, and that the store answers"
  }
}

/**
 * WeChat (or a proxy in front of it) answered with a non-2xx HTTP status.
 * 5xx statuses are retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>()("HttpStatusError", {
  endpoint: Schema.String,
  status: Schema.Number
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${this.endpoint} answered HTTP ${this.status}; WeChat answers 200 even for errors, so this came from a ` +
      "gateway or proxy: check the API base URL and anything between this process and WeChat"
  }
}

/**
 * The answer was not JSON (`NotJson`: an HTML page, a truncated body) or not
 * the shape the endpoint promises (`UnexpectedShape`). `detail` names the
 * fields at fault, never their values (a token could be among them).
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponseError extends Schema.TaggedError<MalformedResponseError>()("MalformedResponseError", {
  endpoint: Schema.String,
  reason: Schema.Literal("NotJson", "UnexpectedShape"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${this.endpoint} answered ${
      this.reason === "NotJson" ? "something that is not JSON" : "JSON of an unexpected shape"
    } (${this.detail}); check that the API base URL points at WeChat or the wxopen mock`
  }
}

/**
 * Every failure wxopen reports for a call to WeChat.
 *
 * @since 0.1.0
 * @category errors
 */
export type WeChatError =
  | AccessTokenError
  | VerifyTicketError
  | AppSecretError
  | ComponentIdentityError
  | IpWhitelistError
  | QuotaError
  | RidError
  | QuotaQueryError
  | PermissionError
  | RequestFormatError
  | AuthorizationCodeError
  | RefreshTokenError
  | UserCodeError
  | UserTokenError
  | SystemBusyError
  | UnknownWeChatError
  | TransportError
  | RefreshTimeoutError
  | HttpStatusError
  | MalformedResponseError
  | InvalidRequestError

/**
 * The schema of {@link WeChatError}, to serialize errors or log them as data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WeChatError = Schema.Union(
  AccessTokenError,
  VerifyTicketError,
  AppSecretError,
  ComponentIdentityError,
  IpWhitelistError,
  QuotaError,
  RidError,
  QuotaQueryError,
  PermissionError,
  RequestFormatError,
  AuthorizationCodeError,
  RefreshTokenError,
  UserCodeError,
  UserTokenError,
  SystemBusyError,
  UnknownWeChatError,
  TransportError,
  RefreshTimeoutError,
  HttpStatusError,
  MalformedResponseError,
  InvalidRequestError
)

/**
 * The request id WeChat appends to `errmsg` (`rid: …`, or `hint: [...]` in
 * older messages), if there is one.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRid = (errmsg: string): string | undefined =>
  /\brid:\s*([0-9a-zA-Z-]+)/.exec(errmsg)?.[1] ?? /\bhint:\s*\[([^\]]+)\]/.exec(errmsg)?.[1]

const parseRequestIp = (errmsg: string): string | undefined =>
  /requestIP:\s*([0-9a-fA-F.:]+)/.exec(errmsg)?.[1] ?? /invalid ip\s+([0-9a-fA-F.:]+)/.exec(errmsg)?.[1]

type Classify = (fields: Answered) => WeChatError

const byCode: Record<number, Classify> = {
  40001: (f) => new AccessTokenError({ ...f, reason: "Invalid" }),
  40014: (f) => new AccessTokenError({ ...f, reason: "Illegal" }),
  42001: (f) => new AccessTokenError({ ...f, reason: "Expired" }),
  41001: (f) => new AccessTokenError({ ...f, reason: "Missing" }),
  61005: (f) => new VerifyTicketError({ ...f, reason: "Expired" }),
  61006: (f) => new VerifyTicketError({ ...f, reason: "Invalid" }),
  41004: (f) => new AppSecretError({ ...f, reason: "Missing" }),
  40125: (f) => new AppSecretError({ ...f, reason: "Invalid" }),
  61011: (f) => new ComponentIdentityError({ ...f, reason: "InvalidComponent" }),
  40013: (f) => new ComponentIdentityError({ ...f, reason: "InvalidAppId" }),
  61024: (f) => new ComponentIdentityError({ ...f, reason: "WrongTokenApi" }),
  61004: (f) => ipWhitelist(f),
  40164: (f) => ipWhitelist(f),
  45009: (f) => new QuotaError({ ...f, reason: "Daily" }),
  45011: (f) => new QuotaError({ ...f, reason: "PerMinute" }),
  48006: (f) => new QuotaError({ ...f, reason: "NoResetsLeft" }),
  76001: (f) => new RidError({ ...f, reason: "Unknown" }),
  76002: (f) => new RidError({ ...f, reason: "Malformed" }),
  76003: (f) => new RidError({ ...f, reason: "NotOwner" }),
  76021: (f) => new QuotaQueryError({ ...f, reason: "UnknownPath" }),
  76022: (f) => new QuotaQueryError({ ...f, reason: "NotQueryable" }),
  48001: (f) => new PermissionError({ ...f, reason: "ApiUnauthorized" }),
  61007: (f) => {
    const permission = /funcscope_category\D{0,3}(\d+)/.exec(f.errmsg)?.[1]
    return new PermissionError({ ...f, reason: "ComponentUnauthorized", ...(permission === undefined ? {} : { permission: Number(permission) }) })
  },
  61003: (f) => new PermissionError({ ...f, reason: "NotAuthorized" }),
  47001: (f) => new RequestFormatError({ ...f, reason: "InvalidJson" }),
  41018: (f) => new RequestFormatError({ ...f, reason: "MissingComponentAppId" }),
  41002: (f) => new RequestFormatError({ ...f, reason: "MissingAppId" }),
  61009: (f) => new AuthorizationCodeError({ ...f, reason: "Invalid" }),
  61010: (f) => new AuthorizationCodeError({ ...f, reason: "ExpiredOrUsed" }),
  61023: (f) => new RefreshTokenError(f),
  40029: (f) => new UserCodeError({ ...f, reason: "Invalid" }),
  40163: (f) => new UserCodeError({ ...f, reason: "Used" }),
  42003: (f) => new UserCodeError({ ...f, reason: "Expired" }),
  40226: (f) => new UserCodeError({ ...f, reason: "Blocked" }),
  40030: (f) => new UserTokenError({ ...f, reason: "RefreshTokenInvalid" }),
  42002: (f) => new UserTokenError({ ...f, reason: "RefreshTokenExpired" }),
  [-1]: (f) => new SystemBusyError(f)
}

// On sns/userinfo the token is the user's: a refusal is not the component's token family, which would be replaced.
const byUserTokenCode: Record<number, Classify> = {
  40001: (f) => new UserTokenError({ ...f, reason: "AccessTokenInvalid" }),
  40014: (f) => new UserTokenError({ ...f, reason: "AccessTokenInvalid" }),
  41001: (f) => new UserTokenError({ ...f, reason: "AccessTokenInvalid" }),
  42001: (f) => new UserTokenError({ ...f, reason: "AccessTokenExpired" }),
  40003: (f) => new UserTokenError({ ...f, reason: "InvalidOpenId" }),
  48001: (f) => new UserTokenError({ ...f, reason: "ScopeTooNarrow" })
}

// The endpoints whose token is a user's OAuth access token.
const userTokenEndpoints: ReadonlySet<string> = new Set(["/sns/userinfo"])

const ipWhitelist = (fields: Answered): IpWhitelistError => {
  const requestIp = parseRequestIp(fields.errmsg)
  return new IpWhitelistError(requestIp === undefined ? fields : { ...fields, requestIp })
}

/**
 * The error for a non-zero `errcode` answered by `endpoint`: its family's
 * class, or {@link UnknownWeChatError} for a code wxopen does not classify.
 * On `/sns/userinfo`, whose token is a user's, the access-token codes, 40003
 * and 48001 are a {@link UserTokenError}. `authorizerAppId` is the account
 * whose token sent the request, if it was an account's.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromErrcode = (
  endpoint: string,
  errcode: number,
  errmsg: string,
  authorizerAppId?: string
): WeChatError => {
  const rid = parseRid(errmsg)
  const fields: Answered = {
    endpoint,
    errcode,
    errmsg,
    ...(rid === undefined ? {} : { rid }),
    ...(authorizerAppId === undefined ? {} : { authorizerAppId })
  }
  const classify = (userTokenEndpoints.has(endpoint) ? byUserTokenCode[errcode] : undefined) ?? byCode[errcode]
  return (classify ?? ((f) => new UnknownWeChatError(f)))(fields)
}

/**
 * The error of a request sent with an account's token, marked with that
 * account (`authorizerAppId`) so its rid can be looked up with the right
 * token; errors that WeChat did not answer with an errcode are returned as
 * they are.
 *
 * @since 0.1.0
 * @category constructors
 */
export const withAuthorizer = (error: WeChatError, authorizerAppId: string): WeChatError =>
  "errmsg" in error && error.errcode !== undefined && error.errmsg !== undefined && error._tag !== "VerifyTicketError"
    ? fromErrcode(error.endpoint, error.errcode, error.errmsg, authorizerAppId)
    : error

/**
 * Whether a failure is worth retrying as it is: WeChat busy (-1), the
 * per-minute quota (45011), a failed or timed-out request, or a 5xx status.
 * Everything else needs a change first (a new token, a new ticket, a fixed
 * configuration) or would waste quota.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransient = (error: WeChatError): boolean => {
  switch (error._tag) {
    case "SystemBusyError":
    case "TransportError":
      return true
    case "QuotaError":
      return error.reason === "PerMinute"
    case "HttpStatusError":
      return error.status >= 500
    default:
      return false
  }
}
