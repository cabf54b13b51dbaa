/**
 * A typed client of the mock's admin API (`/__admin/…`), for tests.
 *
 * @since 0.1.0
 */
import type { Rule } from "./Faults.js"
import type { Entry, Query } from "./Journal.js"
import type { Stub, StubChanges, StubInput } from "./MockConfig.js"
import type { Delivery, Fields } from "./internal/AccountMessages.js"
import type { CustomerMessage } from "./internal/CustomerMessages.js"
import type { PushRecord } from "./internal/Pusher.js"
import type { Report } from "./internal/ReleaseCheck.js"
import type { State } from "./internal/WeChatState.js"

/**
 * The stubs of the admin API (`/__admin/stubs`): what account calls are
 * answered with. When several match a call, the newest wins.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stubs {
  /** Adds a stub (status 200 unless given); answers it with its id. */
  readonly create: (stub: StubInput) => Promise<Stub>
  /** The stubs, oldest first; only those with this method and path, exactly, when given. */
  readonly list: (filter?: { readonly method?: "GET" | "POST"; readonly path?: string }) => Promise<ReadonlyArray<Stub>>
  readonly get: (id: number) => Promise<Stub>
  /** Changes the fields given (a `PATCH`); answers the stub changed. */
  readonly update: (id: number, changes: StubChanges) => Promise<Stub>
  readonly remove: (id: number) => Promise<void>
}

/**
 * The admin API of one running mock.
 *
 * @since 0.1.0
 * @category models
 */
export interface AdminClient {
  /** Moves the mock's clock forward; due tickets are pushed before it answers. */
  readonly advanceClock: (seconds: number) => Promise<{ readonly now: string; readonly offsetMs: number }>
  readonly addFault: (rule: Rule) => Promise<{ readonly id: number }>
  readonly removeFault: (id: number) => Promise<void>
  readonly clearFaults: () => Promise<void>
  readonly journal: (query?: Query) => Promise<ReadonlyArray<Entry>>
  readonly clearJournal: () => Promise<void>
  /** Back to the configured state (and a fresh ticket pushed). */
  readonly reset: () => Promise<void>
  readonly ticket: (componentAppId: string) => Promise<{ readonly ticket: string; readonly createdAt: number }>
  readonly pushTicket: (componentAppId: string) => Promise<{ readonly ticket: string; readonly push?: PushRecord }>
  readonly pushes: () => Promise<ReadonlyArray<PushRecord>>
  /** Points a component's pushes at `pushUrl` (until the next reset), for a receiver started after the mock. */
  readonly setPushUrl: (componentAppId: string, pushUrl: string) => Promise<void>
  /**
   * What an account's confirmation on the authorization page does; it grants
   * `permissions` (funcscope_category ids) when given, its configured ones
   * otherwise.
   */
  readonly authorize: (options: {
    readonly componentAppId: string
    readonly authorizerAppId: string
    readonly preAuthCode?: string
    readonly permissions?: ReadonlyArray<number>
  }) => Promise<{ readonly authorizationCode: string; readonly infoType: string; readonly push?: PushRecord }>
  /** Revokes an authorization (pushing `unauthorized`): the account's access tokens answer 61003 from then on. */
  readonly revoke: (componentAppId: string, authorizerAppId: string) => Promise<void>
  /**
   * Retires the account's access tokens, as WeChat does at times: they
   * answer 40001 from now on; the refresh token still gets a new one.
   */
  readonly invalidateToken: (componentAppId: string, authorizerAppId: string) => Promise<void>
  /**
   * A code as an Official Account's OAuth page gives it (5 minutes, single
   * use), for the account's default user unless `openid` is given, scope
   * `snsapi_base` unless given; the account must have authorized the component.
   */
  readonly oauthCode: (options: {
    readonly componentAppId: string
    readonly authorizerAppId: string
    readonly openid?: string
    readonly scope?: "snsapi_base" | "snsapi_userinfo"
  }) => Promise<{ readonly code: string; readonly openid: string }>
  /** A Mini Program's `wx.login` code (5 minutes, single use) for `jscode2session`, for the default user unless `openid` is given. */
  readonly jsCode: (options: {
    readonly componentAppId: string
    readonly authorizerAppId: string
    readonly openid?: string
  }) => Promise<{ readonly code: string; readonly openid: string }>
  /** Points the component's account messages at `messageUrl` (`$APPID$` for the account's appid), until the next reset. */
  readonly setMessageUrl: (componentAppId: string, messageUrl: string) => Promise<void>
  /**
   * Pushes a message or event of an authorized account to the component's
   * message URL, as WeChat does, and answers what came back (the reply
   * verified and decrypted when it is encrypted). `message` holds WeChat's
   * XML fields (`MsgType`, `Content`, `Event`, …); the mock sets
   * `ToUserName`, and `FromUserName`, `CreateTime`, `MsgId` unless given.
   */
  readonly pushMessage: (componentAppId: string, authorizerAppId: string, message: Fields) => Promise<Delivery>
  /** The customer-service messages accounts sent (`/cgi-bin/message/custom/send`), oldest first; one account's when given. */
  readonly customerMessages: (authorizerAppId?: string) => Promise<ReadonlyArray<CustomerMessage>>
  /**
   * Runs WeChat's release check (全网发布) against the component's message
   * URL: WeChat's test account (an Official Account by default) is authorized
   * to the component and its user's messages are pushed; the report says, for
   * each case, what was expected and what came back. `waitSeconds` (default
   * 10, real time) bounds the wait for the customer-service message.
   */
  readonly releaseCheck: (
    componentAppId: string,
    options?: { readonly kind?: "officialAccount" | "miniProgram"; readonly waitSeconds?: number }
  ) => Promise<Report>
  readonly stubs: Stubs
  /**
   * The mock's state. Each component's app secret, message token and
   * EncodingAESKey read `***` unless `revealSecrets` is set.
   */
  readonly state: (options?: { readonly revealSecrets?: boolean }) => Promise<State>
}

