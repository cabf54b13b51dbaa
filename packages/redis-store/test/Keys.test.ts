import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@wxopen/core"
import { ConfigProvider, Context, Effect, Exit, Layer, Option, Redacted } from "effect"
import { Redis } from "ioredis"
import { RedisTokenStore } from "../src/index.js"
import { startRedis } from "./utils.js"

const appId = "wx0000000000000001"

describe("RedisTokenStore keys", () => {
  it.live("are namespaced by prefix and appids; the ticket lives 12 h from its creation, the token until its expiry, an authorization for ever", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* Effect.acquireRelease(Effect.sync(() => new Redis(redis.url)), (c) => Effect.promise(() => c.quit()))
      const store = Context.get(yield* Layer.build(RedisTokenStore.layer({ client, prefix: "shop-a" })), TokenStore.TokenStore)
      const now = Date.now()
      yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: now - 3600_000, receivedAt: now })
      yield* store.setComponentToken(appId, { value: Redacted.make("token"), expiresAt: now + 7200_000 })
      yield* store.setAuthorizer(appId, "wxauth", { accessToken: Redacted.make("at"), expiresAt: now + 7200_000, refreshToken: Redacted.make("rt"), authorizedAt: now })
      const keys = (yield* Effect.promise(() => client.keys("*"))).sort()
      assert.deepStrictEqual(keys, ["shop-a:wx0000000000000001:authorizer:wxauth", "shop-a:wx0000000000000001:component_token", "shop-a:wx0000000000000001:ticket"])
      const ttl = (key: string) => Effect.promise(() => client.pttl(key))
      const hours = (ms: number) => Math.round(ms / 3600_000)
      assert.strictEqual(hours(yield* ttl("shop-a:wx0000000000000001:ticket")), 11)
      assert.strictEqual(hours(yield* ttl("shop-a:wx0000000000000001:component_token")), 2)
      assert.strictEqual(yield* ttl("shop-a:wx0000000000000001:authorizer:wxauth"), -1, "the refresh token never expires")
      // The ticket is in no token's key: a new ticket leaves the token where it was.
      yield* store.setTicket(appId, { value: Redacted.make("ticket-2"), createdAt: now, receivedAt: now })
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* store.getComponentToken(appId)).value), "token")
    }).pipe(Effect.scoped))

  it.live("a client given to the layer is left open when the layer ends", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const client = yield* Effect.acquireRelease(Effect.sync(() => new Redis(redis.url)), (c) => Effect.promise(() => c.quit()))
      yield* Effect.scoped(Layer.build(RedisTokenStore.layer({ client })))
      assert.strictEqual(yield* Effect.promise(() => client.ping()), "PONG")
    }).pipe(Effect.scoped))

  it.live("layerConfig reads WXOPEN_REDIS_URL and WXOPEN_REDIS_PREFIX", () =>
    Effect.gen(function*() {
      const redis = yield* startRedis
      const provider = ConfigProvider.fromMap(new Map([["WXOPEN_REDIS_URL", redis.url], ["WXOPEN_REDIS_PREFIX", "from-env"]]))
      const store = Context.get(
        yield* Layer.build(RedisTokenStore.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(provider)))),
        TokenStore.TokenStore
      )
      yield* store.setComponentToken(appId, { value: Redacted.make("t"), expiresAt: Date.now() + 60_000 })
      const client = yield* Effect.acquireRelease(Effect.sync(() => new Redis(redis.url)), (c) => Effect.promise(() => c.quit()))
      assert.deepStrictEqual(yield* Effect.promise(() => client.keys("*")), ["from-env:wx0000000000000001:component_token"])
    }).pipe(Effect.scoped))

  it.live("layerConfig says which variable to set when neither is, and refuses both a URL and a cluster", () =>
    Effect.gen(function*() {
      const build = (entries: ReadonlyArray<readonly [string, string]>) =>
        Effect.exit(Effect.scoped(Layer.build(RedisTokenStore.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))))))
      const messages = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? String(exit.cause) : "built"
      const neither = messages(yield* build([]))
      assert.include(neither, "WXOPEN_REDIS_URL is not set")
      assert.include(neither, "WXOPEN_REDIS_CLUSTER_NODES")
      assert.include(
        messages(yield* build([["WXOPEN_REDIS_URL", "redis://127.0.0.1:1"], ["WXOPEN_REDIS_CLUSTER_NODES", "redis://127.0.0.1:2"]])),
        "both set"
      )
      assert.include(messages(yield* build([["WXOPEN_REDIS_CLUSTER_NODES", " , "]])), "holds no URL")
    }))
})
