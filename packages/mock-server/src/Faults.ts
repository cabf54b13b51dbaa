/**
 * Misbehaviour on demand, the way WireMock users expect it: a fault for a
 * component endpoint (`"api_create_preauthcode"`), an account API path
 * (`"/cgi-bin/get_current_selfmenu_info"`) or every call (`"*"`), for the next
 * N calls, or with a probability.
 *
 * @since 0.1.0
 */
import { Either, Schema } from "effect"
import { AccountPath, Endpoint, formatIssues } from "./MockConfig.js"

// At most a minute: a longer delay is a hang, which `reset` or a client timeout models better.
const Delay = Schema.Int.pipe(Schema.between(0, 60_000))

/**
 * What a fault does instead of (or before) WeChat's answer.
 *
 * - `errcode`: WeChat's error body, any code (-1 and 45011 included);
 * - `status`: an HTTP status with an HTML body (500, 502, 503…);
 * - `delay`: waits `ms` (or between `minMs` and `maxMs`), then answers normally;
 * - `reset`: the connection is destroyed without an answer;
 * - `empty`: HTTP 200 with an empty body;
 * - `malformed`: HTTP 200 with a body that is not JSON;
 * - `truncated`: the real answer's length announced, half of it sent, then
 *   the connection closed.
 *
 * @since 0.1.0
 * @category models
 */
export const Fault = Schema.Union(
  Schema.Struct({ type: Schema.Literal("errcode"), errcode: Schema.Int, errmsg: Schema.optional(Schema.String) }),
  // 4xx and 5xx only: a 1xx would leave clients waiting, a 204 or 304 cannot carry the HTML body.
  Schema.Struct({ type: Schema.Literal("status"), status: Schema.Int.pipe(Schema.between(400, 599)), body: Schema.optional(Schema.String) }),
  Schema.Struct({
    type: Schema.Literal("delay"),
    ms: Schema.optional(Delay),
    minMs: Schema.optional(Delay),
    maxMs: Schema.optional(Delay)
  }),
  Schema.Struct({ type: Schema.Literal("reset", "empty", "malformed", "truncated") })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

/**
 * A fault, the calls it applies to (a component endpoint's name, an account
 * API's path, or `"*"`), and when: `times` calls (then it is removed), or
 * each call with `probability`; for ever when neither is given.
 *
 * @since 0.1.0
 * @category models
 */
export const Rule = Schema.Struct({
  endpoint: Schema.Union(Endpoint, Schema.Literal("*"), AccountPath),
  fault: Fault,
  times: Schema.optional(Schema.Int.pipe(Schema.positive())),
  probability: Schema.optional(Schema.Number.pipe(Schema.between(0, 1)))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Rule = typeof Rule.Type

/**
 * A rule as it is kept, with its id and the calls it still applies to.
 *
 * @since 0.1.0
 * @category models
 */
export interface ActiveRule extends Rule {
  readonly id: number
  remaining?: number
}

/**
 * Checks a rule given to the admin API.
 *
 * @since 0.1.0
 * @category parsing
 */
export const decodeRule = (input: unknown): Either.Either<Rule, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(Rule, { errors: "all" })(input), formatIssues)

/**
 * The active rules.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (random: () => number = Math.random) => {
  let rules: Array<ActiveRule> = []
  let next = 1
  return {
    add: (rule: Rule): ActiveRule => {
      const active: ActiveRule = rule.times === undefined ? { ...rule, id: next++ } : { ...rule, id: next++, remaining: rule.times }
      rules.push(active)
      return active
    },
    list: (): ReadonlyArray<ActiveRule> => rules,
    remove: (id: number): boolean => {
      const before = rules.length
      rules = rules.filter((rule) => rule.id !== id)
      return rules.length < before
    },
    clear: (): void => {
      rules = []
    },
    /** The fault for this call to `endpoint` (a name, or an account call's path), if a rule fires; counts the call against the rule. */
    take: (endpoint: string): Fault | undefined => {
      for (const rule of rules) {
        if (rule.endpoint !== "*" && rule.endpoint !== endpoint) continue
        if (rule.probability !== undefined && random() >= rule.probability) continue
        if (rule.remaining !== undefined) {
          rule.remaining--
          if (rule.remaining === 0) rules = rules.filter((r) => r !== rule)
        }
        return rule.fault
      }
      return undefined
    }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type Faults = ReturnType<typeof make>
