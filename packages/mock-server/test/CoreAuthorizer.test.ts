import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import {
  Authorization,
  AuthorizerClient,
  AuthorizerList,
  AuthorizerProfile,
  AuthorizerToken,
  RetryPolicy,
  TokenStore
} from "@wxopen/core"
import { Chunk, Clock, Effect, Option, Redacted, Schedule, Schema, Stream } from "effect"
import type { MockConfigInput } from "../src/MockConfig.js"
import type * as MockServer from "../src/MockServer.js"
import { appId, miniProgram, officialAccount, withMock, wxopenOn } from "./utils.js"

// wxopen's calls as an account, over real sockets against the mock: the client's retry rules, its errors, the
// profile, the list and its reconciliation, the raw client and stubs made through the admin API.

const Menu = Schema.Struct({ is_menu_open: Schema.Number })
const menuPath = "/cgi-bin/get_current_selfmenu_info"

/** A mock, and wxopen's services of one process pointed at it, with a ticket stored. */
const setup = (config: Partial<MockConfigInput> = {}, policy: RetryPolicy.Policy = Schedule.stop) =>
  Effect.gen(function*() {
    const mock = yield* withMock(config)
    const context = yield* wxopenOn(mock, policy)
    return { mock, context }
  })

/** The merchant authorizes on the mock, and the platform exchanges the code. */
const authorize = (mock: MockServer.RunningMock, authorizerAppId: string, permissions?: ReadonlyArray<number>) =>
  Effect.flatMap(
    Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId, ...(permissions ? { permissions } : {}) })),
    ({ authorizationCode }) => Authorization.exchange(authorizationCode)
  )

const answers = (mock: MockServer.RunningMock, endpoint: string) =>
  Effect.promise(() => mock.admin.journal({ endpoint })).pipe(Effect.map((entries) => entries.map((e) => e.errcode ?? "ok")))

const stored = (authorizerAppId: string) =>
  Effect.flatMap(TokenStore.TokenStore, (store) => store.getAuthorizer(appId, authorizerAppId))

