import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { ComponentConfig, ComponentToken, TokenStore, WeChatClient } from "@wxopen/core"
import { MockServer } from "@wxopen/mock-server"
import { Context, Effect, ExecutionStrategy, Exit, Layer, Redacted, Scope } from "effect"
import { Redis } from "ioredis"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { RedisTokenStore } from "../src/index.js"

const redisServer = process.env.REDIS_SERVER_PATH ?? "/usr/bin/redis-server"

const freePort = Effect.async<number>((resume) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const address = probe.address()
    probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

/** One redis-server process on `port`, persisting to `dir` when given; stopped with the scope. */
export const redisProcess = (port: number, dir?: string) => {
  const persistence = dir === undefined ? ["--save", "", "--appendonly", "no"] : ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always"]
  return Effect.acquireRelease(
    Effect.async<ReturnType<typeof spawn>>((resume) => {
      const child = spawn(redisServer, ["--port", String(port), "--bind", "127.0.0.1", ...persistence], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk
        if (output.includes("Ready to accept connections")) resume(Effect.succeed(child))
      })
      child.on("exit", (code) => resume(Effect.die(new Error(`redis-server exited (${code}):\n${output}`))))
    }),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
  )
}

/**
 * A redis-server of the test's own, on a free port, stopped with the scope. A machine without redis-server fails
 * here and says why (`.ci/run` installs it); a test that needs Redis is never skipped.
 */
export const startRedis = Effect.gen(function*() {
  if (!existsSync(redisServer)) {
    return yield* Effect.die(new Error(`no redis-server at ${redisServer}: apt-get install redis-server (or set REDIS_SERVER_PATH)`))
  }
  const port = yield* freePort
  const server = yield* redisProcess(port)
  return { url: `redis://127.0.0.1:${port}`, port, server }
})

export { freePort }

/**
 * A redis-server on a free port that writes an append-only file, synced on every write, in a directory of its own.
 * `kill` ends it at once, as a crash would; `restart` starts it again on the same port with what it had written
 * (stopped with the caller's scope); `aof` reads what it wrote. Stopped with the scope.
 */
export const persistentRedis = Effect.gen(function*() {
  const port = yield* freePort
  const dir = mkdtempSync(join(tmpdir(), "wxopen-redis-"))
  const first = yield* Effect.flatMap(Effect.scope, (scope) => Scope.fork(scope, ExecutionStrategy.sequential))
  const server = yield* redisProcess(port, dir).pipe(Scope.extend(first))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: Effect.suspend(() => {
      server.kill("SIGKILL")
      return Scope.close(first, Exit.void)
    }),
    restart: redisProcess(port, dir),
    aof: Effect.sync(() =>
      readdirSync(join(dir, "appendonlydir")).map((file) => readFileSync(join(dir, "appendonlydir", file), "latin1")).join("")
    )
  }
})

/** A mock WeChat on an ephemeral port, closed with the scope. */
export const startMock = Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))

/**
 * One instance of a platform against the mock's first component: its token
 * service on a Redis store, with the configuration, the store and the
 * HttpClient in the context too. Core's layers are composed here and nowhere
 * else in these tests, so that a change in what they require is met in one
 * place.
 */
export const instanceLayer = (mock: MockServer.RunningMock, redis: RedisTokenStore.Options) => {
  const component = mock.config.components[0]!
  return ComponentToken.layer.pipe(
    Layer.provideMerge(WeChatClient.layer()),
    Layer.provideMerge(ComponentConfig.layer({ appId: component.appId, appSecret: Redacted.make(component.appSecret), apiBaseUrl: mock.url })),
    Layer.provideMerge(RedisTokenStore.layer(redis)),
    Layer.provideMerge(FetchHttpClient.layer),
    Layer.orDie
  )
}

/** A store of its own on Redis, closed with the scope. */
export const storeOn = (options: RedisTokenStore.Options) =>
  Effect.map(Layer.build(RedisTokenStore.layer(options)), (context) => Context.get(context, TokenStore.TokenStore))

/**
 * A client that looks at Redis behind the store's back, disconnected with the
 * scope. It stays quiet while Redis is down, and reconnects when it is back.
 */
export const probeOn = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
      client.on("error", () => {})
      return client
    }),
    (client) => Effect.sync(() => client.disconnect())
  )

/** Lets forked fibers run until they block (on a command sent to Redis, say). */
export const settle = Effect.repeatN(Effect.yieldNow(), 50)
