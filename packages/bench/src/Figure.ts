/**
 * What every benchmark reports: a figure, the baseline measured beside it in
 * the same run, their ratio, the target if the issue set one, and the command
 * that reproduces it.
 *
 * @since 0.1.0
 */

/**
 * One measured figure.
 *
 * @since 0.1.0
 * @category models
 */
export interface Figure {
  /** The benchmark it belongs to: `client`, `quota`, `mock` or `memory`. */
  readonly benchmark: string
  /** What was measured, e.g. `wxopen-undici c64 CPU per call`. */
  readonly name: string
  readonly value: number
  /** `µs/call`, `req/s`, `ms`, `MB`, `requests`, … */
  readonly unit: string
  /** What the figure is compared with, measured in the same run (or, for counts, the ideal). */
  readonly baseline: { readonly name: string; readonly value: number }
  /** `value / baseline.value`. */
  readonly ratio: number
  /** The target the ratio (or value) is held to, and whether this run met it. */
  readonly target?: { readonly text: string; readonly met: boolean }
  /** The command that produced it, from the repository's root. */
  readonly command: string
}

/**
 * A figure with its ratio computed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (figure: Omit<Figure, "ratio">): Figure => ({
  ...figure,
  ratio: figure.baseline.value === 0 ? (figure.value === 0 ? 1 : Number.POSITIVE_INFINITY) : figure.value / figure.baseline.value
})

/**
 * How a benchmark is run: `smoke` runs it briefly, to show it still works.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly smoke: boolean
}