describe("AuthorizerClient against the mock", () => {
  it.live("a token the mock retires is refreshed once and the call sent once more", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      const result = yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId)
        const client = yield* AuthorizerClient.make(officialAccount.appId)
        yield* client.get(menuPath, Menu)
        yield* Effect.promise(() => mock.admin.invalidateToken(appId, officialAccount.appId))
        return yield* client.get(menuPath, Menu)
      }).pipe(Effect.provide(context))
      assert.strictEqual(result.is_menu_open, 1)
      assert.deepStrictEqual(yield* answers(mock, menuPath), ["ok", 40001, "ok"])
      assert.deepStrictEqual(yield* answers(mock, "api_authorizer_token"), ["ok"])
    }).pipe(Effect.scoped))

  it.live("refused twice, the second refusal is returned: one retry, never two", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* authorize(mock, officialAccount.appId).pipe(Effect.provide(context))
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: menuPath, times: 5, fault: { type: "errcode", errcode: 42001 } }))
      const error = yield* Effect.flip(AuthorizerClient.make(officialAccount.appId).pipe(
        Effect.flatMap((client) => client.get(menuPath, Menu)),
        Effect.provide(context)
      ))
      assert.isTrue(error._tag === "AccessTokenError" && error.reason === "Expired")
      assert.deepStrictEqual(yield* answers(mock, menuPath), [42001, 42001])
      assert.deepStrictEqual(yield* answers(mock, "api_authorizer_token"), ["ok"])
    }).pipe(Effect.scoped))

  it.live("100 concurrent calls with a retired token: one refresh (compare-and-set, single flight), every call through", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      const results = yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId)
        yield* Effect.promise(() => mock.admin.invalidateToken(appId, officialAccount.appId))
        const client = yield* AuthorizerClient.make(officialAccount.appId)
        return yield* Effect.all(Array.from({ length: 100 }, () => client.get(menuPath, Menu)), { concurrency: "unbounded" })
      }).pipe(Effect.provide(context))
      assert.strictEqual(results.length, 100)
      assert.deepStrictEqual(yield* answers(mock, "api_authorizer_token"), ["ok"])
      const calls = yield* answers(mock, menuPath)
      assert.strictEqual(calls.filter((c) => c === "ok").length, 100)
      assert.isTrue(calls.every((c) => c === "ok" || c === 40001))
    }).pipe(Effect.scoped))

  it.live("transient failures are retried by the policy (-1, then a 502)", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({}, Schedule.recurs(3))
      yield* authorize(mock, officialAccount.appId).pipe(Effect.provide(context))
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: menuPath, times: 1, fault: { type: "errcode", errcode: -1 } }))
      yield* Effect.promise(() => mock.admin.addFault({ endpoint: menuPath, times: 1, fault: { type: "status", status: 502 } }))
      yield* AuthorizerClient.make(officialAccount.appId).pipe(Effect.flatMap((c) => c.get(menuPath, Menu)), Effect.provide(context))
      const journal = yield* Effect.promise(() => mock.admin.journal({ endpoint: menuPath }))
      assert.deepStrictEqual(journal.map((e) => [e.status, e.errcode ?? null]), [[200, -1], [502, null], [200, null]])
    }).pipe(Effect.scoped))

  it.live("an account that revoked (61003) is forgotten, and then costs no request", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId)
        const client = yield* AuthorizerClient.make(officialAccount.appId)
        yield* Effect.promise(() => mock.admin.revoke(appId, officialAccount.appId)) // its push finds no receiver
        const error = yield* Effect.flip(client.get(menuPath, Menu))
        assert.isTrue(error._tag === "PermissionError" && error.reason === "NotAuthorized")
        assert.isTrue(Option.isNone(yield* stored(officialAccount.appId)), "the tokens are forgotten")
        const next = yield* Effect.flip(client.get(menuPath, Menu))
        assert.strictEqual(next._tag, "UnknownAuthorizerError")
      }).pipe(Effect.provide(context))
      assert.deepStrictEqual(yield* answers(mock, menuPath), [61003])
    }).pipe(Effect.scoped))

  it.live("a refresh answered 61003 forgets the account too, but an authorization made after the request survives", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId)
        yield* Effect.promise(() => mock.admin.revoke(appId, officialAccount.appId))
        const service = yield* AuthorizerToken.AuthorizerToken
        const held = Option.getOrThrow(yield* stored(officialAccount.appId))
        yield* service.invalidate(officialAccount.appId, held.accessToken) // the token must be refreshed
        const error = yield* Effect.flip(service.get(officialAccount.appId))
        assert.isTrue(error._tag === "PermissionError" && error.reason === "NotAuthorized")
        assert.isTrue(Option.isNone(yield* stored(officialAccount.appId)))
        // A forget dated before an authorization does not undo it.
        yield* authorize(mock, officialAccount.appId)
        assert.isFalse(yield* service.forget(officialAccount.appId, (yield* Clock.currentTimeMillis) - 60_000))
        assert.isTrue(Option.isSome(yield* stored(officialAccount.appId)))
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))

  it.live("48001, 61007 with the missing set, 45009, 40164 and 61004 with the IP are typed errors", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({ apiQuotas: { "/cgi-bin/get_api_domain_ip": 1 } })
      yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId, [2])
        const client = yield* AuthorizerClient.make(officialAccount.appId)
        const wrongType = yield* Effect.flip(client.get("/wxa/get_category", Schema.Unknown))
        assert.isTrue(wrongType._tag === "PermissionError" && wrongType.reason === "ApiUnauthorized")
        const notGranted = yield* Effect.flip(client.get(menuPath, Menu))
        assert.isTrue(notGranted._tag === "PermissionError" && notGranted.reason === "ComponentUnauthorized" && notGranted.permission === 15)
        assert.include(notGranted.message, "permission set 15")
        yield* client.get("/cgi-bin/get_api_domain_ip", Schema.Unknown)
        const quota = yield* Effect.flip(client.get("/cgi-bin/get_api_domain_ip", Schema.Unknown))
        assert.isTrue(quota._tag === "QuotaError" && quota.reason === "Daily")
        yield* Effect.promise(() =>
          mock.admin.addFault({ endpoint: menuPath, times: 1, fault: { type: "errcode", errcode: 40164, errmsg: "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist" } })
        )
        const ip = yield* Effect.flip(client.get(menuPath, Menu))
        assert.isTrue(ip._tag === "IpWhitelistError" && ip.requestIp === "203.0.113.9")
        yield* Effect.promise(() =>
          mock.admin.addFault({ endpoint: menuPath, times: 1, fault: { type: "errcode", errcode: 61004, errmsg: "access clientip is not registered requestIP: 198.51.100.4" } })
        )
        const notRegistered = yield* Effect.flip(client.get(menuPath, Menu))
        assert.isTrue(notRegistered._tag === "IpWhitelistError" && notRegistered.requestIp === "198.51.100.4")
      }).pipe(Effect.provide(context))
      assert.deepStrictEqual(yield* answers(mock, "/cgi-bin/get_api_domain_ip"), ["ok", 45009])
    }).pipe(Effect.scoped))

  it.live("stubs created through the admin API answer typed calls and the raw HttpClient", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* Effect.promise(() =>
        mock.admin.stubs.create({ method: "POST", path: "/cgi-bin/message/custom/send", body: { errcode: 0, errmsg: "ok" } })
      )
      yield* Effect.promise(() =>
        mock.admin.stubs.create({ method: "GET", path: "/cgi-bin/media/get", body: { video_url: "https://example.com/v.mp4" } })
      )
      const { media, sent } = yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId)
        const client = yield* AuthorizerClient.make(officialAccount.appId)
        const sent = yield* client.post(
          "/cgi-bin/message/custom/send",
          { touser: "openid-1", msgtype: "text", text: { content: "hello" } },
          Schema.Struct({ errmsg: Schema.String })
        )
        const response = yield* client.httpClient.execute(HttpClientRequest.get("/cgi-bin/media/get", { urlParams: { media_id: "m1" } }))
        return { sent, media: yield* response.json }
      }).pipe(Effect.provide(context))
      assert.strictEqual(sent.errmsg, "ok")
      assert.deepStrictEqual(media, { video_url: "https://example.com/v.mp4" })
      const [raw] = yield* Effect.promise(() => mock.admin.journal({ endpoint: "/cgi-bin/media/get" }))
      // The raw client put the account's token where WeChat reads it (the journal masks it) and kept the query.
      assert.deepStrictEqual(raw?.query, { media_id: "m1", access_token: "***" })
      assert.strictEqual(raw?.status, 200)
    }).pipe(Effect.scoped))
})

