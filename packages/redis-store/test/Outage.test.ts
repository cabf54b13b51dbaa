import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@wxopen/core"
import { Context, Effect, Exit, Layer, Option, Redacted, Schedule, Scope } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis } from "ioredis"
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

  // A client the layer opens has ioredis's own command timeout; a client of yours may not, and then the store's
  // own timeout is what holds.
  for (const kind of ["url", "client without a command timeout"] as const) {
  it.live(`a frozen Redis (${kind}): reads, lease takes and closing fail within the timeout, and a late take leaves no lease`, () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const server = yield* redisProcess(port)
      const scope = yield* Scope.make()
      const url = `redis://127.0.0.1:${port}`
      const client = kind === "url" ? undefined : new Redis(url, { enableOfflineQueue: false })
      if (client !== undefined) {
        client.on("error", () => {})
        yield* Effect.promise(() => new Promise((resolve) => client.once("ready", resolve)))
      }
      const store = yield* Effect.map(
        Layer.build(RedisTokenStore.layer(client === undefined ? { url, commandTimeout: "500 millis" } : { client, commandTimeout: "500 millis" })),
        (context) => Context.get(context, TokenStore.TokenStore)
      ).pipe(Scope.extend(scope))
      const within = <A, E>(limit: number, effect: Effect.Effect<A, E>) =>
        Effect.gen(function*() {
          const started = Date.now()
          const exit = yield* Effect.exit(effect)
          assert.isBelow(Date.now() - started, limit, "no hang")
          return exit
        })

      server.kill("SIGSTOP") // Redis stops answering, connections stay open
      const read = yield* within(1_500, store.getTicket("wx0000000000000001"))
      assert.isTrue(Exit.isFailure(read))
      const take = yield* within(1_500, store.withLease("k", "1 minute", Effect.void))
      assert.isTrue(Exit.isFailure(take))
      server.kill("SIGCONT")

      // The take that timed out did land once Redis woke up; its release followed it: no lease is left.
      const freed = yield* store.withLease("k", "1 minute", Effect.succeed("taken")).pipe(
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 30 }),
        Effect.flatMap((taken) => (Option.isSome(taken) ? Effect.succeed(taken.value) : Effect.fail("still held"))),
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 30 })
      )
      assert.strictEqual(freed, "taken")

      server.kill("SIGSTOP")
      const closed = yield* within(3_500, Scope.close(scope, Exit.void))
      assert.isTrue(Exit.isSuccess(closed))
      server.kill("SIGCONT")
      client?.disconnect()
    }).pipe(Effect.scoped), 60_000)
  }

  it.live("a store built while Redis is down starts anyway, fails typed, and works once Redis is up", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const started = Date.now()
      const store = yield* Effect.map(
        Layer.build(RedisTokenStore.layer({ url: `redis://127.0.0.1:${port}`, commandTimeout: "500 millis" })),
        (context) => Context.get(context, TokenStore.TokenStore)
      )
      assert.isBelow(Date.now() - started, 6_500)
      assert.strictEqual((yield* Effect.flip(store.getTicket("wx0000000000000001")))._tag, "TokenStoreError")
      yield* redisProcess(port)
      const written = yield* store.setComponentToken("wx0000000000000001", { value: Redacted.make("t"), expiresAt: Date.now() + 60_000 }).pipe(
        Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 })
      )
      assert.isTrue(written)
    }).pipe(Effect.scoped), 60_000)
})
