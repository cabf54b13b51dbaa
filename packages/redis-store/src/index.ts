/**
 * A TokenStore on Redis, for platforms that run several instances.
 *
 * @since 0.1.0
 */

/**
 * The Redis store: `make`, `layer`, `layerConfig`.
 *
 * @since 0.1.0
 */
export * as RedisTokenStore from "./RedisTokenStore.js"
