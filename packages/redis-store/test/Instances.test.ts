import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ComponentConfig, ComponentToken, TokenStore } from "@wxopen/core"
import { MockServer } from "@wxopen/mock-server"
import { Context, Effect, Fiber, Layer, Option, Redacted } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { RedisTokenStore } from "../src/index.js"
import { startRedis } from "./utils.js"

const run = (file: string, args: ReadonlyArray<string>, env: Record<string, string>, until?: string) =>
  Effect.async<{ readonly stdout: string; readonly code: number | null; readonly kill: () => void }>((resume) => {
    const child = spawn(process.execPath, [...args, file].filter((a) => a !== ""), {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let stdout = ""
    const kill = () => child.kill("SIGKILL")
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (until !== undefined && stdout.includes(until)) resume(Effect.succeed({ stdout, code: null, kill }))
    })
    child.on("exit", (code) => resume(Effect.succeed({ stdout, code, kill })))
  })

describe("several instances on one Redis", () => {
  it.live("four processes × 250 concurrent PreAuthCode.create on a cold store: one token request, 1,000 codes; A's receiver stores the ticket the others use", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const example = fileURLToPath(new URL("../../examples/dist/several-instances.js", import.meta.url))
      const { code, stdout } = yield* run(example, [], { WXOPEN_REDIS_URL: redis.url })
      assert.strictEqual(code, 0, stdout)
      assert.match(stdout, /instance A: its receiver .* stored the pushed ticket in Redis/)
      assert.match(stdout, /4 instances × 250 concurrent PreAuthCode\.create: 1000 distinct codes/)
      assert.match(stdout, /api_component_token requests WeChat received: 1\n/)
    }).pipe(Effect.scoped), 60_000)

  it.live("a lease holder killed mid-refresh: another instance takes over when its lease lapses, and one token results", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const component = mock.config.components[0]!
      // A process takes the component's refresh lease (for 1.5 s) and dies before it can fetch or release.
      const holder = yield* run("", ["--input-type=module", "-e", `
        import { Redis } from "ioredis"
        const redis = new Redis(${JSON.stringify(redis.url)})
        await redis.set("wxopen:lease:${ComponentToken.refreshLeaseKey(component.appId)}", "a-process-that-dies", "PX", 1500, "NX")
        console.log("holding")
        setInterval(() => {}, 1000)
      `], {}, "holding")
      holder.kill()

      const context = yield* Layer.build(ComponentToken.layer.pipe(
        Layer.provideMerge(ComponentConfig.layer({ appId: component.appId, appSecret: Redacted.make(component.appSecret), apiBaseUrl: mock.url })),
        Layer.provideMerge(RedisTokenStore.layer({ url: redis.url })),
        Layer.provideMerge(FetchHttpClient.layer),
        Layer.orDie
      ))
      const store = Context.get(context, TokenStore.TokenStore)
      const { createdAt, ticket } = yield* Effect.promise(() => mock.admin.ticket(component.appId))
      yield* store.setTicket(component.appId, { value: Redacted.make(ticket), createdAt, receivedAt: Date.now() })

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