describe("AuthorizerProfile against the mock", () => {
  it.live("an Official Account and a Mini Program, told apart, with their types and permission sets", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      const [oa, mp] = yield* Effect.gen(function*() {
        yield* authorize(mock, officialAccount.appId)
        yield* authorize(mock, miniProgram.appId)
        return [yield* AuthorizerProfile.get(officialAccount.appId), yield* AuthorizerProfile.get(miniProgram.appId)] as const
      }).pipe(Effect.provide(context))
      assert.strictEqual(oa._tag, "OfficialAccount")
      assert.strictEqual(oa.nickname, officialAccount.name)
      assert.strictEqual(oa.verification, "WeChat")
      assert.isTrue(AuthorizerProfile.hasPermission(oa, 15))
      assert.isFalse(AuthorizerProfile.hasPermission(oa, 18))
      assert.strictEqual(mp._tag, "MiniProgram")
      if (mp._tag === "MiniProgram") {
        assert.strictEqual(mp.serviceType, "Standard")
        assert.deepStrictEqual(mp.categories.map((c) => c.second), ["备忘录"])
        assert.isTrue(AuthorizerProfile.hasPermission(mp, 18))
      }
    }).pipe(Effect.scoped))

  it.live("refills a lost refresh token, never replaces a stored one, and forgets an account that has not authorized", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: officialAccount.appId }))
        assert.isTrue(Option.isNone(yield* stored(officialAccount.appId)))
        yield* AuthorizerProfile.get(officialAccount.appId)
        const refilled = Option.getOrThrow(yield* stored(officialAccount.appId))
        assert.match(Redacted.value(refilled.refreshToken), /^refreshtoken@@@/)
        // The refilled refresh token works: a call as the account gets a token with it.
        yield* AuthorizerClient.make(officialAccount.appId).pipe(Effect.flatMap((c) => c.get(menuPath, Menu)))
        // A stored authorization (newer, say) is never replaced by the profile's refresh token.
        yield* store.setAuthorizer(appId, officialAccount.appId, {
          accessToken: Redacted.make("at-newer"),
          expiresAt: 0,
          refreshToken: Redacted.make("rt-newer"),
          authorizedAt: yield* Clock.currentTimeMillis
        })
        yield* AuthorizerProfile.get(officialAccount.appId)
        assert.strictEqual(Redacted.value(Option.getOrThrow(yield* stored(officialAccount.appId)).refreshToken), "rt-newer")
        // Not authorized: 61003, and what the store held is forgotten.
        yield* store.setAuthorizer(appId, miniProgram.appId, {
          accessToken: Redacted.make("at"),
          expiresAt: 0,
          refreshToken: Redacted.make("rt"),
          authorizedAt: 1
        })
        const error = yield* Effect.flip(AuthorizerProfile.get(miniProgram.appId))
        assert.isTrue(error._tag === "PermissionError" && error.reason === "NotAuthorized")
        assert.isTrue(Option.isNone(yield* stored(miniProgram.appId)))
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))
})

