/**
 * A platform ready for WeChat's release check (全网发布): it serves the
 * component's event URL (verify tickets, authorizations) and the accounts'
 * message URL, where `ReleaseCheck.handler` gives WeChat's test accounts the
 * answers the check expects and hands every other message to the platform's
 * own handler. Against the mock, the script points the mock at it, runs the
 * mock's release check and prints each case; it exits with 1 if one fails.
 * Against the real WeChat, deploy a platform like this one at your URLs and
 * press 全网发布 in the Open Platform console.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { AccountPush, ComponentConfig, ComponentPush, PassiveReply, ReleaseCheck, TokenStore } from "@wxopen/core"
import { Console, Effect, Layer, Option } from "effect"
import { createServer } from "node:http"
import * as Environment from "./Environment.js"

const Platform = HttpRouter.empty.pipe(
  HttpRouter.post("/wechat/component/events", ComponentPush.httpApp),
  HttpRouter.post("/wechat/accounts/:appid/messages", AccountPush.httpApp),
  HttpServer.serve(),
  Layer.provide(AccountPush.layer({
    onMessage: ReleaseCheck.handler((message) =>
      Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text("thanks, we will be in touch") : undefined)
    )
  })),
  Layer.provide(ComponentPush.layer()),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

const main = Effect.gen(function*() {
  const target = yield* Environment.target
  yield* Environment.announce(target)
  if (target._tag === "WeChat") {
    return yield* Environment.skipped(
      "release check",
      "WeChat runs it when you press 全网发布; deploy a platform like this one at your event and message URLs first"
    )
  }
  const { mock } = target
  const passed = yield* Effect.gen(function*() {
    const { appId } = yield* ComponentConfig.ComponentConfig
    const store = yield* TokenStore.TokenStore
    const address = (yield* HttpServer.HttpServer).address
    const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
    yield* Effect.promise(() => mock.admin.setPushUrl(appId, `${base}/wechat/component/events`))
    yield* Effect.promise(() => mock.admin.setMessageUrl(appId, `${base}/wechat/accounts/$APPID$/messages`))
    yield* Environment.done("platform", `events at ${base}/wechat/component/events, messages at ${base}/wechat/accounts/$APPID$/messages`)

    // The QUERY_AUTH_CODE case exchanges a code, which needs the component's token, which needs a verify ticket.
    yield* Effect.promise(() => mock.admin.pushTicket(appId))
    const ticket = Option.getOrThrow(yield* store.getTicket(appId))
    yield* Environment.done("verify ticket stored", Environment.masked(ticket.value))

    let passed = true
    for (const kind of ["officialAccount", "miniProgram"] as const) {
      const report = yield* Effect.promise(() => mock.admin.releaseCheck(appId, { kind }))
      yield* Environment.done(`release check as ${kind}`, `${report.passed ? "passed" : "FAILED"} (test account ${report.authorizerAppId})`)
      for (const c of report.cases) {
        yield* Console.log(`  ${c.passed ? "✔" : "✘"} ${c.name}: ${c.passed ? c.detail : `${c.detail}; expected ${c.expected}; received ${c.received}`}`)
      }
      passed = passed && report.passed
    }
    return passed
  }).pipe(Effect.provide(Platform.pipe(Layer.provideMerge(Environment.layer(target)))))
  if (!passed) return yield* Effect.fail("the release check failed: see the cases above")
})

NodeRuntime.runMain(Effect.scoped(main))
