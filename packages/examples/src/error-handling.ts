/**
 * What goes wrong, typed: the mock is asked for faults, and each failure is
 * caught by its tag and printed with the message wxopen gives it. Against the
 * real WeChat there is nothing to inject, so the script says so.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { ComponentToken, PreAuthCode, RetryPolicy, WeChatClient } from "@wxopen/core"
import type { Fault } from "@wxopen/mock-server"
import { Console, Effect, Layer, Option, Schedule } from "effect"
import * as Environment from "./Environment.js"

const faults: ReadonlyArray<readonly [string, Fault]> = [
  ["WeChat is busy", { type: "errcode", errcode: -1 }],
  ["the daily quota is spent", { type: "errcode", errcode: 45009 }],
  ["the caller's IP is not whitelisted", { type: "errcode", errcode: 61004, errmsg: "access clientip is not registered requestIP: 203.0.113.7" }],
  ["a gateway answers instead of WeChat", { type: "status", status: 502 }],
  ["the connection is reset", { type: "reset" }],
  ["the answer is cut short", { type: "truncated" }],
  ["the answer is not JSON", { type: "malformed" }]
]

const main = Effect.gen(function*() {
  const target = yield* Environment.target
  if (target._tag === "WeChat") return yield* Environment.skipped("faults", "the real WeChat cannot be asked to fail")
  const { mock } = target

  yield* Effect.gen(function*() {
    // No ticket yet: a typed error, and no request to WeChat.
    yield* PreAuthCode.create.pipe(
      Effect.catchTag("VerifyTicketError", (error) => Console.log(`no ticket → ${error._tag} (${error.reason}): ${error.message}`))
    )
    yield* ComponentToken.storeTicket(Option.getOrThrow(yield* Environment.currentTicket(target)))
    yield* PreAuthCode.create // a warm token: the faults below hit the code request

    for (const [what, fault] of faults) {
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: "api_create_preauthcode", times: 1, fault }))
      yield* PreAuthCode.create.pipe(
        Effect.andThen(() => Console.log(`${what} → no error`)),
        Effect.catchAll((error) => Console.log(`${what} → ${error._tag}: ${error.message}`))
      )
    }

    // With the default policy, -1 is retried with backoff: two failures, then WeChat recovers.
    yield* Effect.promise(() => mock.admin.addFault({ endpoint: "api_create_preauthcode", times: 2, fault: { type: "errcode", errcode: -1 } }))
    const code = yield* PreAuthCode.create.pipe(Effect.provide(WeChatClient.layer())) // a client with the default policy
    yield* Console.log(`WeChat busy twice, then not → retried, and got ${code.code.slice(0, 20)}…`)
  }).pipe(
    // A client without retries here, so that each fault shows as the error it becomes.
    Effect.provide(WeChatClient.layer().pipe(Layer.provide(RetryPolicy.layer(Schedule.stop)))),
    Effect.provide(Environment.layer(target))
  )
})

NodeRuntime.runMain(Effect.scoped(main))
