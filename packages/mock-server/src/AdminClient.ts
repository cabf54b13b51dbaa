/**
 * A typed client of the mock's admin API (`/__admin/…`), for tests.
 *
 * @since 0.1.0
 */
import type { Rule } from "./Faults.js"
import type { Entry, Query } from "./Journal.js"
import type { PushRecord } from "./internal/Pusher.js"
import type { State } from "./internal/WeChatState.js"

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
  /** What an account's confirmation on the authorization page does. */
  readonly authorize: (options: {
    readonly componentAppId: string
    readonly authorizerAppId: string
    readonly preAuthCode?: string
  }) => Promise<{ readonly authorizationCode: string; readonly infoType: string; readonly push?: PushRecord }>
  readonly revoke: (componentAppId: string, authorizerAppId: string) => Promise<void>
  readonly state: () => Promise<State>
}

/**
 * A client of the admin API at `url` (the mock's base URL).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (url: string): AdminClient => {
  const call = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
    const response = await fetch(`${url}/__admin${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
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
    state: () => call("GET", "/state/db")
  }
}
