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

describe("MockServer refuses what would break it", () => {
  const json = (url: string, init: RequestInit = {}) =>
    Effect.promise(async () => {
      const response = await fetch(url, init)
      return [response.status, await response.json()] as const
    })

  it.live("a path below an endpoint is not the endpoint; a broken escape is a WeChat error, not a stack trace", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const [, nested] = yield* json(`${mock.url}/cgi-bin/component/x/api_create_preauthcode`, { method: "POST", body: "{}" })
      assert.strictEqual(nested.errcode, 48001)
      const [status, broken] = yield* json(`${mock.url}/cgi-bin/component/%E0%A4%A`, { method: "POST", body: "{}" })
      assert.deepStrictEqual([status, broken.errcode], [400, 47001])
      // A path that starts with // is a path, not a host to resolve against.
      const [doubled, account] = yield* json(`${mock.url}//%20`, { method: "POST", body: "\"\"" })
      assert.deepStrictEqual([doubled, account.errcode], [200, 41001])
    }).pipe(Effect.scoped))

  it.live("a clock advance past ten years, a 1xx status fault, a journal limit of 0", () =>
    Effect.gen(function*() {
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const post = (path: string, body: unknown) => json(`${mock.url}/__admin${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })
      assert.strictEqual((yield* post("/clock", { advanceSeconds: 1e13 }))[0], 400)
      assert.strictEqual((yield* post("/faults", { endpoint: "*", fault: { type: "status", status: 101 } }))[0], 400)
      assert.strictEqual((yield* post("/faults", { endpoint: "api_typo", fault: { type: "empty" } }))[0], 400)
      assert.strictEqual((yield* post("/faults", { endpoint: "*", fault: { type: "delay", ms: 3_600_000 } }))[0], 400)
      assert.strictEqual((yield* json(`${mock.url}/__admin/journal?limit=0`))[0], 400)
      assert.strictEqual((yield* json(`${mock.url}/__admin/clock`))[0], 200)
    }).pipe(Effect.scoped))

  it.live("close ends a pending delay fault and leaves no timer behind", () =>
    Effect.gen(function*() {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length
      const before = timers()
      const mock = yield* Effect.promise(() => MockServer.start())
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: "*", fault: { type: "delay", ms: 30_000 } }))
      const pending = fetch(`${mock.url}/cgi-bin/component/api_component_token`, { method: "POST", body: "{}" }).catch(() => "closed")
      yield* Effect.sleep("100 millis")
      const started = Date.now()
      yield* Effect.promise(() => mock.close())
      assert.strictEqual(yield* Effect.promise(() => pending), "closed")
      assert.isBelow(Date.now() - started, 2_000)
      yield* Effect.sleep("50 millis")
      assert.isAtMost(timers(), before)
    }))

  it.live("the layer fails with a typed error on a bad configuration", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(MockServer.layer({ config: { components: [] as never } })))
      assert.strictEqual(error._tag, "MockStartError")
      assert.include(error.message, "components")
    }).pipe(Effect.scoped))
})
