/**
 * Child processes for the benchmarks: a server or a client in a process of
 * its own, pinned to one core with `taskset` where it exists (the machine has
 * two: servers get core 0, clients core 1), so that the two sides do not
 * compete for one core; not pinned in a smoke run.
 *
 * @since 0.1.0
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/**
 * Whether processes can be pinned to cores (`taskset` exists).
 *
 * @since 0.1.0
 * @category constants
 */
export const pinned = hasTaskset

/**
 * The cores a run pins its processes to, `undefined` for none.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cores {
  /** The core of servers. */
  readonly server: number | undefined
  /** The core of clients and load generators. */
  readonly client: number | undefined
}

/**
 * The cores of a run: servers on core 0, clients on core 1; none in a smoke
 * run, whose numbers mean nothing, so that on a busy machine each process
 * runs wherever there is room rather than wait for its core.
 *
 * @since 0.1.0
 * @category constructors
 */
export const cores = (options: { readonly smoke: boolean }): Cores =>
  options.smoke || !hasTaskset ? { server: undefined, client: undefined } : { server: 0, client: 1 }

/**
 * The path of a compiled module of this package, e.g. `script("Server.js")`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const script = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url))

/**
 * Starts `node SCRIPT ARGS…` on `core` (anywhere when `undefined`), output piped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const node = (
  file: string,
  args: ReadonlyArray<string>,
  core: number | undefined,
  nodeArgs: ReadonlyArray<string> = []
): ChildProcess =>
  core !== undefined
    ? spawn("taskset", ["-c", String(core), process.execPath, ...nodeArgs, file, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    : spawn(process.execPath, [...nodeArgs, file, ...args], { stdio: ["ignore", "pipe", "inherit"] })

/**
 * Everything a process printed on stdout, once it exited with 0.
 *
 * @since 0.1.0
 * @category constructors
 */
export const output = (child: ChildProcess): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => text += chunk)
    child.on("error", reject)
    child.on("exit", (code) => code === 0 ? resolve(text) : reject(new Error(`${child.spawnargs.join(" ")} exited with ${code}`)))
  })

/**
 * A running server from `Server.js`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningServer {
  readonly url: string
  /** Milliseconds from the server's `start()` to listening, as the server measured it. */
  readonly startMs: number
  readonly pid: number
  readonly stop: () => Promise<void>
}

/**
 * Starts a server of `Server.js` (`minimal`, `node-http`, `json-server`, `mock`) on `core`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const server = (kind: string, core: number | undefined): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    const child = node(script("Server.js"), [kind], core)
    let text = ""
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`the ${kind} server exited with ${code} before listening`)))
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk
      const line = /^listening (\S+) (\S+)$/m.exec(text)
      if (line === null) return
      resolve({
        url: line[1]!,
        startMs: Number(line[2]),
        pid: child.pid!,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners("exit")
            if (child.exitCode !== null) return done()
            child.on("exit", () => done())
            child.kill()
          })
      })
    })
  })
