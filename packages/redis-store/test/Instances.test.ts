import { assert, describe, it } from "@effect/vitest"
import { ComponentToken, TokenStore } from "@wxopen/core"
import { Context, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { RedisTokenStore } from "../src/index.js"
import { instanceLayer, startMock, startRedis } from "./utils.js"

/** A child process that ran (or is running, when it was awaited until a line), with everything it printed. */
interface Child {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly kill: () => void
}

// Both streams and the exit code, for every assertion about a child: one that fails says why.
const report = (child: Child) => `exit code ${child.code}\n--- stdout ---\n${child.stdout}\n--- stderr ---\n${child.stderr}`

// Runs node on `file` (or `args` alone), until it exits or prints `until`; killed with the scope if still running.
const run = (file: string, args: ReadonlyArray<string>, env: Record<string, string>, until?: string) =>
  Effect.acquireRelease(
    Effect.async<Child, Error>((resume) => {
      const child = spawn(process.execPath, [...args, file].filter((a) => a !== ""), {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      const kill = () => child.kill("SIGKILL")
      const now = (code: number | null): Child => ({ code, stdout, stderr, kill })
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk
        if (until !== undefined && stdout.includes(until)) resume(Effect.succeed(now(null)))
      })
      child.on("error", (error) => resume(Effect.fail(new Error(`could not run ${file || args.join(" ")}: ${error.message}\n${report(now(null))}`))))
      // "close", not "exit": the streams are read to their end.
      child.on("close", (code) => resume(Effect.succeed(now(code))))
    }),
    (child) => Effect.sync(child.kill)
  )

describe("several instances on one Redis", () => {
  it.live("four processes × 250 concurrent PreAuthCode.create on a cold store: one token request, 1,000 codes; A's receiver stores the ticket the others use", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const example = fileURLToPath(new URL("../../examples/dist/several-instances.js", import.meta.url))
      const child = yield* run(example, [], { WXOPEN_REDIS_URL: redis.url })
      assert.strictEqual(child.code, 0, report(child))
      assert.match(child.stdout, /instance A: its receiver .* stored the pushed ticket in Redis/, report(child))
      assert.match(child.stdout, /4 instances × 250 concurrent PreAuthCode\.create: 1000 distinct codes/, report(child))
      assert.match(child.stdout, /api_component_token requests WeChat received: 1\n/, report(child))
    }).pipe(Effect.scoped), 60_000)

  it.live("a lease holder killed mid-refresh: another instance takes over when its lease lapses, and one token results", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const mock = yield* startMock
      const component = mock.config.components[0]!
      const context = yield* Layer.build(instanceLayer(mock, { url: redis.url }))
      const store = Context.get(context, TokenStore.TokenStore)
      const { createdAt, ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      yield* store.setTicket(component.appId, { value: Redacted.make(ticket), createdAt, receivedAt: Date.now() })

      // A process takes the component's refresh lease (for 3 s) and dies before it can fetch or release.
      const holder = yield* run("", ["--input-type=module", "-e", `
        import { Redis } from "ioredis"
        const redis = new Redis(${JSON.stringify(redis.url)})
        await redis.set("wxopen:lease:${ComponentToken.refreshLeaseKey(component.appId)}", "a-process-that-dies", "PX", 3000, "NX")
        console.log("holding")
        setInterval(() => {}, 1000)
      `], {}, "holding")
      assert.strictEqual(holder.code, null, report(holder))
      holder.kill()

      const tokens = Context.get(context, ComponentToken.ComponentToken)
      const waiting = yield* Effect.fork(Effect.all([tokens.get, tokens.get, tokens.get], { concurrency: "unbounded" }))
      yield* Effect.sleep("700 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)), "waits while the dead holder's lease lasts")
      assert.strictEqual((yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_component_token" }))).length, 0)
      const got = yield* Fiber.join(waiting)
      assert.strictEqual(new Set(got.map((t) => Redacted.value(t.value))).size, 1)
      assert.strictEqual((yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_component_token" }))).length, 1)
    }).pipe(Effect.scoped), 60_000)

  it.live("two instances writing out of order keep the newest ticket and token", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const storeOf = Effect.map(Layer.build(RedisTokenStore.layer({ url: redis.url })), (c) => Context.get(c, TokenStore.TokenStore))
      const [a, b] = [yield* storeOf, yield* storeOf]
      const appId = "wx0000000000000001"
      for (let round = 0; round < 50; round++) {
        const base = round * 10_000
        yield* Effect.all([
          a.setTicket(appId, { value: Redacted.make(`new-${round}`), createdAt: base + 2, receivedAt: base }),
          b.setTicket(appId, { value: Redacted.make(`old-${round}`), createdAt: base + 1, receivedAt: base + 5 }),
          a.setComponentToken(appId, { value: Redacted.make(`token-new-${round}`), expiresAt: Date.now() + base + 60_000 }),
          b.setComponentToken(appId, { value: Redacted.make(`token-old-${round}`), expiresAt: Date.now() + base + 30_000 })
        ], { concurrency: "unbounded" })
        assert.strictEqual(Redacted.value(Option.getOrThrow(yield* b.getTicket(appId)).value), `new-${round}`)
        assert.strictEqual(Redacted.value(Option.getOrThrow(yield* a.getComponentToken(appId)).value), `token-new-${round}`)
      }
    }).pipe(Effect.scoped), 60_000)
})
