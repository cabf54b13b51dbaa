/**
 * What the quota benchmark's processes share: a clock that runs ahead of real
 * time by the offset the mock's clock was moved, wxopen's services pointed at
 * the mock, a batch of concurrent `PreAuthCode.create` with its outcome
 * tallied, and the messages between the benchmark and its worker processes.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { PreAuthCode, type TokenStore } from "@wxopen/core"
import type { MockConfig } from "@wxopen/mock-server"
import { Clock, type ConfigError, Effect, Either, Layer, Redacted } from "effect"
import * as Undici from "undici"
import * as Wxopen from "./Wxopen.js"

/**
 * A clock `offsetMs` ahead of real time, the mock's clock as its admin API
 * moves it, so that the client sees tokens and tickets age as the mock does.
 * Only reading the time is shifted: `sleep` stays real, so request timeouts,
 * backoffs and lease polls take the time they say.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedClock {
  readonly clock: Clock.Clock
  readonly offsetMs: () => number
  /** Moves the clock to `offsetMs` ahead of real time (only between batches of calls: never under a call). */
  readonly set: (offsetMs: number) => void
}

/**
 * A {@link SimulatedClock} at real time.
 *
 * @since 0.1.0
 * @category constructors
 */
export const simulatedClock = (): SimulatedClock => {
  const real = Clock.make()
  let offsetMs = 0
  const millis = () => real.unsafeCurrentTimeMillis() + offsetMs
  const nanos = () => real.unsafeCurrentTimeNanos() + BigInt(offsetMs) * 1_000_000n
  return {
    clock: {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: millis,
      currentTimeMillis: Effect.sync(millis),
      unsafeCurrentTimeNanos: nanos,
      currentTimeNanos: Effect.sync(nanos),
      sleep: (duration) => real.sleep(duration)
    },
    offsetMs: () => offsetMs,
    set: (next) => {
      offsetMs = next
    }
  }
}

/**
 * The mock's component, as its configuration gives it.
 *
 * @since 0.1.0
 * @category models
 */
export type Component = MockConfig.Component

/**
 * Connections per origin a process opens to the mock. The default undici
 * agent opens one per concurrent call: 10,000 in the client and 10,000 in the
 * mock would exceed the file descriptors one process may hold, and the figure
 * is about tokens, not sockets. Calls beyond it queue in undici.
 *
 * @since 0.1.0
 * @category constants
 */
export const connections = 128

const httpClient: Layer.Layer<HttpClient> = NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
  Layer.provide(
    Layer.scoped(
      NodeHttpClient.Dispatcher,
      Effect.acquireRelease(
        Effect.sync(() => new Undici.Agent({ connections })),
        (agent) => Effect.promise(() => agent.destroy())
      )
    )
  )
)

/**
 * wxopen's services for the mock's component on `store` (`Wxopen.layer`),
 * every setting (the refresh margin, the timeouts) left at its default, as a
 * platform would run.
 *
 * @since 0.1.0
 * @category layers
 */
export const wechat = <E>(options: {
  readonly apiBaseUrl: string
  readonly component: Component
  readonly store: Layer.Layer<TokenStore.TokenStore, E>
}): Layer.Layer<Wxopen.Services, E | ConfigError.ConfigError> =>
  Wxopen.layer({
    appId: options.component.appId,
    appSecret: Redacted.make(options.component.appSecret),
    apiBaseUrl: options.apiBaseUrl,
    messageToken: Redacted.make(options.component.token),
    encodingAesKey: Redacted.make(options.component.encodingAesKey),
    store: options.store,
    client: httpClient
  })

/**
 * What a batch of calls came to: how many succeeded, the codes when asked for,
 * and the failures by kind (`AccessTokenError 40001`, `TransportError`, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface Tally {
  readonly calls: number
  readonly successes: number
  readonly codes: ReadonlyArray<string>
  readonly failures: Readonly<Record<string, number>>
}

/**
 * No calls.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Tally = { calls: 0, successes: 0, codes: [], failures: {} }

/**
 * Two tallies added up.
 *
 * @since 0.1.0
 * @category combinators
 */
export const combine = (a: Tally, b: Tally): Tally => {
  const failures: Record<string, number> = { ...a.failures }
  for (const [kind, count] of Object.entries(b.failures)) failures[kind] = (failures[kind] ?? 0) + count
  return {
    calls: a.calls + b.calls,
    successes: a.successes + b.successes,
    codes: b.codes.length === 0 ? a.codes : [...a.codes, ...b.codes],
    failures
  }
}

/**
 * The failures of a tally whose kind starts with `prefix`, e.g. `AccessTokenError`.
 *
 * @since 0.1.0
 * @category getters
 */
export const failuresOf = (tally: Tally, prefix: string): number =>
  Object.entries(tally.failures).reduce((sum, [kind, count]) => kind.startsWith(prefix) ? sum + count : sum, 0)

/**
 * All the failures of a tally.
 *
 * @since 0.1.0
 * @category getters
 */
export const failuresTotal = (tally: Tally): number => failuresOf(tally, "")

// The errcode of WeChat's refusals, the operation of the store's failures, the reason of the others: never a detail,
// which could quote what was sent.
const kindOf = (error: PreAuthCode.PreAuthCodeError): string =>
  "errcode" in error && typeof error.errcode === "number"
    ? `${error._tag} ${error.errcode}`
    : error._tag === "TokenStoreError"
    ? `${error._tag} (${error.operation})`
    : "reason" in error
    ? `${error._tag} (${error.reason})`
    : error._tag

/**
 * `calls` concurrent `PreAuthCode.create`, all started at once; the codes are
 * kept when `keepCodes` (to check that they are distinct).
 *
 * @since 0.1.0
 * @category constructors
 */
export const createCodes = (
  calls: number,
  keepCodes: boolean
): Effect.Effect<Tally, never, Effect.Effect.Context<typeof PreAuthCode.create>> =>
  Effect.all(Array.from({ length: calls }, () => Effect.either(PreAuthCode.create)), { concurrency: "unbounded" }).pipe(
    Effect.map((results) => {
      const codes: Array<string> = []
      const failures: Record<string, number> = {}
      let successes = 0
      for (const result of results) {
        if (Either.isRight(result)) {
          successes++
          if (keepCodes) codes.push(result.right.code)
        } else {
          const kind = kindOf(result.left)
          failures[kind] = (failures[kind] ?? 0) + 1
        }
      }
      return { calls, successes, codes, failures }
    })
  )

/**
 * What the benchmark sends a worker, each answered by one {@link FromWorker}
 * in order: `open` the services of a scenario (answered `ready`), run batches
 * of `calls` at a simulated time (`done`), `close` the services (`closed`);
 * `exit` ends the process, unanswered.
 *
 * @since 0.1.0
 * @category models
 */
export type ToWorker =
  | {
    readonly type: "open"
    readonly apiBaseUrl: string
    readonly component: Component
    readonly redisUrl: string
    readonly prefix: string
  }
  | { readonly type: "calls"; readonly offsetMs: number; readonly calls: number; readonly keepCodes: boolean }
  | { readonly type: "close" }
  | { readonly type: "exit" }

/**
 * What a worker answers.
 *
 * @since 0.1.0
 * @category models
 */
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly tally: Tally }
  | { readonly type: "closed" }
