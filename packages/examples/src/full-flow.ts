/**
 * The whole authorization flow, end to end: the project's main job
 * (`pnpm start`). Against the embedded mock it runs every step; against the
 * real WeChat (`WXOPEN_*` set) it runs those that need no person and says
 * which it skipped.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Authorization, AuthorizationUrl, AuthorizerToken, ComponentConfig, ComponentPush, ComponentToken, PreAuthCode, TokenStore } from "@wxopen/core"
import { DateTime, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { createServer } from "node:http"
import { Merchant } from "@wxopen/mock-server"
import * as Environment from "./Environment.js"

const redirectUri = "https://platform.example/wechat/authorized?shop=42&lang=zh_CN"

const main = Effect.gen(function*() {
  const target = yield* Environment.target
  const mock = target._tag === "Mock" ? target.mock : undefined
  yield* Environment.announce(target)

  const run = Effect.gen(function*() {
    const { appId } = yield* ComponentConfig.ComponentConfig
    const store = yield* TokenStore.TokenStore

    // 1. The verify ticket, pushed by WeChat to the receiver.
    if (mock) {
      const receiver = yield* HttpRouter.empty.pipe(
        HttpRouter.post("/wechat/component/events", ComponentPush.httpApp),
        HttpServer.serve(),
        Layer.provide(ComponentPush.layer({ exchangeOnAuthorized: false })),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.build
      )
      const address = (yield* HttpServer.HttpServer.pipe(Effect.provide(receiver))).address
      const pushUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}/wechat/component/events`
      yield* Effect.promise(() => mock.admin.setPushUrl(appId, pushUrl))
      yield* Effect.promise(() => mock.admin.pushTicket(appId))
      yield* Environment.done("push receiver", `listening at ${pushUrl}`)
    } else {
      yield* Environment.skipped("push receiver", "WeChat pushes to your platform's public event URL, not to this machine")
    }
    if (target._tag === "WeChat" && Option.isSome(target.ticket)) yield* ComponentToken.storeTicket(target.ticket.value)
    const ticket = yield* store.getTicket(appId).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("no ticket yet"), onSome: Effect.succeed })),
      Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 }),
      Effect.option
    )
    if (Option.isNone(ticket)) {
      yield* Environment.skipped("verify ticket", "none received; set WXOPEN_COMPONENT_VERIFY_TICKET to the one your platform last got")
      return
    }
    yield* Environment.done("verify ticket", `${Environment.masked(ticket.value.value)}, created ${DateTime.formatIso(DateTime.unsafeMake(ticket.value.createdAt))}`)

    // 2. A pre-authorization code (the component token is fetched on the way) and the two links.
    const code = yield* PreAuthCode.create
    const token = Option.getOrThrow(yield* store.getComponentToken(appId))
    yield* Environment.done("component_access_token", `${Environment.masked(token.value)}, until ${DateTime.formatIso(DateTime.unsafeMake(token.expiresAt))}`)
    yield* Environment.done("pre_auth_code", `${code.code.slice(0, 20)}…, single use, until ${DateTime.formatIso(code.expiresAt)}`)
    const options = { componentAppId: appId, preAuthCode: code.code, redirectUri, ...(mock ? { baseUrl: mock.url } : {}) }
    const pc = yield* AuthorizationUrl.pc(options)
    yield* Environment.done("PC link", pc)
    yield* Environment.done("mobile link", yield* AuthorizationUrl.mobile(options))

    // 3. The merchant authorizes; the code WeChat hands back is exchanged for the account's tokens.
    if (!mock) {
      yield* Environment.skipped("merchant authorization", "a person has to open the link and confirm")
      yield* Environment.skipped("code exchange", "it needs the auth_code of that confirmation")
      yield* Environment.skipped("authorizer token refresh", "it needs an authorized account")
      return
    }
    // Plays the merchant's administrator on the mock's page: opens the link, picks the first account, confirms.
    const outcome = yield* Effect.promise(() => Merchant.authorize(pc))
    if (outcome._tag === "Refused") return yield* Effect.dieMessage(`the authorization page refused: ${outcome.problem}`)
    const back = outcome.location
    const authCode = back.searchParams.get("auth_code") ?? ""
    const query = [...back.searchParams].map(([name, value]) => `${name}=${name === "auth_code" ? "…" : value}`).join("&")
    yield* Environment.done("merchant authorization", `redirected to ${back.origin}${back.pathname}?${query}`)
    const authorization = yield* Authorization.exchange(authCode)
    yield* Environment.done(
      "code exchange",
      `${authorization.authorizerAppId} granted permission sets [${authorization.permissions.join(", ")}]`
    )

    // 4. The authorizer token, refreshed with the stored refresh token.
    const before = yield* AuthorizerToken.get(authorization.authorizerAppId)
    yield* AuthorizerToken.AuthorizerToken.pipe(Effect.flatMap((tokens) => tokens.invalidate(authorization.authorizerAppId, before.value)))
    const after = yield* AuthorizerToken.get(authorization.authorizerAppId)
    const renewed = Redacted.value(after.value) !== Redacted.value(before.value) ? "a new token" : "THE SAME TOKEN"
    yield* Environment.done(
      "authorizer token refresh",
      `${renewed}, ${Environment.masked(after.value)}, until ${DateTime.formatIso(DateTime.unsafeMake(after.expiresAt))}`
    )
  })

  yield* run.pipe(Effect.provide(Environment.layer(target)))
})

NodeRuntime.runMain(Effect.scoped(main))
