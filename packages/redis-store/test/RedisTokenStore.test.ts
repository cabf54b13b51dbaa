import { Effect, Layer } from "effect"
import { contract } from "../../core/test/TokenStoreContract.js"
import { RedisTokenStore } from "../src/index.js"
import { startRedis } from "./utils.js"

// One redis-server per test, so that each starts from an empty store.
contract(
  "RedisTokenStore",
  Layer.unwrapScoped(Effect.map(startRedis, ({ url }) => RedisTokenStore.layer({ url })))
)
