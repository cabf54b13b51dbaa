import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Effect, Layer, Redacted } from "effect"
import * as ComponentToken from "../src/ComponentToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as TokenStore from "../src/TokenStore.js"
import { appId, clientLayer, makeStub, type Stub } from "./utils.js"

// The quota economy, under TestClock: what the token requests to WeChat add up to, whatever the machine's load.

/** `n` instances of a platform (each its own client and token service) over one store and one WeChat. */
const instances = (n: number, store: TokenStore.Service, wechat: Stub) =>
  Effect.all(Array.from({ length: n }, () =>
    Effect.map(
      Layer.build(ComponentToken.layer.pipe(
        Layer.provideMerge(Layer.merge(clientLayer(wechat), Layer.succeed(TokenStore.TokenStore, store)))
      )),
      (context) => (effect: Effect.Effect<PreAuthCode.PreAuthCode, PreAuthCode.PreAuthCodeError, any>) =>
        Effect.provide(effect, context as Context.Context<any>)
    )))

const pushTicket = (store: TokenStore.Service, n: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    store.setTicket(appId, { value: Redacted.make(`ticket@@@${n}`), createdAt: now, receivedAt: now }))

describe("quota", () => {
  it.scoped("a cold burst of 4 instances × 250 concurrent PreAuthCode.create makes one token request", () =>
    Effect.gen(function*() {
      const wechat = makeStub()
      const store = yield* TokenStore.makeMemory
      yield* pushTicket(store, 0)
      const all = yield* instances(4, store, wechat)
      const codes = yield* Effect.all(
        all.flatMap((run) => Array.from({ length: 250 }, () => run(PreAuthCode.create))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(wechat.count("api_component_token"), 1)
      assert.strictEqual(new Set(codes.map((c) => c.code)).size, 1000)
    }))

  // The day runs on a clock that only this test moves. (TestClock.adjust steps through every timer ever set, the
  // request timeouts of finished requests included, and a day of them takes it tens of seconds.)
  it.scoped("a simulated day, 4 instances each calling every minute and a ticket pushed every 10 minutes: 13 token requests", () => {
    let now = 0
    const clock: Clock.Clock = {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => now,
      currentTimeMillis: Effect.sync(() => now),
      unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
      currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
      sleep: () => Effect.never
    }
    return Effect.gen(function*() {
      const wechat = makeStub()
      const store = yield* TokenStore.makeMemory
      const all = yield* instances(4, store, wechat)
      for (let minute = 0; minute < 24 * 60; minute++) {
        if (minute % 10 === 0) yield* pushTicket(store, minute)
        yield* Effect.all(all.map((run) => run(PreAuthCode.create)), { concurrency: "unbounded" })
        now += 60_000
      }
      // A token lives 7,200 s and is replaced with 300 s left: ceil(86,400 / 6,900) = 13.
      assert.strictEqual(wechat.count("api_component_token"), 13)
      assert.strictEqual(wechat.count("api_create_preauthcode"), 4 * 24 * 60)
    }).pipe(Effect.withClock(clock))
  })
})
