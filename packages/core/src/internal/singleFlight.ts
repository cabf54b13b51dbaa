/**
 * One run per key at a time: callers that arrive while a run is under way
 * await its result instead of starting their own.
 *
 * The run is forked into the scope given at construction, not into the first
 * caller, so interrupting any caller (the first included) leaves the others
 * waiting on a run that goes on. A run's result, success or failure, goes to
 * the callers that were waiting for it and is not kept: the next caller
 * starts a new run.
 */
import { Deferred, Effect, FiberId, type Scope } from "effect"

/** Joins the run under way for `key`, or starts `effect` as that run. */
export type SingleFlight<A, E> = (key: string, effect: Effect.Effect<A, E>) => Effect.Effect<A, E>

/** A single-flight group whose runs live in the current scope. */
export const make = <A, E>(): Effect.Effect<SingleFlight<A, E>, never, Scope.Scope> =>
  Effect.map(Effect.scope, (scope) => {
    const running = new Map<string, Deferred.Deferred<A, E>>()
    return (key, effect) =>
      Effect.uninterruptibleMask((restore) => {
        const joined = running.get(key)
        if (joined !== undefined) return restore(Deferred.await(joined))
        // Made and registered synchronously, so no caller can slip in between the check and the registration.
        const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
        running.set(key, deferred)
        const run = Effect.interruptible(effect).pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              running.delete(key)
              return Deferred.done(deferred, exit)
            })
          )
        )
        return Effect.zipRight(Effect.forkIn(run, scope), restore(Deferred.await(deferred)))
      })
  })
