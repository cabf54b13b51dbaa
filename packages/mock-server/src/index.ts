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
 * Faults on demand.
 *
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * The bounded, masked journal of requests.
 *
 * @since 0.1.0
 */
export * as Journal from "./Journal.js"

/**
 * The configuration file and its defaults.
 *
 * @since 0.1.0
 */
export * as MockConfig from "./MockConfig.js"

/**
 * The server: `start`, `layer`.
 *
 * @since 0.1.0
 */
export * as MockServer from "./MockServer.js"

/**
 * WeChat's state and answers.
 *
 * @since 0.1.0
 */
export * as WeChatState from "./WeChatState.js"
