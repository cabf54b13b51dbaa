/**
 * A shorter way to send wxopen's own requests that an HttpClient may carry:
 * one POST of a JSON text, answered with the status and the body's text,
 * under a total deadline the sender keeps itself (a timer in the same
 * callback, not a fiber racing the request). `UndiciHttpClient` carries one;
 * `ComponentApi` uses it when the HttpClient in context is exactly that
 * client, and the HttpClient's own `execute` otherwise.
 */
import type { Effect } from "effect"

export const TypeId: unique symbol = Symbol.for("@wxopen/core/FastPost")

/** What went wrong below HTTP: no answer within the deadline, or the request failed (its cause). */
export type Failure =
  | { readonly reason: "Timeout" }
  | { readonly reason: "RequestFailed"; readonly cause: unknown }

/** Sends `body` to `url` (query included) and reads the whole answer; interrupting it aborts the request. */
export type FastPost = (url: string, body: string, timeoutMillis: number) => Effect.Effect<readonly [number, string], Failure>

/** The short path an HttpClient carries, if it carries one. */
export const of = (client: object): FastPost | undefined => (client as { readonly [TypeId]?: FastPost })[TypeId]
