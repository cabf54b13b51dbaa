import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createServer } from "node:net"

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
