/**
 * The push receiver under hostile bodies: the time `ComponentPush.receive`
 * spends on a 64 KiB body with a wrong signature and filler that is costly to
 * parse (processing instructions, 16,000 empty elements, unclosed nesting),
 * beside its time on a real signed push of about 1 KB (checked, decrypted,
 * read, its ticket stored). One process (`Receiver.js`) on one core; a smoke
 * run makes a few calls of each.
 *
 * Target: a hostile body costs at most twice a real push (ratio ≤ 2): the
 * receiver checks the signature before it parses anything, so a forged body
 * is cheap to refuse however it is written.
 *
 * @since 0.1.0
 */
import * as Figure from "./Figure.js"
import * as Process from "./Process.js"

interface Reading {
  readonly name: string
  readonly bytes: number
  readonly calls: number
  readonly msPerRequest: number
  readonly outcome: string
}

/**
 * Runs the receiver benchmark.
 *
 * @since 0.1.0
 * @category benchmarks
 */
export const run = async (options: Figure.Options): Promise<ReadonlyArray<Figure.Figure>> => {
  const child = Process.node(Process.script("Receiver.js"), options.smoke ? ["--calls", "3"] : [], Process.cores(options).client)
  const readings = JSON.parse(await Process.output(child)) as ReadonlyArray<Reading>
  const command = `npx -y pnpm@10.34.9 bench${options.smoke ? " --smoke" : ""} receiver`
  const real = readings.find((r) => r.name === "real")!
  const baseline = { name: `a real signed push (${real.bytes} bytes)`, value: real.msPerRequest }
  return readings.filter((r) => r !== real).map((r) =>
    Figure.make({
      benchmark: "receiver",
      name: `${r.bytes.toLocaleString("en-US")}-byte body of ${r.name}, wrong signature (${r.outcome}): time per request`,
      value: r.msPerRequest,
      unit: "ms",
      baseline,
      target: { text: "≤ 2× a real push", met: r.msPerRequest <= 2 * real.msPerRequest },
      command
    })
  )
}
