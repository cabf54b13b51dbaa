/**
 * A local WeChat Open Platform for wxopen's users' integration tests.
 *
 * @since 0.1.0
 */

/**
 * A typed client of the admin API.
 *
 * @since 0.1.0
 */
export * as AdminClient from "./AdminClient.js"

/**
 * The merchant's administrator, played over HTTP on the authorization page.
 *
 * @since 0.1.0
 */
export * as Merchant from "./Merchant.js"

/**
 * The configuration file and its defaults.
 *
 * @since 0.1.0
 */
export * as MockConfig from "./MockConfig.js"

/**
 * Which account type and permission set each API the mock checks needs.
 *
 * @since 0.1.0
 */
export * as Permissions from "./Permissions.js"

/**
 * The server: `start`, `layer`.
 *
 * @since 0.1.0
 */
export * as MockServer from "./MockServer.js"

/**
 * A fault rule of the admin API, and the faults it can inject.
 *
 * @since 0.1.0
 */
export type { Fault, Rule as FaultRule } from "./Faults.js"

/**
 * An entry of the journal, and what a journal query filters on.
 *
 * @since 0.1.0
 */
export type { Entry as JournalEntry, Query as JournalQuery } from "./Journal.js"

/**
 * A push and its attempts, and the mock's state, as the admin API shows them.
 *
 * @since 0.1.0
 */
export type { Attempt as PushAttempt, PushRecord } from "./internal/Pusher.js"

/**
 * An account message pushed through the admin API and what came back, and
 * a customer-service message an account sent, as the admin API shows them.
 *
 * @since 0.1.0
 */
export type { Delivery as MessageDelivery, Fields as MessageFields, Reply as MessageReply } from "./internal/AccountMessages.js"
export type { CustomerMessage } from "./internal/CustomerMessages.js"

/**
 * The release check's report and its cases, as the admin API answers them.
 *
 * @since 0.1.0
 */
export type { Case as ReleaseCheckCase, Report as ReleaseCheckReport } from "./internal/ReleaseCheck.js"
export type { State } from "./internal/WeChatState.js"

/**
 * A stub of the admin API, as written and as held.
 *
 * @since 0.1.0
 */
export type { Stub, StubChanges, StubInput } from "./MockConfig.js"
