/**
 * wxopen as a user outside this repository gets it: the publishable packages packed, installed with npm into fresh
 * projects in the system's temporary folder by the READMEs' own install commands, and every README program copied
 * there as written, type-checked, and the runnable ones run.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const pnpm = `npx -y ${JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager}`
const publishable = ["core", "mock-server", "redis-store"]
const minutes = (n: number) => n * 60_000

// A user's shell, not this test run's: no WXOPEN_* a developer exported for `pnpm start`, and none of the npm settings
// pnpm exports to its scripts (this workspace's engine-strict among them), but for where the registry is.
const keptNpmSettings = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile)$/i
const userEnv: Record<string, string> = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name, value]) =>
      value !== undefined && !name.startsWith("WXOPEN_") && (!/^npm_/i.test(name) || keptNpmSettings.test(name))
    ) as Array<[string, string]>
  ),
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false"
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** What a run printed, for failure messages. */
const shown = (command: string, run: Run) => `${command} exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`

const children = new Set<ChildProcess>()
const killAll = () => {
  for (const child of children) {
    try {
      process.kill(-child.pid!, "SIGKILL")
    } catch {
      // gone already
    }
  }
}

/** Starts a shell command in its own process group (npx and tsx start children of their own). */
const start = (command: string, cwd: string, env: Record<string, string> = {}) => {
  const child = spawn("sh", ["-c", command], { cwd, detached: true, env: { ...userEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  children.add(child)
  const output = { stdout: "", stderr: "" }
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output.stdout += chunk))
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output.stderr += chunk))
  const exit = new Promise<Run>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child)
      resolve({ code, ...output })
    })
  )
  const stop = () => {
    try {
      process.kill(-child.pid!, "SIGKILL")
    } catch {
      // gone already
    }
    return exit
  }
  return { output, exit, stop }
}

/** Runs a command to its end, killed past `timeout`. */
const run = async (command: string, cwd: string, env: Record<string, string> = {}, timeout = minutes(5)) => {
  const process = start(command, cwd, env)
  const timer = setTimeout(() => void process.stop(), timeout)
  const result = await process.exit
  clearTimeout(timer)
  return result
}

/** Runs a command until its output matches `pattern` (or it exits, or `timeout` passes); then stops it. */
const runUntil = async (command: string, cwd: string, env: Record<string, string>, pattern: RegExp, timeout = minutes(1)) => {
  const process = start(command, cwd, env)
  const deadline = Date.now() + timeout
  let exited: Run | undefined
  void process.exit.then((result) => (exited = result))
  while (!pattern.test(process.output.stdout + process.output.stderr) && exited === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { matched: pattern.test(process.output.stdout + process.output.stderr), ...(exited ?? (await process.stop())) }
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })

