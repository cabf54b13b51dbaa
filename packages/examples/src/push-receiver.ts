/**
 * A push receiver served with `@effect/platform`'s HTTP server: it stores the
 * verify tickets WeChat pushes, exchanges the code of an `authorized` push
 * (the account's tokens land in the store), and shows every other event.
 * Against the mock, the script asks it for a ticket push and an
 * authorization, then stops; point WeChat's event URL at a receiver like this
 * one to run it for real.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { ComponentConfig, ComponentPush, TokenStore } from "@wxopen/core"
import { Effect, Layer, Option, Schedule } from "effect"
import { createServer } from "node:http"
import * as Environment from "./Environment.js"

const Receiver = HttpRouter.empty.pipe(
  HttpRouter.post("/wechat/component/events", ComponentPush.httpApp),
  HttpServer.serve(),
  Layer.provide(ComponentPush.layer({
    onEvent: (event) => Environment.done("push", `${event._tag} (${event.infoType})`)
  })),
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

const main = Effect.gen(function*() {
  const target = yield* Environment.target
  if (target._tag === "WeChat") {
    return yield* Environment.skipped("receiver", "WeChat pushes to your platform's public event URL; deploy a receiver like this one there")
  }
  const { mock } = target
  yield* Effect.gen(function*() {
    const { appId } = yield* ComponentConfig.ComponentConfig
    const store = yield* TokenStore.TokenStore
    const address = (yield* HttpServer.HttpServer).address
    const pushUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}/wechat/component/events`
    yield* Environment.done("receiver", `listening at ${pushUrl}`)
    yield* Effect.promise(() => mock.admin.setPushUrl(appId, pushUrl))

    yield* Effect.promise(() => mock.admin.pushTicket(appId))
    const ticket = Option.getOrThrow(yield* store.getTicket(appId))
    yield* Environment.done("verify ticket stored", Environment.masked(ticket.value))

    const authorizer = mock.config.authorizers[0]!
    yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: authorizer.appId }))
    const tokens = yield* store.getAuthorizer(appId, authorizer.appId).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("not yet"), onSome: Effect.succeed })),
      Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 })
    )
    yield* Environment.done(`${authorizer.name}'s tokens stored`, `refresh token ${Environment.masked(tokens.refreshToken)}`)
  }).pipe(Effect.provide(Receiver.pipe(Layer.provideMerge(Environment.layer(target)))))
})

NodeRuntime.runMain(Effect.scoped(main))
