/**
 * wxopen as a user outside this repository gets it: the publishable packages packed, installed with npm into a fresh
 * project in the system's temporary folder by the README's own install command, and every README program copied
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

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** What a run printed, for failure messages. */
const shown = (command: string, run: Run) => `${command} exited ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`

const children = new Set<ChildProcess>()

/** Starts a shell command in its own process group (npx and tsx start children of their own). */
const start = (command: string, cwd: string, env: Record<string, string> = {}) => {
  const child = spawn("sh", ["-c", command], {
    cwd,
    detached: true,
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
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
    if (children.has(child)) process.kill(-child.pid!, "SIGKILL")
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

/** Runs a command until its standard output matches `pattern` (or it exits, or `timeout` passes); then stops it. */
const runUntil = async (command: string, cwd: string, env: Record<string, string>, pattern: RegExp, timeout = minutes(2)) => {
  const process = start(command, cwd, env)
  const deadline = Date.now() + timeout
  let exited: Run | undefined
  void process.exit.then((result) => (exited = result))
  while (!pattern.test(process.output.stdout + process.output.stderr) && exited === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const matched = pattern.test(process.output.stdout + process.output.stderr)
  return { matched, ...(exited ?? (await process.stop())) }
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

const readmes = {
  root: "README.md",
  core: "packages/core/README.md",
  "mock-server": "packages/mock-server/README.md",
  "redis-store": "packages/redis-store/README.md"
}

describe("installed from packed tarballs into a fresh npm project", () => {
  const packs = mkdtempSync(join(tmpdir(), "wxopen-packs-"))
  const project = mkdtempSync(join(tmpdir(), "wxopen-consumer-"))
  const tarball = (name: string) => join(packs, `wxopen-${name}-0.1.0.tgz`)
  const programs = new Map<string, string>()
  let mockEnv: Record<string, string> = {}
  let installSeconds = 0

  beforeAll(async () => {
    const packed = await run(`${pnpm} --filter "./packages/{${publishable.join(",")}}" pack --pack-destination ${packs}`, root)
    assert.strictEqual(packed.code, 0, shown("pnpm pack", packed))
    for (const name of publishable) {
      const extracted = join(packs, name)
      const untar = await run(`mkdir -p ${extracted} && tar -xzf ${tarball(name)} -C ${extracted}`, packs)
      assert.strictEqual(untar.code, 0, shown("tar", untar))
    }

    // The README's install command, as written, but for the tarballs in place of the unpublished names.
    const install = blocks("README.md", "sh").find((block) => block.name === "install")
    assert.isDefined(install, "README.md has no <!-- readme:install --> block")
    const commands = install!.body.trim().split("\n").map((line) =>
      line.replace(/@wxopen\/(core|mock-server)@\S+/g, (_, name: string) => tarball(name))
        // The README adds the Redis store to this line for several instances; its README's programs need it.
        .replace(/^npm install \S+wxopen-core-\S+ .*$/, (line) => `${line} ${tarball("redis-store")}`)
    )
    const startedAt = Date.now()
    for (const command of commands) {
      const result = await run(command, project, {}, minutes(8))
      assert.strictEqual(result.code, 0, shown(command, result))
    }
    installSeconds = (Date.now() - startedAt) / 1000

    // Every README program, each in a file of its own (a program two READMEs show is written once).
    for (const [source, file] of Object.entries(readmes)) {
      for (const { name, body } of blocks(file, "ts")) {
        if ([...programs.values()].includes(body)) continue
        programs.set(`${source}-${name}${source === "mock-server" && name === "layer" ? ".test" : ""}.ts`, body)
      }
    }
    for (const [name, body] of programs) writeFileSync(join(project, name), body)
  }, minutes(12))

  afterAll(async () => {
    await Promise.all([...children].map((child) => process.kill(-child.pid!, "SIGKILL")))
    rmSync(project, { recursive: true, force: true })
    rmSync(packs, { recursive: true, force: true })
  })

  it("the packed manifests name real versions, a license, Node's range and ./package.json", () => {
    for (const name of publishable) {
      const folder = join(packs, name, "package")
      const text = readFileSync(join(folder, "package.json"), "utf8")
      assert.notInclude(text, "workspace:", `@wxopen/${name}`)
      const manifest = JSON.parse(text)
      assert.strictEqual(manifest.license, "MIT")
      assert.strictEqual(manifest.engines?.node, ">=20")
      assert.strictEqual(manifest.exports?.["./package.json"], "./package.json")
      assert.includeMembers(readdirSync(folder), ["LICENSE", "README.md", "package.json", "dist"], `@wxopen/${name}`)
      for (const peer of ["effect", "@effect/platform"]) {
        assert.isDefined(manifest.peerDependencies?.[peer], `@wxopen/${name} declares ${peer} as a peer`)
        assert.isUndefined(manifest.dependencies?.[peer], `@wxopen/${name} must not bring its own ${peer}`)
      }
    }
  })

  it("npm sees every dependency met, and one copy of effect, @effect/platform and @wxopen/core", async () => {
    const tree = await run("npm ls --all --json", project)
    assert.strictEqual(tree.code, 0, shown("npm ls --all", tree))
    // Every installed copy of these, at any depth: a second effect breaks fibers, services and tags.
    const copies: Array<string> = []
    const walk = (folder: string) => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue
        const path = join(folder, entry.name)
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
  }, minutes(4))

  it("the first program prints both links against the packed wxopen-mock, with the settings the mock prints", async () => {
    // The README's two commands: the mock (on any free port here, as 4100 may be taken), then the program.
    const commands = (blocks("README.md", "sh").find((block) => block.name === "run")?.body ?? "").split("\n")
      .map((line) => line.replace(/#.*$/, "").trim()).filter((line) => line !== "")
    assert.strictEqual(commands.length, 2, "README.md's <!-- readme:run --> block: the mock, then the program")
    assert.match(commands[0]!, /^npx wxopen-mock$/)
    writeFileSync(join(project, "program.ts"), programs.get("root-program.ts")!)
    const startedAt = Date.now()
    const mock = start(`${commands[0]} -p 0`, project)
    const deadline = Date.now() + minutes(1)
    while (!/^export WXOPEN_COMPONENT_VERIFY_TICKET=.*\n/m.test(mock.output.stdout) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    mockEnv = Object.fromEntries([...mock.output.stdout.matchAll(/^export (WXOPEN_\w+)=(\S+)$/gm)].map(([, k, v]) => [k!, v!]))
    assert.isDefined(mockEnv.WXOPEN_COMPONENT_VERIFY_TICKET, shown("npx wxopen-mock -p 0", { code: null, ...mock.output }))
    const program = await run(commands[1]!, project, mockEnv, minutes(2))
    const runSeconds = (Date.now() - startedAt) / 1000
    assert.strictEqual(program.code, 0, shown(commands[1]!, program))
    const [pc, mobile, ...rest] = program.stdout.trim().split("\n")
    assert.match(pc!, /^PC: {5}https:\/\/mp\.weixin\.qq\.com\/cgi-bin\/componentloginpage\?component_appid=wx0c0ffee000000001&pre_auth_code=preauthcode%40%40%40/)
    assert.match(mobile!, /^mobile: https:\/\/open\.weixin\.qq\.com\/wxaopen\/safe\/bindcomponent\?.*#wechat_redirect$/)
    assert.deepStrictEqual(rest, [])
    console.log(
      `install test: the README's install commands took ${installSeconds.toFixed(1)} s; the mock and the first program ` +
        `to both links ${runSeconds.toFixed(1)} s; ${(installSeconds + runSeconds).toFixed(1)} s from npm init to the links`
    )
  }, minutes(3))

  it("the mock README's script and its test run as written", async () => {
    const script = await run("npx tsx mock-server-start.ts", project, {}, minutes(2))
    assert.strictEqual(script.code, 0, shown("npx tsx mock-server-start.ts", script))
    assert.strictEqual(script.stdout, "a token for 7200 s; 1 api_component_token request in the journal\n")
    const test = await run("npx vitest run mock-server-layer.test.ts", project, { CI: "1", NO_COLOR: "1" }, minutes(3))
    assert.strictEqual(test.code, 0, shown("npx vitest run mock-server-layer.test.ts", test))
    assert.match(test.stdout, /Tests\s+1 passed \(1\)/, shown("vitest", test))
  }, minutes(6))

  describe("the README's receivers fail loudly", () => {
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
      assert.include(first.output.stdout, `Listening on http://0.0.0.0:${port}`, shown("effect-receiver", { code: null, ...first.output }))
      const second = await run("npx tsx root-effect-receiver.ts", project, { ...mockEnv, PORT: port }, minutes(2))
      await first.stop()
      assert.strictEqual(second.code, 1, shown("a second effect-receiver on the same port", second))
      assert.match(second.stdout + second.stderr, /EADDRINUSE|address already in use/i, shown("effect-receiver", second))
    }, minutes(3))

    it("node-receiver: says where it listens once its services are built", async () => {
      const port = String(await freePort())
      const result = await runUntil("npx tsx root-node-receiver.ts", project, { ...mockEnv, PORT: port }, /listening on/, minutes(1))
      assert.isTrue(result.matched, shown("node-receiver", result))
      assert.include(result.stdout, `listening on http://localhost:${port}`)
    }, minutes(2))
  })
})