/** The fenced blocks of a README, with the marker that names each (`<!-- readme:name -->` just above it). */
const blocks = (file: string, language: string) => {
  const text = readFileSync(join(root, file), "utf8")
  return [...text.matchAll(new RegExp(`(?:<!-- readme:([\\w-]+) -->\\n)?\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map(
    ([, marker, body], index) => ({ name: marker ?? String(index + 1), body: body! })
  )
}

const block = (file: string, language: string, name: string) => {
  const found = blocks(file, language).find((block) => block.name === name)
  assert.isDefined(found, `${file} has no <!-- readme:${name} --> ${language} block`)
  return found!.body
}

const readmes = {
  root: "README.md",
  core: "packages/core/README.md",
  "mock-server": "packages/mock-server/README.md",
  "redis-store": "packages/redis-store/README.md"
}

describe("installed from packed tarballs into fresh npm projects", () => {
  const folders: Array<string> = []
  const folder = (prefix: string) => {
    const path = mkdtempSync(join(tmpdir(), prefix))
    folders.push(path)
    return path
  }
  let packs = ""
  const tarball = (name: string) => join(packs, `wxopen-${name}-0.1.0.tgz`)

  /** A README's install block, run as written in `cwd`, but for the tarballs in place of the unpublished names. */
  const install = async (file: string, cwd: string, extra: (line: string) => string = (line) => line) => {
    const started = Date.now()
    for (const line of block(file, "sh", "install").trim().split("\n")) {
      const command = extra(line.replace(/@wxopen\/([\w-]+)@\S+/g, (_, name: string) => tarball(name)))
      const result = await run(command, cwd, {}, minutes(8))
      assert.strictEqual(result.code, 0, shown(command, result))
    }
    return (Date.now() - started) / 1000
  }

  /** A new ES-module project with what a package README's install command brings, and nothing else. */
  const packageProject = async (name: string) => {
    const project = folder(`wxopen-${name}-consumer-`)
    const init = await run("npm init -y && npm pkg set type=module", project)
    assert.strictEqual(init.code, 0, shown("npm init", init))
    await install(`packages/${name}/README.md`, project)
    return project
  }

  beforeAll(async () => {
    process.once("exit", killAll)
    packs = folder("wxopen-packs-")
    const packed = await run(`${pnpm} --filter "./packages/{${publishable.join(",")}}" pack --pack-destination ${packs}`, root)
    assert.strictEqual(packed.code, 0, shown("pnpm pack", packed))
    for (const name of publishable) {
      const untar = await run(`mkdir -p ${join(packs, name)} && tar -xzf ${tarball(name)} -C ${join(packs, name)}`, packs)
      assert.strictEqual(untar.code, 0, shown("tar", untar))
    }
  }, minutes(3))

  afterAll(() => {
    killAll()
    for (const path of folders) rmSync(path, { recursive: true, force: true })
  })

  it("the packed manifests name real versions, a license, Node's range and ./package.json", () => {
    for (const name of publishable) {
      const unpacked = join(packs, name, "package")
      const text = readFileSync(join(unpacked, "package.json"), "utf8")
      assert.notInclude(text, "workspace:", `@wxopen/${name}`)
      const manifest = JSON.parse(text)
      assert.strictEqual(manifest.license, "MIT")
      assert.strictEqual(manifest.engines?.node, ">=20.19")
      assert.strictEqual(manifest.exports?.["./package.json"], "./package.json")
      assert.includeMembers(readdirSync(unpacked), ["LICENSE", "README.md", "package.json", "dist"], `@wxopen/${name}`)
      for (const peer of ["effect", "@effect/platform"]) {
        assert.isDefined(manifest.peerDependencies?.[peer], `@wxopen/${name} declares ${peer} as a peer`)
        assert.isUndefined(manifest.dependencies?.[peer], `@wxopen/${name} must not bring its own ${peer}`)
      }
    }
  })

  describe("the README's project: its install commands, its programs, the first one run", () => {
    let project = ""
    const programs = new Map<string, string>()
    let installSeconds = 0
    let mockEnv: Record<string, string> = {}
    let mockSeconds = 0
    let commands: Array<string> = []

    beforeAll(async () => {
      project = folder("wxopen-consumer-")
      // The README adds the Redis store to the core line for several instances; its README's programs need it.
      installSeconds = await install(
        "README.md",
        project,
        (line) => line.includes("wxopen-core-") ? `${line} ${tarball("redis-store")}` : line
      )
      // Every README program, each in a file of its own (a program two READMEs show is written once).
      for (const [source, file] of Object.entries(readmes)) {
        for (const { body, name } of blocks(file, "ts")) {
          if (![...programs.values()].includes(body)) programs.set(`${source}-${name}.ts`, body)
        }
      }
      for (const [name, body] of programs) writeFileSync(join(project, name), body)

      // The README's two commands: the mock (on any free port here, as 4100 may be taken), then the program.
      commands = block("README.md", "sh", "run").split("\n").map((line) => line.replace(/#.*$/, "").trim()).filter(Boolean)
      assert.strictEqual(commands.length, 2, "README.md's <!-- readme:run --> block: the mock, then the program")
      assert.strictEqual(commands[0], "npx wxopen-mock")
      const started = Date.now()
      const mock = await runUntil(`${commands[0]} -p 0`, project, {}, /^export WXOPEN_COMPONENT_VERIFY_TICKET=\S+\n/m)
      mockSeconds = (Date.now() - started) / 1000
      // runUntil stopped it: it served only to read its settings. The tests start their own from the same command.
      mockEnv = Object.fromEntries([...mock.stdout.matchAll(/^export (WXOPEN_\w+)=(\S+)$/gm)].map(([, k, v]) => [k!, v!]))
      assert.isTrue(mock.matched, shown(commands[0]!, mock))
    }, minutes(12))

    it("npm sees every dependency met, and one copy of effect, @effect/platform and @wxopen/core", async () => {
      const tree = await run("npm ls --all", project)
      assert.strictEqual(tree.code, 0, shown("npm ls --all", tree))
      // Every installed copy of these, at any depth: a second effect breaks fibers, services and tags.
      const copies: Array<string> = []
      const walk = (modules: string) => {
        for (const entry of readdirSync(modules, { withFileTypes: true })) {
          if (!entry.isDirectory()) continue
          const path = join(modules, entry.name)
          if (entry.name.startsWith("@")) walk(path)
          else {
            const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)
            if (["effect", "@effect/platform", "@wxopen/core"].includes(name)) copies.push(path.slice(project.length + 1))
            if (existsSync(join(path, "node_modules"))) walk(join(path, "node_modules"))
          }
        }
      }
      walk(join(project, "node_modules"))
      assert.deepStrictEqual(copies.sort(), ["node_modules/@effect/platform", "node_modules/@wxopen/core", "node_modules/effect"])
      const resolved = await run(
        `node --input-type=module -e 'import { createRequire } from "node:module"; console.log(createRequire(process.cwd() + "/").resolve("@wxopen/core/package.json"), import.meta.resolve("@wxopen/core/package.json"))'`,
        project
      )
      assert.strictEqual(resolved.code, 0, shown("resolve @wxopen/core/package.json", resolved))
    })

    it("every README program type-checks under strict and NodeNext, and those without Node APIs without Node typings", async () => {
      const compilerOptions = {
        strict: true,
        exactOptionalPropertyTypes: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        noEmit: true
      }
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: [...programs.keys()] }, null, 2))
      // The public types of core and the mock name nothing of Node's: checked with no @types at all (lib checks on).
      writeFileSync(join(project, "public-types.ts"), `export * as Core from "@wxopen/core"\nexport * as Mock from "@wxopen/mock-server"\n`)
      // Programs that use Node (node:http, platform-node's HTTP stacks, ioredis, vitest) need its typings, rightly.
      const nodeFree = [...programs.keys()].filter((name) =>
        !/"node:|"@effect\/platform-node\/(?!NodeRuntime")|redis-store|vitest/.test(programs.get(name)!)
      )
      assert.isAtLeast(nodeFree.length, 4)
      writeFileSync(
        join(project, "tsconfig.no-node.json"),
        JSON.stringify({ compilerOptions: { ...compilerOptions, types: [] }, files: ["public-types.ts", ...nodeFree] }, null, 2)
      )
      const checked = await run("npx tsc -p tsconfig.json", project)
      assert.strictEqual(checked.code, 0, shown("tsc -p tsconfig.json", checked))
      const nodeless = await run("npx tsc -p tsconfig.no-node.json", project)
      assert.strictEqual(nodeless.code, 0, shown("tsc -p tsconfig.no-node.json", nodeless))
      // Nothing may bring Node's typings in by the back door, or the check above would prove nothing.
      const files = await run("npx tsc -p tsconfig.no-node.json --listFilesOnly", project)
      assert.strictEqual(files.code, 0, shown("tsc --listFilesOnly", files))
      assert.notInclude(files.stdout, "node_modules/@types/node/", `${nodeFree.join(", ")} pulled in @types/node`)
    }, minutes(6))

    it("the first program prints both links against the packed wxopen-mock, with the settings the mock prints", async () => {
      const mock = start(`${commands[0]} -p 0`, project)
      const started = Date.now()
      const deadline = started + minutes(1)
      while (!/^export WXOPEN_COMPONENT_VERIFY_TICKET=\S+\n/m.test(mock.output.stdout) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const env = Object.fromEntries([...mock.output.stdout.matchAll(/^export (WXOPEN_\w+)=(\S+)$/gm)].map(([, k, v]) => [k!, v!]))
      assert.isDefined(env.WXOPEN_COMPONENT_VERIFY_TICKET, shown(commands[0]!, { code: null, ...mock.output }))
      writeFileSync(join(project, "program.ts"), programs.get("root-program.ts")!)
      const program = await run(commands[1]!, project, env, minutes(2))
      const runSeconds = (Date.now() - started) / 1000
      await mock.stop()
      assert.strictEqual(program.code, 0, shown(commands[1]!, program))
      const [pc, mobile, ...rest] = program.stdout.trim().split("\n")
      assert.match(pc!, /^PC: {5}https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?component_appid=wx0c0ffee000000001&pre_auth_code=preauthcode%40%40%40/)
      assert.match(mobile!, /^mobile: https:\/\/open\.weixin\.qq\.com\/wxaopen\/safe\/bindcomponent\?.*#wechat_redirect$/)
      assert.deepStrictEqual(rest, [])
      console.log(
        `install test: the README's install commands took ${installSeconds.toFixed(1)} s; the mock to its settings ` +
          `${mockSeconds.toFixed(1)} s; the mock and the first program to both links ${runSeconds.toFixed(1)} s`
      )
    }, minutes(4))

    for (const receiver of ["effect-receiver", "node-receiver"]) {
      it(`${receiver}: a missing setting stops it with exit code 1 and the variable's name`, async () => {
        const result = await run(`npx tsx root-${receiver}.ts`, project, { PORT: String(await freePort()) }, minutes(2))
        assert.strictEqual(result.code, 1, shown(receiver, result))
        assert.include(result.stdout + result.stderr, "WXOPEN_COMPONENT_APPID", shown(receiver, result))
      }, minutes(3))
    }

    it("effect-receiver: says where it listens, and a port in use stops it with exit code 1", async () => {
      const port = String(await freePort())
      const first = start("npx tsx root-effect-receiver.ts", project, { ...mockEnv, PORT: port })
      const deadline = Date.now() + minutes(1)
      while (!first.output.stdout.includes(`Listening on http://0.0.0.0:${port}`) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const listening = first.output.stdout.includes(`Listening on http://0.0.0.0:${port}`)
      const second = listening ? await run("npx tsx root-effect-receiver.ts", project, { ...mockEnv, PORT: port }, minutes(2)) : undefined
      const output = await first.stop()
      assert.isTrue(listening, shown("effect-receiver", output))
      assert.strictEqual(second!.code, 1, shown("a second effect-receiver on the same port", second!))
      assert.match(second!.stdout + second!.stderr, /EADDRINUSE|address already in use/i, shown("effect-receiver", second!))
    }, minutes(4))

    it("node-receiver: says where it listens once its services are built", async () => {
      const port = String(await freePort())
      const result = await runUntil("npx tsx root-node-receiver.ts", project, { ...mockEnv, PORT: port }, /listening on/)
      assert.isTrue(result.matched, shown("node-receiver", result))
      assert.include(result.stdout, `listening on http://localhost:${port}`)
    }, minutes(2))
  })

  describe("the mock README's project: its install command, its CLI, its script and its test", () => {
    it("run as written, with nothing but what that command installs", async () => {
      const project = await packageProject("mock-server")
      const help = await run("npx wxopen-mock -h", project)
      assert.strictEqual(help.code, 0, shown("npx wxopen-mock -h", help))
      writeFileSync(join(project, "mock-demo.ts"), block("packages/mock-server/README.md", "ts", "start"))
      writeFileSync(join(project, "mock.test.ts"), block("packages/mock-server/README.md", "ts", "layer"))
      const script = await run("npx tsx mock-demo.ts", project, {}, minutes(2))
      assert.strictEqual(script.code, 0, shown("npx tsx mock-demo.ts", script))
      assert.strictEqual(script.stdout, "a token for 7200 s; 1 api_component_token request in the journal\n")
      const test = await run("npx vitest run", project, { CI: "1", NO_COLOR: "1" }, minutes(3))
      assert.strictEqual(test.code, 0, shown("npx vitest run", test))
      assert.match(test.stdout, /Tests\s+1 passed \(1\)/, shown("npx vitest run", test))
    }, minutes(15))
  })

  describe("the Redis store README's project", () => {
    it("its install command brings everything the store loads", async () => {
      const project = await packageProject("redis-store")
      const loaded = await run(
        `node --input-type=module -e 'const { RedisTokenStore } = await import("@wxopen/redis-store"); if (typeof RedisTokenStore.layer !== "function") process.exit(3)'`,
        project
      )
      assert.strictEqual(loaded.code, 0, shown("import @wxopen/redis-store", loaded))
    }, minutes(10))
  })
})
