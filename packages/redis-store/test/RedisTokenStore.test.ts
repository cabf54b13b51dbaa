import { assert, layer } from "@effect/vitest"
import { TokenStore } from "@wxopen/core"
import { ConfigProvider, Context, Effect, Layer, Option, Redacted } from "effect"
import { Cluster, type Redis } from "ioredis"
import { contract } from "../../core/test/TokenStoreContract.js"
import { RedisTokenStore } from "../src/index.js"
import { RedisCluster, startRedis } from "./utils.js"

// One redis-server per test, so that each starts from an empty store.
contract(
  "RedisTokenStore",
  Layer.unwrapScoped(Effect.map(startRedis, ({ url }) => RedisTokenStore.layer({ url })))
)

const appId = "wx0000000000000001"

// Every key on a master, sorted.
const keysOn = (master: Redis) => Effect.promise(() => master.keys("*")).pipe(Effect.map((keys) => keys.sort()))

// How many SCANs a master has run since its counters were reset.
const scans = (master: Redis) =>
  Effect.promise(() => master.info("commandstats")).pipe(Effect.map((info) => Number(/cmdstat_scan:calls=(\d+)/.exec(info)?.[1] ?? 0)))

// One cluster for the file, started before its first test and stopped after its last; each test empties it first.
layer(RedisCluster.layer, { excludeTestServices: true, timeout: "2 minutes" })("on a Redis Cluster of three masters", (it) => {
  contract(
    "RedisTokenStore on a Redis Cluster",
    Layer.unwrapEffect(Effect.gen(function*() {
      const cluster = yield* RedisCluster
      yield* cluster.flush
      return RedisTokenStore.layer({ cluster: cluster.urls })
    })),
    it.effect
  )

  it.effect("a Cluster client of yours is taken by layer({ client }), keeps one Redis's keys, and is left open", () =>
    Effect.gen(function*() {
      const cluster = yield* RedisCluster
      yield* cluster.flush
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Cluster([cluster.urls[0]!], { enableOfflineQueue: false })),
        (client) => Effect.promise(() => client.quit())
      )
      yield* Effect.async<void>((resume) => void client.once("ready", () => resume(Effect.void)))
      yield* Effect.scoped(Effect.gen(function*() {
        const store = Context.get(yield* Layer.build(RedisTokenStore.layer({ client, prefix: "shop-a" })), TokenStore.TokenStore)
        const now = Date.now()
        yield* store.setTicket(appId, { value: Redacted.make("ticket"), createdAt: now, receivedAt: now })
        yield* store.setComponentToken(appId, { value: Redacted.make("token"), expiresAt: now + 7200_000 })
        yield* store.setAuthorizer(appId, "wxauth", { accessToken: Redacted.make("at"), expiresAt: now + 7200_000, refreshToken: Redacted.make("rt"), authorizedAt: now })
        assert.isTrue(yield* store.invalidateAuthorizer(appId, "wxauth", Redacted.make("at")))
        assert.deepStrictEqual(yield* store.listAuthorizers(appId), ["wxauth"])
        assert.strictEqual(Option.getOrNull(yield* store.withLease("k", "1 minute", Effect.succeed("held"))), "held")
      }))
      const keys = (yield* Effect.forEach(cluster.masters, keysOn)).flat().sort()
      assert.deepStrictEqual(keys, ["shop-a:wx0000000000000001:authorizer:wxauth", "shop-a:wx0000000000000001:component_token", "shop-a:wx0000000000000001:ticket"])
      assert.strictEqual(yield* Effect.promise(() => client.get("shop-a:wx0000000000000001:ticket").then((json) => JSON.parse(json!).value)), "ticket")
    }).pipe(Effect.scoped), 60_000)

  it.effect("listAuthorizers finds the accounts on every master, paging SCAN on each", () =>
    Effect.gen(function*() {
      const cluster = yield* RedisCluster
      yield* cluster.flush
      const store = Context.get(yield* Layer.build(RedisTokenStore.layer({ cluster: cluster.urls })), TokenStore.TokenStore)
      // About 1,500 a master: more than one page of SCAN (1,000) on each.
      const accounts = Array.from({ length: 4_500 }, (_, i) => `wx${i.toString(16).padStart(16, "0")}`)
      const authorized = { accessToken: Redacted.make("at"), expiresAt: 0, refreshToken: Redacted.make("rt"), authorizedAt: 1_000 }
      yield* Effect.forEach(accounts, (account) => store.setAuthorizer(appId, account, authorized), { concurrency: 50, discard: true })
      yield* store.setAuthorizer("wx0000000000000002", "wxauthofanother", authorized)
      const held = yield* Effect.forEach(cluster.masters, (master) => Effect.promise(() => master.dbsize()))
      assert.isTrue(held.every((n) => n > 1_000), `accounts per master: ${held.join(", ")}`)
      yield* Effect.forEach(cluster.masters, (master) => Effect.promise(() => master.call("CONFIG", "RESETSTAT")), { discard: true })
      assert.deepStrictEqual([...yield* store.listAuthorizers(appId)].sort(), accounts)
      const pages = yield* Effect.forEach(cluster.masters, scans)
      assert.isTrue(pages.every((n) => n >= 2), `SCANs per master: ${pages.join(", ")}`)
      assert.deepStrictEqual(yield* store.listAuthorizers("wx0000000000000002"), ["wxauthofanother"])
    }).pipe(Effect.scoped), 60_000)

  it.effect("layerConfig opens a Cluster client on WXOPEN_REDIS_CLUSTER_NODES", () =>
    Effect.gen(function*() {
      const cluster = yield* RedisCluster
      yield* cluster.flush
      const provider = ConfigProvider.fromMap(new Map([["WXOPEN_REDIS_CLUSTER_NODES", cluster.urls.join(", ")], ["WXOPEN_REDIS_PREFIX", "from-env"]]))
      const store = Context.get(
        yield* Layer.build(RedisTokenStore.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(provider)))),
        TokenStore.TokenStore
      )
      // Accounts enough that every master holds some: the client reaches them all.
      const accounts = Array.from({ length: 30 }, (_, i) => `wxauth${i}`)
      yield* Effect.forEach(accounts, (account) =>
        store.setAuthorizer(appId, account, { accessToken: Redacted.make("at"), expiresAt: 0, refreshToken: Redacted.make("rt"), authorizedAt: 1 }), { discard: true })
      const held = yield* Effect.forEach(cluster.masters, keysOn)
      assert.isTrue(held.every((keys) => keys.length > 0 && keys.every((key) => key.startsWith("from-env:wx0000000000000001:authorizer:"))), JSON.stringify(held))
      assert.deepStrictEqual([...yield* store.listAuthorizers(appId)].sort(), [...accounts].sort())
    }).pipe(Effect.scoped), 60_000)
})
