/**
 * What keeps the mock safe to leave running on a developer's machine: who
 * may use the admin API (the `Host` a request names, where a browser says it
 * comes from, an optional token) and where pushes may go.
 *
 * @internal
 */
import { timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"
import { isIP } from "node:net"

/** Who may use the admin API, besides a client on this machine naming it by address or as `localhost`. */
export interface AdminPolicy {
  /** When set, every admin request carries `authorization: Bearer <token>`. */
  readonly token: string | undefined
  /** Host names (lowercase, without port) the admin API answers for, besides IP addresses and `localhost`. */
  readonly allowedHosts: ReadonlySet<string>
}

/** Why an admin request is refused, as an HTTP status and a message that says what to do. */
export interface Refusal {
  readonly status: 401 | 403 | 415
  readonly error: string
}

/** The host name of a `Host` header (`[::1]:80` → `::1`), lowercase; `undefined` for a malformed one. */
export const hostnameOf = (host: string): string | undefined => {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d{1,5})?$/.exec(host)
  if (bracketed !== null) return bracketed[1]!.toLowerCase()
  const plain = /^([^:[\]/\s@]+)(?::\d{1,5})?$/.exec(host)
  return plain === null ? undefined : plain[1]!.toLowerCase()
}

/** `localhost`, 127.0.0.0/8 or ::1: the only places reached without leaving the machine. */
export const isLoopback = (hostname: string): boolean => {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1")
  return name === "localhost" || name === "::1" || (isIP(name) === 4 && name.startsWith("127."))
}

const sameBytes = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)]
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Why an admin request is refused, or `undefined` when it may go on.
 *
 * - A `Host` that is neither an IP address, `localhost`, nor an allowed host
 *   name: a page of another site reaching the mock through a name it
 *   controls (DNS rebinding).
 * - A browser's request from another origin (`Origin`, `Sec-Fetch-Site`): a
 *   page the developer opens may send requests, and must not change or read
 *   the mock.
 * - A body that is not JSON: what a page can send without asking first
 *   (`text/plain`, a form) is never taken.
 * - A missing or wrong token, when one is set.
 */
export const refusal = (req: IncomingMessage, policy: AdminPolicy): Refusal | undefined => {
  const host = req.headers.host
  if (host !== undefined) {
    const hostname = hostnameOf(host)
    if (hostname === undefined || !(isIP(hostname) !== 0 || hostname === "localhost" || policy.allowedHosts.has(hostname))) {
      return {
        status: 403,
        error: `the admin API does not answer for the host ${JSON.stringify(host.slice(0, 100))}: ` +
          "use an IP address or localhost, or start the mock with allowedHosts (--allowed-host) naming it"
      }
    }
  }
  const origin = req.headers.origin
  const site = req.headers["sec-fetch-site"]
  if ((origin !== undefined && !sameOrigin(origin, host)) || (site !== undefined && site !== "same-origin" && site !== "none")) {
    return { status: 403, error: "the admin API refuses requests from web pages of other origins" }
  }
  const length = req.headers["content-length"]
  const type = req.headers["content-type"]
  if (((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined) &&
    !/^application\/json\s*(?:;|$)/i.test(type ?? "")) {
    return { status: 415, error: "the admin API takes JSON bodies only: send content-type: application/json" }
  }
  if (policy.token !== undefined) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]
    if (given === undefined || !sameBytes(given, policy.token)) {
      return {
        status: 401,
        error: "the admin API needs its token: send authorization: Bearer <token> (AdminClient.make(url, { token }))"
      }
    }
  }
  return undefined
}

const sameOrigin = (origin: string, host: string | undefined): boolean => {
  if (host === undefined) return false
  try {
    return new URL(origin).host === new URL(`http://${host}`).host
  } catch {
    return false
  }
}

/**
 * Why a push may not go to `url`, or `undefined` when it may: an http(s)
 * URL on this machine, or on a host named in `pushHosts`.
 */
export const pushRefusal = (url: string, pushHosts: ReadonlyArray<string>): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "pushUrl must be an absolute http(s) URL"
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "pushUrl must be an absolute http(s) URL"
  if (parsed.username !== "" || parsed.password !== "") return "pushUrl must not carry a user name or password"
  const hostname = parsed.hostname.toLowerCase()
  if (isLoopback(hostname) || pushHosts.some((allowed) => allowed.toLowerCase() === hostname)) return undefined
  return `pushes go only to this machine (localhost, 127.0.0.1, [::1]) or to a host named in the configuration's pushHosts; ` +
    `${JSON.stringify(hostname)} is neither`
}

/** What a push destination (`pushUrl`, `messageUrl`) looks like: http(s), no whitespace, no fragment. */
export const destinationPattern = /^https?:\/\/[^\s#]+$/

/** The sentence for a destination that does not match {@link destinationPattern}. */
export const destinationShape = "an absolute http(s) URL, without whitespace or a fragment (#…: the signature's query would follow it and never reach the platform)"

/**
 * Why a push destination set at run time (`field`, `$APPID$` already
 * replaced for a message URL) is refused, or `undefined`: the configuration's
 * rule, its {@link destinationPattern} and {@link pushRefusal}.
 */
export const destinationRefusal = (field: "pushUrl" | "messageUrl", url: string, pushHosts: ReadonlyArray<string>): string | undefined =>
  destinationPattern.test(url) ? pushRefusal(url, pushHosts)?.replace(/^pushUrl/, field) : `${field} must be ${destinationShape}`

/** `url` with `query` appended: after `?` when it has no query, after `&` when it has one (none doubled). */
export const withQuery = (url: string, query: URLSearchParams): string =>
  `${url}${!url.includes("?") ? "?" : url.endsWith("?") || url.endsWith("&") ? "" : "&"}${query}`

/**
 * The first `maxBytes` of a response's body, read as a stream, and whether
 * there was more: past `maxBytes` the reader is cancelled, so that a
 * platform answering megabytes never has more than `maxBytes` of it (and a
 * chunk) held by the mock.
 */
export const readAtMost = async (
  response: Response,
  maxBytes: number
): Promise<{ readonly text: string; readonly truncated: boolean }> => {
  if (response.body === null) return { text: "", truncated: false }
  const reader = response.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  let truncated = false
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const room = maxBytes - size
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room))
      size = maxBytes
      truncated = true
      await reader.cancel()
      break
    }
    chunks.push(value)
    size += value.byteLength
  }
  // Copied out of the chunks, which may be views of larger buffers: only the kept bytes stay referenced.
  return { text: new TextDecoder().decode(Buffer.concat(chunks, size)), truncated }
}
