import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { ComponentConfig, ComponentToken, TokenStore, WeChatClient } from "@wxopen/core"
import { MockServer } from "@wxopen/mock-server"
import { Context, Effect, ExecutionStrategy, Exit, Layer, Redacted, Schedule, Scope } from "effect"
import { Redis } from "ioredis"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { RedisTokenStore } from "../src/index.js"

const redisServer = process.env.REDIS_SERVER_PATH ?? "/usr/bin/redis-server"
const redisCli = process.env.REDIS_CLI_PATH ?? join(dirname(redisServer), "redis-cli")

const freePort = Effect.async<number>((resume) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const address = probe.address()
    probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

/**
 * One redis-server process on `port`, persisting to `dir` when given, with `args` after the others; stopped with the
 * scope. One that exits before it is ready fails with what it printed.
 */
export const redisProcess = (port: number, options: { readonly dir?: string; readonly args?: ReadonlyArray<string> } = {}) => {
  const persistence = options.dir === undefined
    ? ["--save", "", "--appendonly", "no"]
    : ["--dir", options.dir, "--appendonly", "yes", "--appendfsync", "always"]
  return Effect.acquireRelease(
    Effect.async<ReturnType<typeof spawn>>((resume) => {
      const child = spawn(redisServer, ["--port", String(port), "--bind", "127.0.0.1", ...persistence, ...(options.args ?? [])], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk
        if (output.includes("Ready to accept connections")) resume(Effect.succeed(child))
      })
      child.on("error", (error) => resume(Effect.die(new Error(`could not run ${redisServer}: ${error.message}\n${output}`))))
      child.on("exit", (code) => resume(Effect.die(new Error(`redis-server on port ${port} exited (${code}):\n${output}`))))
    }),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
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

// Whether nothing listens on `port` of 127.0.0.1.
const isFree = (port: number) =>
  Effect.async<boolean>((resume) => {
    const probe = createServer()
    probe.once("error", () => resume(Effect.succeed(false)))
    probe.listen(port, "127.0.0.1", () => probe.close(() => resume(Effect.succeed(true))))
  })

// `count` free ports whose cluster bus ports (the port + 10000, where every Redis version puts it) are free too.
const freeClusterPorts = (count: number) =>
  Effect.gen(function*() {
    const taken = new Set<number>()
    const ports: Array<number> = []
    while (ports.length < count) {
      const port = yield* freePort
      const bus = port + 10_000
      if (bus > 65_535 || taken.has(port) || taken.has(bus) || !(yield* isFree(bus))) continue
      taken.add(port).add(bus)
      ports.push(port)
    }
    return ports
  })

// Runs redis-cli with `args` to its end; one that fails says why, with everything it printed.
const redisCliRun = (args: ReadonlyArray<string>) =>
  Effect.async<string>((resume) => {
    const child = spawn(redisCli, args, { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
    child.on("error", (error) => resume(Effect.die(new Error(`could not run ${redisCli}: ${error.message}\n${output}`))))
    child.on("close", (code) =>
      resume(code === 0 ? Effect.succeed(output) : Effect.die(new Error(`redis-cli ${args.join(" ")} exited (${code}):\n${output}`))))
  })

/**
 * A Redis Cluster of three masters (no replicas) on free ports, with a client on each master that looks behind the
 * store's back; stopped, and its files removed, with the scope. Started with `redis-cli --cluster create`, and ready
 * once every node says `cluster_state:ok`. A machine without redis-server or redis-cli fails here and says why.
 */
export const startCluster = Effect.gen(function*() {
  for (const [binary, variable, install] of [[redisServer, "REDIS_SERVER_PATH", "redis-server"], [redisCli, "REDIS_CLI_PATH", "redis-tools"]]) {
    if (!existsSync(binary!)) return yield* Effect.die(new Error(`no ${binary}: apt-get install ${install} (or set ${variable})`))
  }
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "wxopen-cluster-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const ports = yield* freeClusterPorts(3)
  yield* Effect.forEach(ports, (port, i) =>
    redisProcess(port, { args: ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${i + 1}.conf`)] }), {
    concurrency: "unbounded",
    discard: true
  })
  const created = yield* redisCliRun(["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"])
  const masters = yield* Effect.forEach(ports, (port) => probeOn(`redis://127.0.0.1:${port}`))
  // Each node says ok once it has heard that every slot is served: polled, for as long as that takes.
  let states: Array<string> = []
  yield* Effect.forEach(masters, (master) => Effect.promise(() => master.call("CLUSTER", "INFO") as Promise<string>)).pipe(
    Effect.tap((infos) => Effect.sync(() => states = infos.map((info) => /cluster_state:(\w+)/.exec(info)?.[1] ?? "?"))),
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (infos) => infos.every((info) => info.includes("cluster_state:ok")) }),
    Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new Error(`the cluster is not ok after a minute (cluster_state per node: ${states.join(", ")}); redis-cli said:\n${created}`)
    }),
    Effect.orDie
  )
  return {
    ports,
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    masters,
    flush: Effect.forEach(masters, (master) => Effect.promise(() => master.flushall()), { discard: true })
  }
})

/** A Redis Cluster shared by the tests of a describe: see `startCluster`. */
export class RedisCluster extends Context.Tag("test/RedisCluster")<RedisCluster, Effect.Effect.Success<typeof startCluster>>() {
  static readonly layer = Layer.scoped(RedisCluster, startCluster)
}

/**
 * A redis-server on a free port that writes an append-only file, synced on every write, in a directory of its own.
 * `kill` ends it at once, as a crash would; `restart` starts it again on the same port with what it had written
 * (stopped with the caller's scope); `aof` reads what it wrote. Stopped with the scope.
 */
export const persistentRedis = Effect.gen(function*() {
  const port = yield* freePort
  const dir = mkdtempSync(join(tmpdir(), "wxopen-redis-"))
  const first = yield* Effect.flatMap(Effect.scope, (scope) => Scope.fork(scope, ExecutionStrategy.sequential))
  const server = yield* redisProcess(port, { dir }).pipe(Scope.extend(first))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: Effect.suspend(() => {
      server.kill("SIGKILL")
      return Scope.close(first, Exit.void)
    }),
    restart: redisProcess(port, { dir }),
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