/**
 * A client of the admin API at `url` (the mock's base URL); `token` is the
 * admin token the mock was started with, if any.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (url: string, options: { readonly token?: string } = {}): AdminClient => {
  const authorization: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }
  const call = async <A>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<A> => {
    const response = await fetch(`${url}/__admin${path}`, {
      method,
      headers: { ...authorization, ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`admin ${method} ${path}: HTTP ${response.status} ${text}`)
    return (text === "" ? undefined : JSON.parse(text)) as A
  }
  return {
    advanceClock: (seconds) => call("POST", "/clock", { advanceSeconds: seconds }),
    addFault: (rule) => call("POST", "/faults", rule),
    removeFault: (id) => call("DELETE", `/faults/${id}`),
    clearFaults: () => call("DELETE", "/faults"),
    journal: (query = {}) => {
      const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))
      return call("GET", `/journal?${params}`)
    },
    clearJournal: () => call("DELETE", "/journal"),
    reset: () => call("POST", "/reset"),
    ticket: (appId) => call("GET", `/components/${appId}/ticket`),
    pushTicket: (appId) => call("POST", `/components/${appId}/push-ticket`),
    pushes: () => call("GET", "/pushes"),
    setPushUrl: (appId, pushUrl) => call("PUT", `/components/${appId}/push-url`, { pushUrl }),
    authorize: (options) => call("POST", "/authorizations", options),
    revoke: (componentAppId, authorizerAppId) => call("DELETE", `/authorizations/${componentAppId}/${authorizerAppId}`),
    invalidateToken: (componentAppId, authorizerAppId) =>
      call("POST", `/authorizations/${componentAppId}/${authorizerAppId}/invalidate-token`),
    oauthCode: (options) => call("POST", "/oauth-codes", options),
    jsCode: (options) => call("POST", "/js-codes", options),
    setMessageUrl: (appId, messageUrl) => call("PUT", `/components/${appId}/message-url`, { messageUrl }),
    pushMessage: (componentAppId, authorizerAppId, message) =>
      call("POST", `/components/${componentAppId}/messages`, { authorizerAppId, message }),
    customerMessages: (authorizerAppId) =>
      call("GET", authorizerAppId === undefined ? "/customer-messages" : `/customer-messages?authorizerAppId=${encodeURIComponent(authorizerAppId)}`),
    releaseCheck: (componentAppId, options = {}) => call("POST", `/components/${componentAppId}/release-check`, options),
    stubs: {
      create: (stub) => call("POST", "/stubs", stub),
      list: (filter = {}) => {
        const params = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined))
        return call("GET", params.size === 0 ? "/stubs" : `/stubs?${params}`)
      },
      get: (id) => call("GET", `/stubs/${id}`),
      update: (id, changes) => call("PATCH", `/stubs/${id}`, changes),
      remove: (id) => call("DELETE", `/stubs/${id}`)
    },
    state: (options = {}) => call("GET", "/state/db", undefined, options.revealSecrets === true ? { "x-wxopen-reveal": "secrets" } : {})
  }
}
