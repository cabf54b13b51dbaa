/**
 * The minimal program: a pre-authorization code, and the two links a
 * merchant's administrator opens to authorize the component. With
 * `FetchHttpClient`, the HTTP client that works everywhere.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { AuthorizationUrl, ComponentConfig, ComponentToken, PreAuthCode } from "@wxopen/core"
import { Console, Effect, Option } from "effect"
import * as Environment from "./Environment.js"

const program = Effect.gen(function*() {
  const { appId } = yield* ComponentConfig.ComponentConfig
  const { code } = yield* PreAuthCode.create
  const link = { componentAppId: appId, preAuthCode: code, redirectUri: "https://example.com/wechat/authorized" }
  yield* Console.log(`PC:     ${yield* AuthorizationUrl.pc(link)}`)
  yield* Console.log(`mobile: ${yield* AuthorizationUrl.mobile(link)}`)
})

const main = Effect.gen(function*() {
  const target = yield* Environment.target
  const ticket = yield* Environment.currentTicket(target)
  if (Option.isNone(ticket)) {
    return yield* Environment.skipped("pre-authorization code", "no verify ticket: set WXOPEN_COMPONENT_VERIFY_TICKET")
  }
  yield* Effect.zipRight(ComponentToken.storeTicket(ticket.value), program).pipe(
    Effect.provide(Environment.layer(target, FetchHttpClient.layer))
  )
})

NodeRuntime.runMain(Effect.scoped(main))
