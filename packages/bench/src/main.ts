/**
 * `pnpm bench [--smoke] [--out FILE] [client] [quota] [mock] [memory] [accounts] [receiver]`: runs
 * the benchmarks (all by default), prints each figure beside its baseline,
 * and writes them to `bench/results.json` at the repository's root (or
 * `FILE`), where they replace that benchmark's figures and leave the others. `--smoke` runs each briefly, to show that it still works, two at
 * a time and without pinning processes to cores; its numbers mean nothing.
 *
 * It is a benchmark, not a test: a missed target is reported, never an exit
 * code. It exits non-zero only when a benchmark could not run.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import type { Figure, Options } from "./Figure.js"
import * as Process from "./Process.js"

const benchmarks: Record<string, () => Promise<{ readonly run: (options: Options) => Promise<ReadonlyArray<Figure>> }>> = {
  client: () => import("./ClientBench.js"),
  quota: () => import("./QuotaBench.js"),
  mock: () => import("./MockBench.js"),
  memory: () => import("./MemoryBench.js"),
  accounts: () => import("./AccountsBench.js"),
  receiver: () => import("./ReceiverBench.js")
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { smoke: { type: "boolean", default: false }, out: { type: "string" } }
})
const unknown = positionals.filter((name) => !(name in benchmarks))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}: pick from ${Object.keys(benchmarks).join(", ")}`)
  process.exit(2)
}
// The longest smoke runs first.
const smokeOrder = ["mock", "quota", "client", "memory", "accounts", "receiver"]
const selected = positionals.length === 0 ? Object.keys(benchmarks) : positionals
const out = values.out ?? Path.resolve(Process.script("."), "../../../bench/results.json")

const format = (value: number) =>
  Number.isInteger(value) ? value.toLocaleString("en-US") : value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toPrecision(3)

// The figures as a Markdown table, the one the README shows.
const table = (figures: ReadonlyArray<Figure>): string =>
  [
    "| benchmark | figure | value | baseline | ratio | target |",
    "|---|---|---|---|---|---|",
    ...figures.map((f) =>
      `| ${f.benchmark} | ${f.name} | ${format(f.value)} ${f.unit} | ${f.baseline.name}: ${format(f.baseline.value)} | ` +
      `${f.ratio.toFixed(2)}× | ${f.target === undefined ? "" : `${f.target.text}: ${f.target.met ? "met" : "**missed**"}`} |`
    )
  ].join("\n")

const runOne = async (name: string): Promise<ReadonlyArray<Figure>> => {
  const began = performance.now()
  console.error(`${name}: running${values.smoke ? " (smoke)" : ""}…`)
  const { run } = await benchmarks[name]!()
  const produced = await run({ smoke: values.smoke })
  console.error(`${name}: ${produced.length} figures in ${((performance.now() - began) / 1000).toFixed(1)} s`)
  return produced
}

// A full run measures one benchmark at a time. A smoke run, whose numbers mean nothing and whose processes are not
// pinned, runs two at a time, the longest first: most of its time is processes starting, each on one core. After a
// failure no other benchmark starts, and the one under way finishes (and stops its processes) before it is reported.
const lanes = values.smoke ? 2 : 1
const queue = values.smoke ? [...selected].sort((a, b) => smokeOrder.indexOf(a) - smokeOrder.indexOf(b)) : [...selected]
const produced = new Map<string, ReadonlyArray<Figure>>()
const failures: Array<unknown> = []
await Promise.all(Array.from({ length: lanes }, async () => {
  for (let name = queue.shift(); name !== undefined && failures.length === 0; name = queue.shift()) {
    try {
      produced.set(name, await runOne(name))
    } catch (error) {
      failures.push(error)
    }
  }
}))
if (failures.length > 0) throw failures[0]
const figures = selected.flatMap((name) => produced.get(name)!)
console.log(table(figures))

// A run of some benchmarks replaces their figures in the file, and keeps the others of a run of the same kind.
const previous = (() => {
  try {
    return JSON.parse(Fs.readFileSync(out, "utf8")) as {
      readonly date: string
      readonly dates?: Readonly<Record<string, string>>
      readonly smoke: boolean
      readonly figures: ReadonlyArray<Figure>
    }
  } catch {
    return undefined
  }
})()
const kept = previous?.smoke === values.smoke ? previous.figures.filter((f) => !selected.includes(f.benchmark)) : []
const now = new Date().toISOString()
// When each benchmark's figures were measured.
const dates = Object.fromEntries(
  [...new Set([...kept.map((f) => f.benchmark), ...selected])].map((name) => [
    name,
    selected.includes(name) ? now : previous?.dates?.[name] ?? previous?.date ?? now
  ])
)
const written = Object.keys(benchmarks).flatMap((name) => selected.includes(name) ? produced.get(name)! : kept.filter((f) => f.benchmark === name))
Fs.mkdirSync(Path.dirname(out), { recursive: true })
Fs.writeFileSync(
  out,
  JSON.stringify(
    {
      date: now,
      dates,
      smoke: values.smoke,
      machine: { node: process.version, cpus: Os.cpus().length, cpu: Os.cpus()[0]?.model ?? "unknown", pinned: !values.smoke && Process.pinned },
      figures: written
    },
    null,
    2
  ) + "\n"
)
console.error(`wrote ${out}`)
