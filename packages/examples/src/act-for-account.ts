/**
 * Acting for an authorized account, after the authorization flow: the
 * account's profile, an Official Account API called as the account through
 * `AuthorizerClient`, a token WeChat retires in the middle (the client
 * refreshes it and sends the call once more), and the store reconciled with
 * WeChat's list of authorizers.
 *
 * Against the embedded mock it runs every step (`node
 * packages/examples/dist/act-for-account.js`). Against the real WeChat
 * (`WXOPEN_*` set, with `WXOPEN_COMPONENT_VERIFY_TICKET`) it starts from
 * WeChat's list: the reconciliation stores the refresh tokens WeChat holds,
 * and the account called is `WXOPEN_AUTHORIZER_APPID` or the first Official
 * Account listed; a token can be retired on demand only on the mock.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Authorization, AuthorizationUrl, AuthorizerClient, AuthorizerList, AuthorizerProfile, ComponentConfig, ComponentToken, PreAuthCode } from "@wxopen/core"
import { Merchant } from "@wxopen/mock-server"
import { Config, Effect, Option, Schema, Stream } from "effect"
import * as Environment from "./Environment.js"

// The account's menu, as get_current_selfmenu_info answers it (the fields this script reads).
const Menu = Schema.Struct({
  is_menu_open: Schema.Number,
  selfmenu_info: Schema.optional(Schema.Struct({ button: Schema.Array(Schema.Struct({ name: Schema.String })) }))
})

const main = Effect.gen(function*() {
  const target = yield* Environment.target
  const mock = target._tag === "Mock" ? target.mock : undefined
  yield* Environment.announce(target)

  const run = Effect.gen(function*() {
    const { appId } = yield* ComponentConfig.ComponentConfig
    const ticket = yield* Environment.currentTicket(target)
    if (Option.isNone(ticket)) {
      return yield* Environment.skipped("everything", "no verify ticket; set WXOPEN_COMPONENT_VERIFY_TICKET to the one your platform last got")
    }
    yield* ComponentToken.storeTicket(ticket.value)

    // 1. An account to act for: on the mock, the merchant authorizes now; on WeChat, one that already has.
    let account: string
    if (mock) {
      const code = yield* PreAuthCode.create
      const link = yield* AuthorizationUrl.pc({ componentAppId: appId, preAuthCode: code.code, redirectUri: "https://platform.example/authorized", baseUrl: mock.url })
      const outcome = yield* Effect.promise(() => Merchant.authorize(link, "wxa1b2c3d4e5f60001"))
      if (outcome._tag === "Refused") return yield* Effect.dieMessage(`the authorization page refused: ${outcome.problem}`)
      const authorization = yield* Authorization.exchange(outcome.location.searchParams.get("auth_code") ?? "")
      account = authorization.authorizerAppId
      yield* Environment.done("authorization", `${account} authorized the component (the full flow, as pnpm start runs it)`)
    } else {
      const reconciled = yield* AuthorizerList.reconcile()
      yield* Environment.done("authorizers", `${reconciled.listed} listed by WeChat, ${reconciled.refilled.length} refresh tokens stored`)
      const given = yield* Config.option(Config.string("WXOPEN_AUTHORIZER_APPID"))
      const first = Option.isSome(given) ? given : yield* firstOfficialAccount
      if (Option.isNone(first)) return yield* Environment.skipped("calls as an account", "no Official Account authorizes this component")
      account = first.value
    }

    // 2. Who the account is, and whether it granted the menu permission set (15).
    const profile = yield* AuthorizerProfile.get(account)
    const kind = profile._tag === "OfficialAccount" ? `${profile.serviceType} Official Account` : "Mini Program"
    yield* Environment.done(
      "profile",
      `${profile.nickname} (${kind}, ${profile.verification}), permission sets [${profile.permissions.join(", ")}]`
    )
    if (!AuthorizerProfile.hasPermission(profile, 15)) return yield* Environment.skipped("menu", "the account did not grant permission set 15")

    // 3. An Official Account API, as the account.
    const client = yield* AuthorizerClient.make(account)
    const menu = yield* client.get("/cgi-bin/get_current_selfmenu_info", Menu)
    const buttons = (menu.selfmenu_info?.button ?? []).map((b) => b.name).join(", ")
    yield* Environment.done("menu", `${menu.is_menu_open === 1 ? "open" : "closed"}, buttons [${buttons}]`)

    // 4. WeChat retires the account's token: the next call is refused (40001), refreshed, and sent once more.
    if (!mock) return yield* Environment.skipped("a retired token", "only the mock retires a token on demand")
    yield* Effect.promise(() => mock.admin.invalidateToken(appId, account))
    yield* client.get("/cgi-bin/get_current_selfmenu_info", Menu)
    const answers = yield* Effect.promise(() => mock.admin.journal({ endpoint: "/cgi-bin/get_current_selfmenu_info" }))
    const refreshes = yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_authorizer_token" }))
    yield* Environment.done(
      "a retired token",
      `answers [${answers.map((e) => e.errcode ?? "ok").join(", ")}], ${refreshes.length} token refresh, the call went through`
    )

    // 5. The store against WeChat's list.
    const reconciled = yield* AuthorizerList.reconcile()
    yield* Environment.done(
      "reconciliation",
      `${reconciled.listed} listed, ${reconciled.refilled.length} refilled, ${reconciled.unlisted.length} held but not listed`
    )
  })

  yield* run.pipe(Effect.provide(Environment.layer(target)))
})

// The first Official Account in WeChat's list, read a page at a time until one is found.
const firstOfficialAccount = AuthorizerList.stream().pipe(
  Stream.mapEffect((entry) => AuthorizerProfile.get(entry.authorizerAppId)),
  Stream.filter((profile) => profile._tag === "OfficialAccount"),
  Stream.map((profile) => profile.authorizerAppId),
  Stream.runHead
)

NodeRuntime.runMain(Effect.scoped(main))
