/**
 * The rids of the errors the mock answered, and what it received and
 * answered for each: what `openapi/rid/get` looks up. Kept 7 days of mock
 * time and at most {@link maxRids}, oldest dropped first; the URL and bodies
 * are masked when recorded (as the journal masks them), so no secret is held.
 */
import * as Journal from "../Journal.js"
import type { Answer, Owner } from "./WeChatState.js"
import { error } from "./WeChatState.js"

/** The most rids held; the oldest goes when one more is recorded. */
export const maxRids = 5_000

/** How long a rid can be looked up: 7 days of mock time, as WeChat keeps them. */
export const ridLifetimeMs = 7 * 24 * 3600 * 1000

/** The largest body kept as text (4 KiB, as the journal keeps them); a larger one is kept as its length. */
const maxBodyCharacters = 4096

/** A rid as WeChat writes it: three groups of 8 hexadecimal digits. */
const ridShape = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/

/** One request, as `rid/get` answers it (its `request`), with its owner and path. */
export interface RidRecord {
  /** Mock time, milliseconds since the epoch. */
  readonly at: number
  readonly costMs: number
  /** The path and query, tokens and secrets masked. */
  readonly url: string
  /** The body, masked, as JSON text; `""` for none. */
  readonly requestBody: string
  readonly responseBody: string
  readonly clientIp: string
  /** The appid whose call it was (a component's or an account's), when the mock could tell. */
  readonly owner: string | undefined
  readonly path: string
}

/** The rid at the end of an error's errmsg, if the answer is one. */
export const ridOf = (body: unknown): string | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const errmsg = (body as { errmsg?: unknown }).errmsg
  return typeof errmsg === "string" ? / rid: ([0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8})$/.exec(errmsg)?.[1] : undefined
}

/** A query string with every token and secret masked: `path?key=value&…`. */
export const maskedUrl = (path: string, query: Readonly<Record<string, string>>): string => {
  const masked = Object.entries(Journal.mask(query) as Record<string, string>)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
  return masked.length === 0 ? path : `${path}?${masked.join("&")}`
}

/** A body as `rid/get` shows it: masked JSON text, or its length when it is not JSON or too large. */
export const bodyText = (raw: string, masked: unknown): string => {
  if (raw === "") return ""
  const text = JSON.stringify(masked === undefined ? { characters: raw.length } : masked)
  return text.length > maxBodyCharacters ? JSON.stringify({ characters: text.length }) : text
}

/** An answer masked as the journal masks bodies, its `errcode` kept (the key names a code, not a secret). */
export const maskAnswer = (body: unknown): unknown => {
  const masked = Journal.mask(body)
  if (typeof body !== "object" || body === null || Array.isArray(body) || !("errcode" in body)) return masked
  return { ...(masked as object), errcode: (body as { errcode: unknown }).errcode }
}

/** The rids held, newest last. */
export const make = (clock: { readonly now: () => number }) => {
  // A Map keeps insertion order, which is the order of mock time: the oldest rid is its first key.
  let held = new Map<string, RidRecord>()
  const prune = (now: number) => {
    for (const [rid, record] of held) {
      if (now - record.at <= ridLifetimeMs && held.size <= maxRids) break
      held.delete(rid)
    }
  }
  return {
    record: (rid: string, record: RidRecord): void => {
      held.set(rid, record)
      prune(clock.now())
    },
    /**
     * `openapi/rid/get` for a token's owner: 76002 for a missing or
     * malformed rid, 76001 for one unknown or older than 7 days, 76022 for a
     * `/sns/` call's, 76003 for another owner's.
     */
    lookup: (owner: Owner, rid: unknown): Answer => {
      const now = clock.now()
      prune(now)
      if (typeof rid !== "string" || !ridShape.test(rid)) return error(76002)
      const found = held.get(rid)
      if (found === undefined || now - found.at > ridLifetimeMs) return error(76001)
      if (found.path.includes("/sns/")) return error(76022)
      if (found.owner !== owner.appId) return error(76003)
      return {
        errcode: 0,
        errmsg: "ok",
        request: {
          invoke_time: Math.floor(found.at / 1000),
          cost_in_ms: found.costMs,
          request_url: found.url,
          request_body: found.requestBody,
          response_body: found.responseBody,
          client_ip: found.clientIp
        }
      }
    },
    size: (): number => held.size,
    clear: (): void => {
      held = new Map()
    }
  }
}

/** The rids the mock holds. */
export type Rids = ReturnType<typeof make>
