import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Either, Exit, Layer, Scope } from "effect"
import * as MockServer from "../src/MockServer.js"

describe("MockServer.layer", () => {
  it.live("gives a fresh mock on an ephemeral port, closed with the scope", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.build(MockServer.layer()).pipe(Scope.extend(scope))
      const mock = Context.get(context, MockServer.MockServer)
      assert.match(mock.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.deepStrictEqual(yield* Effect.promise(() => fetch(`${mock.url}/__admin/health`).then((r) => r.json())), { ok: true })
      yield* Scope.close(scope, Exit.void)
      const after = yield* Effect.either(Effect.tryPromise(() => fetch(`${mock.url}/__admin/health`)))
      assert.isTrue(Either.isLeft(after))
    }))

  it.live("refuses an invalid configuration, naming the field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.tryPromise(() =>
        MockServer.start({ config: { components: [{ appId: "nope", appSecret: "s", token: "tok", encodingAesKey: "a".repeat(43) }] } })
      ))
      assert.include(String(error.error), "components.0.appId")
    }))
})
