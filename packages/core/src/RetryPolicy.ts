/**
 * How wxopen retries a failed call to WeChat, as a `Schedule` that users can
 * read, replace and test.
 *
 * The schedule receives each failure and decides whether to try again and
 * after what delay. The default retries only what {@link WeChatError.isTransient}
 * accepts (-1, 45011, transport failures, 5xx statuses), with jittered
 * exponential backoff, at most 4 retries within 30 seconds. The access-token
 * family is not the schedule's business: a refused token is replaced and the
 * call retried exactly once, whatever the policy.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { PreAuthCode, RetryPolicy, WeChatError } from "@wxopen/core"
 *
 * // patient: WeChat's "system busy" incidents can last close to an hour
 * const patient = Schedule.exponential("1 second").pipe(
 *   Schedule.jittered,
 *   Schedule.upTo("10 minutes"),
 *   Schedule.whileInput(WeChatError.isTransient)
 * )
 *
 * const program = PreAuthCode.create.pipe(Effect.provide(RetryPolicy.layer(patient)))
 * ```
 *
 * @since 0.1.0
 */
import { Context, Layer, Schedule } from "effect"
import { isTransient, type WeChatError } from "./WeChatError.js"

/**
 * A retry policy: a schedule fed with each failure.
 *
 * @since 0.1.0
 * @category models
 */
export type Policy = Schedule.Schedule<unknown, WeChatError>

/**
 * The default policy: transient failures only, jittered exponential backoff
 * from 250 ms, at most 4 retries, none started after 30 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPolicy: Policy = Schedule.exponential("250 millis", 2).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(4)),
  Schedule.upTo("30 seconds"),
  Schedule.whileInput(isTransient)
)

/**
 * The policy in force; {@link defaultPolicy} unless a layer provides another.
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryPolicy extends Context.Reference<RetryPolicy>()("@wxopen/core/RetryPolicy", {
  defaultValue: (): Policy => defaultPolicy
}) {}

/**
 * A layer that replaces the policy. `Schedule.stop` turns retries off.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (policy: Policy): Layer.Layer<RetryPolicy> => Layer.succeed(RetryPolicy, policy)
