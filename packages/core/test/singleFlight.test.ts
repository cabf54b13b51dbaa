import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"
import * as SingleFlight from "../src/internal/singleFlight.js"

describe("internal/singleFlight", () => {
  it.effect("callers that arrive during a run share it; the next caller starts a new one", () =>
    Effect.gen(function*() {
      const singleFlight = yield* SingleFlight.make<number, never>()
      const gate = yield* Deferred.make<void>()
      let runs = 0
      const run = Effect.zipRight(Deferred.await(gate), Effect.sync(() => ++runs))
      const callers = yield* Effect.fork(Effect.all(Array.from({ length: 5 }, () => singleFlight("k", run)), { concurrency: "unbounded" }))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual(yield* Fiber.join(callers), [1, 1, 1, 1, 1])
      assert.strictEqual(yield* singleFlight("k", run), 2)
    }).pipe(Effect.scoped))

  it.effect("a failure reaches the callers that waited and is not kept", () =>
    Effect.gen(function*() {
      const singleFlight = yield* SingleFlight.make<string, string>()
      assert.deepStrictEqual(yield* Effect.exit(singleFlight("k", Effect.fail("boom"))), Exit.fail("boom"))
      assert.strictEqual(yield* singleFlight("k", Effect.succeed("ok")), "ok")
    }).pipe(Effect.scoped))

  it.effect("a run in a scope that has closed is interrupted, and its caller hears of it instead of waiting for ever", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const singleFlight = yield* Scope.extend(SingleFlight.make<number, never>(), scope)
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Effect.exit(singleFlight("k", Effect.succeed(1)))
      assert.isTrue(Exit.isInterrupted(exit))
    }))
})
