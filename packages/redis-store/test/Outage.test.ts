import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@wxopen/core"
import { Context, Effect, Exit, Layer, Option, Redacted, Schedule, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RedisTokenStore } from "../src/index.js"
import { freePort, redisProcess } from "./utils.js"

describe("RedisTokenStore when Redis goes away", () => {
  it.live("typed errors while Redis is down, never a hang; the same store works again when it is back, ticket kept", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const dir = mkdtempSync(join(tmpdir(), "wxopen-redis-"))
      const first = yield* Scope.make()
      yield* redisProcess(port, dir).pipe(Scope.extend(first))
      const store = yield* Effect.map(
        Layer.build(RedisTokenStore.layer({ url: `redis://127.0.0.1:${port}`, commandTimeout: "1 second" })),
        (context) => Context.get(context, TokenStore.TokenStore)
      )
      yield* store.setTicket("wx0000000000000001", { value: Redacted.make("ticket@@@kept"), createdAt: Date.now(), receivedAt: Date.now() })

      yield* Scope.close(first, Exit.void) // Redis stops
      const started = Date.now()
      const down = yield* Effect.flip(store.getTicket("wx0000000000000001"))
      assert.strictEqual(down._tag, "TokenStoreError")
      assert.isBelow(Date.now() - started, 1_500, "a typed error at once or within the command timeout, not a hang")
      const lease = yield* Effect.flip(store.withLease("k", "1 second", Effect.void))
      assert.strictEqual(lease._tag, "TokenStoreError")

      yield* redisProcess(port, dir) // Redis is back, with what it had written
      const ticket = yield* store.getTicket("wx0000000000000001").pipe(
        Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 })
      )
      assert.deepStrictEqual(Option.map(ticket, (t) => Redacted.value(t.value)), Option.some("ticket@@@kept"))
    }).pipe(Effect.scoped), 60_000)
})
