/**
 * Many accounts: the heap of a platform whose memory store holds 10,000
 * authorized accounts, after each was called once as the account and the
 * process was then idle for a simulated 3 hours, beside the heap before the
 * calls (the store filled: what the accounts must cost). Each reading follows
 * a full GC. A smoke run uses 300 accounts.
 *
 * Target: within 10% (ratio ≤ 1.1): an account not in use costs nothing
 * beyond what the store holds.
 *
 * @since 0.1.0
 */
import * as Figure from "./Figure.js"
import * as Process from "./Process.js"

interface Readings {
  readonly accounts: number
  readonly idleHours: number
  readonly before: number
  readonly called: number
  readonly idle: number
}

/**
 * Runs the accounts benchmark.
 *
 * @since 0.1.0
 * @category benchmarks
 */
export const run = async (options: Figure.Options): Promise<ReadonlyArray<Figure.Figure>> => {
  const accounts = options.smoke ? 300 : 10_000
  const child = Process.node(Process.script("Accounts.js"), ["--accounts", String(accounts)], Process.cores(options).client, [
    "--expose-gc"
  ])
  const readings = JSON.parse(await Process.output(child)) as Readings
  const command = `npx -y pnpm@10.34.9 bench${options.smoke ? " --smoke" : ""} accounts`
  const count = readings.accounts.toLocaleString("en-US")
  const baseline = { name: `the store holding ${count} accounts, before any call`, value: readings.before }
  return [
    Figure.make({
      benchmark: "accounts",
      name: `heap used after ${count} accounts called once, then ${readings.idleHours} h idle (simulated)`,
      value: readings.idle,
      unit: "MB",
      baseline,
      target: { text: "within 10%", met: readings.idle <= 1.1 * readings.before },
      command
    }),
    Figure.make({
      benchmark: "accounts",
      name: `heap used right after ${count} accounts called once`,
      value: readings.called,
      unit: "MB",
      baseline,
      command
    })
  ]
}
