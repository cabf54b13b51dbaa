/**
 * Keeping a token valid, for any kind of token: use the stored one while it
 * has at least the margin left; otherwise refresh it under the store's lease
 * (one process at a time; the others wait a little, read the store again, and
 * take the lease over once it is free), with the fetch cut off at a deadline;
 * and if a refresh fails while the stored token has not expired yet, fall
 * back on it with a warning.
 *
 * In-process single flight is the caller's: it wraps {@link Refresher.get}.
 */
import { Clock, Duration, Effect, Option } from "effect"
import type { SingleFlight } from "./singleFlight.js"
import type { Service as TokenStore, TokenStoreError } from "../TokenStore.js"
import { RefreshTimeoutError } from "../WeChatError.js"

/**
 * How long a lease outlives a holder that stopped renewing it (a process that died): what the others wait at most
 * for a holder that is gone, once the store answers.
 */
export const leaseTtl: Duration.Duration = Duration.seconds(10)

/** How long a caller may take to get a token: its own fetch, retries included, or its wait for another holder's. */
export const deadline: Duration.Duration = Duration.seconds(90)

// How long a waiter waits on the lease before it reads the store again.
const poll = Duration.seconds(1)

/** What is refreshed: a token with its expiry. */
export interface Expiring {
  readonly expiresAt: number
}

/** One token to keep valid. */
export interface Options<T extends Expiring, E> {
  readonly store: TokenStore
  /** The stored token, if any, expired or not. */
  readonly read: Effect.Effect<Option.Option<T>, E>
  /** Fetches a new token and stores it. */
  readonly fetch: Effect.Effect<T, E>
  readonly leaseKey: string
  /** Refresh when less than this (milliseconds) is left. */
  readonly margin: number
  /** What the token is (`component_access_token`), for errors and the log. */
  readonly name: string
}

/**
 * The stored token while it has the margin left; else a refresh under the lease (falling back on a stored token
 * that has not expired), joined by every caller of this process, in a span named by the caller.
 */
export interface Refresher<T, E> {
  readonly get: (
    singleFlight: SingleFlight<T, E | TokenStoreError | RefreshTimeoutError>,
    key: string,
    span: { readonly name: string; readonly attributes: Record<string, unknown> }
  ) => Effect.Effect<T, E | TokenStoreError | RefreshTimeoutError>
}

export const make = <T extends Expiring, E>(options: Options<T, E>): Refresher<T, E> => {
  const { store } = options
  const storedWithAtLeast = (millis: number) =>
    Effect.zipWith(
      options.read,
      Clock.currentTimeMillis,
      (token, now) => Option.filter(token, ({ expiresAt }) => expiresAt - now > 0 && expiresAt - now >= millis)
    )
  const fresh = storedWithAtLeast(options.margin)
  const timedOut = (reason: RefreshTimeoutError["reason"]) => () =>
    new RefreshTimeoutError({ token: options.name, reason, seconds: Duration.toSeconds(deadline) })

  // Under the lease, read again: the previous holder may have just written a token.
  const fetchUnderLease = (millisLeft: number) =>
    Effect.flatMap(fresh, Option.match({ onSome: Effect.succeed, onNone: () => options.fetch })).pipe(
      Effect.timeoutFail({ duration: millisLeft, onTimeout: timedOut("Deadline") })
    )

  // Take the lease, or wait a little for its holder and read what it wrote. The deadline counts from the caller's
  // start: a fetch after a wait (a lease taken over) gets what is left of it, and a caller with nothing left gives up.
  const underLease: Effect.Effect<T, E | TokenStoreError | RefreshTimeoutError> = Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    let millisLeft = Duration.toMillis(deadline)
    while (true) {
      const fetched = yield* store.withLease(options.leaseKey, leaseTtl, fetchUnderLease(millisLeft))
      if (Option.isSome(fetched)) return fetched.value
      yield* store.awaitLease(options.leaseKey, poll)
      const current = yield* fresh
      if (Option.isSome(current)) return current.value
      millisLeft = Duration.toMillis(deadline) - ((yield* Clock.currentTimeMillis) - started)
      if (millisLeft <= 0) return yield* timedOut("LeaseWait")()
    }
  })

  // Inside the margin the stored token still works: a failed refresh falls back on it rather than fail the caller.
  const refresh = underLease.pipe(
    Effect.catchAll((error) =>
      Effect.flatMap(
        storedWithAtLeast(0),
        Option.match({
          onNone: () => Effect.fail(error),
          onSome: (token) =>
            Effect.as(
              Effect.logWarning(`refreshing the ${options.name} failed; using the current one until it expires`).pipe(
                Effect.annotateLogs({ error: error instanceof Error ? error.message : String(error) })
              ),
              token
            )
        })
      )
    )
  )
  // Only a refresh is traced: handing out the stored token is not worth a span of its own.
  return {
    get: (singleFlight, key, span) =>
      Effect.flatMap(fresh, (token) =>
        Option.isSome(token)
          ? Effect.succeed(token.value)
          : singleFlight(key, refresh).pipe(Effect.withSpan(span.name, { attributes: span.attributes }))
      )
  }
}
