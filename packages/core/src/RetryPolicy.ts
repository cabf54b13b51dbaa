/**
 * How wxopen retries a failed call to WeChat, as a `Schedule` that users can
 * read, replace and test.
 *
 * Only failures that {@link WeChatError.isTransient} accepts are ever retried
 * (-1, 45011, transport failures, 5xx statuses), whatever the policy; for a
 * single-use request (`api_query_auth`) only WeChat's own "busy" answers
 * (-1, 45011). Among those, the schedule decides whether to try again and
 * after what delay, and may narrow the choice further with
 * `Schedule.whileInput`. The default waits with jittered exponential backoff:
 * at most 4 retries, none started more than 30 seconds after the first
 * failure.
 *
 * A refused token (the access-token family) is not the schedule's business
 * either: it is replaced and the call retried exactly once. A token fetch,
 * retries included, is cut off after `ComponentToken.refreshDeadline` (90
 * seconds).
 *
 * The `WeChatClient` reads the policy once, when its layer is built: provide
 * another one to that layer.
 *
 * @example
 * ```ts
 * import { Layer, Schedule } from "effect"
 * import { RetryPolicy, WeChatClient, type WeChatError } from "@wxopen/core"
 *
 * // patient: WeChat's "system busy" incidents can last close to an hour
 * const patient = Schedule.exponential("1 second").pipe(Schedule.jittered, Schedule.upTo("10 minutes"))
 *
 * // or retry -1 only, never 45011 or a transport failure
 * const busyOnly = RetryPolicy.defaultPolicy.pipe(
 *   Schedule.whileInput((error: WeChatError.WeChatError) => error._tag === "SystemBusyError")
 * )
 *
 * const Client = WeChatClient.layer().pipe(Layer.provide(RetryPolicy.layer(patient)))
 * ```
 *
 * @since 0.1.0
 */
import { Context, Layer, Schedule } from "effect"
import type { WeChatError } from "./WeChatError.js"

/**
 * A retry policy: a schedule fed with each transient failure.
 *
 * @since 0.1.0
 * @category models
 */
export type Policy = Schedule.Schedule<unknown, WeChatError>

/**
 * The default policy: jittered exponential backoff from 250 ms, at most 4
 * retries, none started more than 30 seconds after the first failure.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPolicy: Policy = Schedule.exponential("250 millis", 2).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(4)),
  Schedule.upTo("30 seconds")
)

/**
 * The policy the `WeChatClient` is built with; {@link defaultPolicy} unless a
 * layer provides another.
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
