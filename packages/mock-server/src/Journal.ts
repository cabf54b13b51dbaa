/**
 * The requests the mock received, newest last, bounded: the oldest entry
 * goes when the limit is reached. Secrets (app secrets, tickets, tokens,
 * codes) are masked before an entry is kept.
 *
 * @since 0.1.0
 */

/**
 * One request as the journal keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly id: number
  /** Mock time, ISO 8601. */
  readonly time: string
  readonly method: string
  readonly path: string
  /** The WeChat endpoint (last path segment), when it is one. */
  readonly endpoint?: string
  readonly query: Readonly<Record<string, string>>
  /** The JSON body, masked; or the raw text's length when it is not JSON or over 4 KiB. */
  readonly body: unknown
  readonly status: number
  readonly errcode?: number
  /** The fault that answered instead of WeChat, if one did. */
  readonly fault?: string
}

// Any key that names a secret, however it is spelled: component_appsecret, secret, access_token, authorization_code…
const secretKey = /secret|token|ticket|code|key|password/i

/**
 * A copy of a query or body with the value of every key that names a secret
 * (secret, token, ticket, code, key, password, in any spelling) replaced by `***`.
 *
 * @since 0.1.0
 * @category masking
 */
export const mask = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(mask)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, secretKey.test(key) ? "***" : mask(inner)])
  )
}

/**
 * What a journal query may filter on.
 *
 * @since 0.1.0
 * @category models
 */
export interface Query {
  readonly endpoint?: string
  readonly errcode?: number
  readonly limit?: number
}

/**
 * A bounded journal.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (limit: number) => {
  let entries: Array<Entry> = []
  let next = 1
  return {
    record: (entry: Omit<Entry, "id">): void => {
      entries.push({ id: next++, ...entry })
      if (entries.length > limit) entries = entries.slice(entries.length - limit)
    },
    query: (query: Query = {}): ReadonlyArray<Entry> => {
      const found = entries.filter((entry) =>
        (query.endpoint === undefined || entry.endpoint === query.endpoint) &&
        (query.errcode === undefined || entry.errcode === query.errcode)
      )
      return query.limit === undefined ? found : found.slice(-query.limit)
    },
    clear: (): void => {
      entries = []
    }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type Journal = ReturnType<typeof make>
