import { assert, describe, it } from "@effect/vitest"
import { ApiQuota, Authorization, AuthorizerClient, PreAuthCode, RequestRecord, WeChatError } from "@wxopen/core"
import { Effect, Redacted, Schema } from "effect"
import type * as MockServer from "../src/MockServer.js"
import { appId, component, officialAccount, withMock, wxopenOn } from "./utils.js"

// wxopen's diagnostics over real sockets against the mock: an error's rid looked up with the token that sent the
// request, a 45009 lifted by a deliberate reset (never by wxopen on its own), 48006 once the month's 10 are spent.

const menu = "/cgi-bin/get_current_selfmenu_info"
const Menu = Schema.Struct({ is_menu_open: Schema.Number })

const setup = (config: Parameters<typeof withMock>[0] = {}) =>
  Effect.gen(function*() {
    const mock = yield* withMock(config)
    const context = yield* wxopenOn(mock)
    // The merchant authorizes on the mock, and the platform exchanges the code.
    const { authorizationCode } = yield* Effect.promise(() =>
      mock.admin.authorize({ componentAppId: appId, authorizerAppId: officialAccount.appId })
    )
    yield* Authorization.exchange(authorizationCode).pipe(Effect.provide(context))
    return { mock, context }
  })

const resetsIn = (mock: MockServer.RunningMock) =>
  Effect.promise(async () => {
    const entries = await Promise.all(
      // The journal names a component endpoint by its last part, any other by its path.
      ["/cgi-bin/clear_quota", "clear_quota", "clear_quota/v2"].map((endpoint) => mock.admin.journal({ endpoint }))
    )
    return entries.flat().length
  })

describe("RequestRecord against the mock", () => {
  it.live("an account call's error is looked up with the account's token: what the mock received, bodies Redacted", () =>
    Effect.gen(function*() {
      const { context } = yield* setup()
      yield* Effect.gen(function*() {
        const account = yield* AuthorizerClient.make(officialAccount.appId)
        const error = yield* Effect.flip(account.post("/cgi-bin/no/such/api", { hello: "world" }, Menu))
        assert.strictEqual(error._tag, "UnknownWeChatError")
        assert.isTrue("rid" in error && error.rid !== undefined)
        assert.isTrue("authorizerAppId" in error && error.authorizerAppId === officialAccount.appId)
        const seen = yield* RequestRecord.lookup(error)
        assert.strictEqual(seen.requestUrl, "/cgi-bin/no/such/api?access_token=***")
        assert.strictEqual(seen.clientIp, "127.0.0.1")
        assert.isTrue(Redacted.isRedacted(seen.requestBody))
        assert.deepStrictEqual(JSON.parse(Redacted.value(seen.requestBody)), { hello: "world" })
        assert.strictEqual(JSON.parse(Redacted.value(seen.responseBody)).errcode, (error as WeChatError.UnknownWeChatError).errcode)
        assert.isAtLeast(seen.costMs, 0)
        // Asked with the component's token, the account's rid is another owner's.
        const notOwner = yield* Effect.flip(RequestRecord.get(seen.rid))
        assert.isTrue(notOwner instanceof WeChatError.RidError && notOwner.reason === "NotOwner")
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))

  it.live("a component call's error is looked up with the component token; an unknown rid is a RidError", () =>
    Effect.gen(function*() {
      const { context } = yield* setup()
      yield* Effect.gen(function*() {
        const error = yield* Effect.flip(ApiQuota.get("/cgi-bin/component/no_such_api"))
        assert.isTrue(error instanceof WeChatError.QuotaQueryError && error.reason === "UnknownPath")
        assert.isFalse("authorizerAppId" in error)
        const seen = yield* RequestRecord.lookup(error)
        assert.strictEqual(seen.requestUrl, "/cgi-bin/openapi/quota/get?access_token=***")
        assert.deepStrictEqual(JSON.parse(Redacted.value(seen.requestBody)), { cgi_path: "/cgi-bin/component/no_such_api" })
        const unknown = yield* Effect.flip(RequestRecord.get("0123abcd-0123abcd-0123abcd"))
        assert.isTrue(unknown instanceof WeChatError.RidError && unknown.reason === "Unknown")
        const malformed = yield* Effect.flip(RequestRecord.get("not-a-rid"))
        assert.isTrue(malformed instanceof WeChatError.RidError && malformed.reason === "Malformed")
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))
})

describe("ApiQuota against the mock", () => {
  it.live("an account's 45009 is not reset by wxopen; a deliberate reset with the account's token lets it pass", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({ apiQuotas: { [menu]: 1 } })
      yield* Effect.gen(function*() {
        const account = yield* AuthorizerClient.make(officialAccount.appId)
        assert.strictEqual((yield* account.get(menu, Menu)).is_menu_open, 1)
        const spent = yield* Effect.flip(account.get(menu, Menu))
        assert.isTrue(spent instanceof WeChatError.QuotaError && spent.reason === "Daily")
        assert.strictEqual(yield* resetsIn(mock), 0)
        assert.deepStrictEqual(yield* ApiQuota.get(menu, { authorizerAppId: officialAccount.appId }), {
          dailyLimit: 1,
          used: 1,
          remain: 0
        })
        yield* ApiQuota.reset({ authorizerAppId: officialAccount.appId })
        assert.strictEqual(yield* resetsIn(mock), 1)
        assert.strictEqual((yield* ApiQuota.get(menu, { authorizerAppId: officialAccount.appId })).remain, 1)
        assert.strictEqual((yield* account.get(menu, Menu)).is_menu_open, 1)
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))

  it.live("the component's 45009, then ApiQuota.reset() with the component token: pre-authorization codes again", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({ quotas: { api_create_preauthcode: 1 } })
      yield* Effect.gen(function*() {
        yield* PreAuthCode.create
        const spent = yield* Effect.flip(PreAuthCode.create)
        assert.isTrue(spent instanceof WeChatError.QuotaError && spent.reason === "Daily")
        assert.strictEqual(yield* resetsIn(mock), 0)
        yield* ApiQuota.reset()
        assert.strictEqual(yield* resetsIn(mock), 1)
        assert.isString((yield* PreAuthCode.create).code)
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))

  it.live("after 10 resets in a month (both endpoints together), the 11th is a QuotaError NoResetsLeft, secret nowhere", () =>
    Effect.gen(function*() {
      const { context } = yield* setup()
      yield* Effect.gen(function*() {
        for (let i = 0; i < 5; i++) yield* ApiQuota.reset({ authorizerAppId: officialAccount.appId })
        for (let i = 0; i < 5; i++) yield* ApiQuota.resetWithSecret({ appId: officialAccount.appId })
        for (const eleventh of [ApiQuota.resetWithSecret({ appId: officialAccount.appId }), ApiQuota.reset({ authorizerAppId: officialAccount.appId })]) {
          const error = yield* Effect.flip(eleventh)
          assert.isTrue(error instanceof WeChatError.QuotaError && error.reason === "NoResetsLeft", String(error))
          assert.include(error.message, "10 resets")
          assert.notInclude(error.message + JSON.stringify(error), component.appSecret)
        }
        // The component's own resets are its own.
        yield* ApiQuota.resetWithSecret()
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))
})
