/**
 * The requests the mock received, newest last, bounded: the oldest entry
 * goes when the limit is reached. Secrets (app secrets, tickets, tokens,
 * codes) are masked in every entry read out of it.
 *
 * The journal is written on every request and read seldom, so recording is
 * kept to storing a reference in a ring; masking, dating and numbering an
 * entry are done when it is read.
 *
 * @since 0.1.0
 */

/**
 * One request as the journal shows it: masked and dated.
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
  /** The component endpoint (last path segment), when it is one; an account call's path. */
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
 * A request as the server records it: its query and body as parsed, not
 * masked yet (they must not be changed afterwards), and its time as a number.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recorded {
  /** Mock time, milliseconds since the epoch. */
  readonly at: number
  readonly method: string
  readonly path: string
  readonly endpoint: string
  readonly query: Readonly<Record<string, string>>
  readonly body: unknown
  readonly status: number
  readonly errcode: number | undefined
  readonly fault: string | undefined
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
 * A bounded journal. It is a ring: once `limit` entries are held, each new
 * one takes the oldest one's slot, so that recording costs the same however
 * large the limit (copying the entries on each request made a mock with a
 * large journal slower the longer it ran).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (limit: number) => {
  let slots: Array<Recorded> = []
  // Where the next entry goes; once the ring is full, also where the oldest one is.
  let head = 0
  // The id the next entry gets: ids follow one another, so the slots need not hold them.
  let next = 1
  const toEntry = (recorded: Recorded, id: number): Entry => ({
    id,
    time: new Date(recorded.at).toISOString(),
    method: recorded.method,
    path: recorded.path,
    endpoint: recorded.endpoint,
    query: mask(recorded.query) as Record<string, string>,
    body: mask(recorded.body),
    status: recorded.status,
    ...(recorded.errcode === undefined ? {} : { errcode: recorded.errcode }),
    ...(recorded.fault === undefined ? {} : { fault: recorded.fault })
  })
  return {
    record: (recorded: Recorded): void => {
      if (slots.length < limit) slots.push(recorded)
      else slots[head] = recorded
      head = (head + 1) % limit
      next++
    },
    query: (query: Query = {}): ReadonlyArray<Entry> => {
      const oldest = slots.length < limit ? 0 : head
      const found: Array<Entry> = []
      for (let i = 0; i < slots.length; i++) {
        const recorded = slots[(oldest + i) % slots.length]!
        if (query.endpoint !== undefined && recorded.endpoint !== query.endpoint) continue
        if (query.errcode !== undefined && recorded.errcode !== query.errcode) continue
        found.push(toEntry(recorded, next - slots.length + i))
      }
      return query.limit === undefined ? found : found.slice(-query.limit)
    },
    clear: (): void => {
      slots = []
      head = 0
    }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type Journal = ReturnType<typeof make>