describe("AuthorizerList against the mock", () => {
  const accounts = Array.from({ length: 7 }, (_, i) => ({
    appId: `wxb0b0b0b0b0b0b0${i.toString(16).padStart(2, "0")}`,
    name: `Shop ${i}`,
    type: "officialAccount" as const,
    ...(i === 6 ? { listedWithoutRefreshToken: true } : {})
  }))

  it.live("a Stream over pages: every account once, one request a page, an entry without a refresh token kept", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({ authorizers: accounts })
      for (const account of accounts) {
        yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: account.appId }))
      }
      const entries = yield* AuthorizerList.stream({ pageSize: 3 }).pipe(Stream.runCollect, Effect.provide(context))
      assert.deepStrictEqual(Chunk.toReadonlyArray(entries).map((e) => e.authorizerAppId).sort(), accounts.map((a) => a.appId))
      assert.deepStrictEqual(Chunk.toReadonlyArray(entries).filter((e) => Option.isNone(e.refreshToken)).map((e) => e.authorizerAppId), [
        accounts[6]!.appId
      ])
      assert.deepStrictEqual(yield* answers(mock, "api_get_authorizer_list"), ["ok", "ok", "ok"])
      const tooLarge = yield* Effect.flip(AuthorizerList.stream({ pageSize: 501 }).pipe(Stream.runDrain, Effect.provide(context)))
      assert.isTrue(tooLarge._tag === "InvalidRequestError" && tooLarge.reason === "PageSize")
      assert.strictEqual((yield* answers(mock, "api_get_authorizer_list")).length, 3, "nothing sent")
    }).pipe(Effect.scoped))

  it.live("reconcile refills missing refresh tokens, reports the unlisted, and forgets them only on WeChat's word", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({ authorizers: accounts })
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        for (const account of accounts) {
          yield* Effect.promise(() => mock.admin.authorize({ componentAppId: appId, authorizerAppId: account.appId }))
        }
        // The store holds one account by its exchange, and one that revoked without the push arriving.
        yield* authorize(mock, accounts[0]!.appId)
        const revoked = accounts[5]!.appId
        yield* authorize(mock, revoked)
        yield* Effect.promise(() => mock.admin.revoke(appId, revoked))
        const exchanged = Option.getOrThrow(yield* stored(accounts[0]!.appId))

        const first = yield* AuthorizerList.reconcile({ pageSize: 2 })
        assert.strictEqual(first.listed, 6)
        assert.deepStrictEqual(first.refilled, accounts.slice(1, 5).map((a) => a.appId))
        assert.deepStrictEqual(first.withoutRefreshToken, [accounts[6]!.appId])
        assert.deepStrictEqual(first.unlisted, [revoked])
        assert.deepStrictEqual(first.forgotten, [])
        assert.isTrue(Option.isSome(yield* stored(revoked)), "reported, not forgotten, unless asked")
        // The exchanged authorization is untouched; a refilled one has no access token yet.
        assert.strictEqual(Redacted.value(Option.getOrThrow(yield* stored(accounts[0]!.appId)).accessToken), Redacted.value(exchanged.accessToken))
        assert.strictEqual(Option.getOrThrow(yield* stored(accounts[1]!.appId)).expiresAt, 0)

        const second = yield* AuthorizerList.reconcile({ forget: true })
        assert.deepStrictEqual(second.refilled, [])
        assert.deepStrictEqual(second.forgotten, [revoked])
        assert.isTrue(Option.isNone(yield* stored(revoked)))
        assert.deepStrictEqual([...(yield* store.listAuthorizers(appId))].sort(), accounts.slice(0, 5).map((a) => a.appId))
      }).pipe(Effect.provide(context))
    }).pipe(Effect.scoped))

  it.live("an unlisted account that WeChat says still authorizes is kept (an authorization landing during the walk)", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        // The store is enumerated right after the list was read: an exchange lands in between.
        const racing: TokenStore.Service = {
          ...store,
          listAuthorizers: (componentAppId) =>
            Effect.zipRight(authorize(mock, officialAccount.appId).pipe(Effect.provide(context), Effect.orDie), store.listAuthorizers(componentAppId))
        }
        const result = yield* AuthorizerList.reconcile({ forget: true }).pipe(Effect.provideService(TokenStore.TokenStore, racing))
        assert.deepStrictEqual([result.listed, result.unlisted, result.forgotten], [0, [officialAccount.appId], []])
        assert.isTrue(Option.isSome(yield* stored(officialAccount.appId)))
      }).pipe(Effect.provide(context))
      assert.deepStrictEqual(yield* answers(mock, "api_get_authorizer_info"), ["ok"])
    }).pipe(Effect.scoped))
})
