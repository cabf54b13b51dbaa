import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as PreAuthCode from "../src/PreAuthCode.js"
import { TokenStoreError } from "../src/TokenStore.js"
import * as WeChatError from "../src/WeChatError.js"

// The brief's error table, code by code: family, reason (where the family has sub-kinds), retried or not.
const table: ReadonlyArray<readonly [number, string, string | undefined, boolean]> = [
  [40001, "AccessTokenError", "Invalid", false],
  [40014, "AccessTokenError", "Illegal", false],
  [42001, "AccessTokenError", "Expired", false],
  [41001, "AccessTokenError", "Missing", false],
  [61005, "VerifyTicketError", "Expired", false],
  [61006, "VerifyTicketError", "Invalid", false],
  [41004, "AppSecretError", "Missing", false],
  [40125, "AppSecretError", "Invalid", false],
  [61011, "ComponentIdentityError", "InvalidComponent", false],
  [40013, "ComponentIdentityError", "InvalidAppId", false],
  [61024, "ComponentIdentityError", "WrongTokenApi", false],
  [61004, "IpWhitelistError", undefined, false],
  [40164, "IpWhitelistError", undefined, false],
  [45009, "QuotaError", "Daily", false],
  [45011, "QuotaError", "PerMinute", true],
  [48006, "QuotaError", "NoResetsLeft", false],
  [76001, "RidError", "Unknown", false],
  [76002, "RidError", "Malformed", false],
  [76003, "RidError", "NotOwner", false],
  [76021, "QuotaQueryError", "UnknownPath", false],
  [76022, "QuotaQueryError", "NotQueryable", false],
  [48001, "PermissionError", "ApiUnauthorized", false],
  [61007, "PermissionError", "ComponentUnauthorized", false],
  [61003, "PermissionError", "NotAuthorized", false],
  [47001, "RequestFormatError", "InvalidJson", false],
  [41018, "RequestFormatError", "MissingComponentAppId", false],
  [41002, "RequestFormatError", "MissingAppId", false],
  [61009, "AuthorizationCodeError", "Invalid", false],
  [61010, "AuthorizationCodeError", "ExpiredOrUsed", false],
  [61023, "RefreshTokenError", undefined, false],
  [40029, "UserCodeError", "Invalid", false],
  [40163, "UserCodeError", "Used", false],
  [42003, "UserCodeError", "Expired", false],
  [40226, "UserCodeError", "Blocked", false],
  [40030, "UserTokenError", "RefreshTokenInvalid", false],
  [42002, "UserTokenError", "RefreshTokenExpired", false],
  [-1, "SystemBusyError", undefined, true]
]

describe("WeChatError.fromErrcode", () => {
  for (const [code, tag, reason, transient] of table) {
    it(`${code} maps to ${tag}${reason ? ` (${reason})` : ""}${transient ? ", retried" : ", not retried"}`, () => {
      const error = WeChatError.fromErrcode("api_create_preauthcode", code, `some text rid: 6400a1b2-2c3d4e5f-1a2b3c4d`)
      assert.strictEqual(error._tag, tag)
      assert.strictEqual("reason" in error ? error.reason : undefined, reason)
      assert.strictEqual("errcode" in error && error.errcode, code)
      assert.strictEqual("rid" in error && error.rid, "6400a1b2-2c3d4e5f-1a2b3c4d")
      assert.strictEqual("endpoint" in error && error.endpoint, "api_create_preauthcode")
      assert.strictEqual(WeChatError.isTransient(error), transient)
      assert.include(error.message, `errcode ${code}`)
      assert.include(error.message, "api_create_preauthcode")
    })
  }

  it("on sns/userinfo, whose token is the user's, the access-token codes and 40003 are a UserTokenError", () => {
    const cases = [[40001, "AccessTokenInvalid"], [40014, "AccessTokenInvalid"], [41001, "AccessTokenInvalid"], [42001, "AccessTokenExpired"], [40003, "InvalidOpenId"], [48001, "ScopeTooNarrow"]] as const
    for (const [code, reason] of cases) {
      const onUserInfo = WeChatError.fromErrcode("/sns/userinfo", code, "invalid credential")
      assert.strictEqual(onUserInfo._tag === "UserTokenError" && onUserInfo.reason, reason, String(code))
      const elsewhere = WeChatError.fromErrcode("/sns/oauth2/component/access_token", code, "invalid credential")
      const usual = { 40003: "UnknownWeChatError", 48001: "PermissionError" } as Record<number, string>
      assert.strictEqual(elsewhere._tag, usual[code] ?? "AccessTokenError", String(code))
    }
  })

  it("keeps an unknown code and its message", () => {
    const error = WeChatError.fromErrcode("api_query_auth", 89999, "something new rid: abc-def")
    assert.instanceOf(error, WeChatError.UnknownWeChatError)
    assert.strictEqual(error._tag === "UnknownWeChatError" && error.errcode, 89999)
    assert.strictEqual(error._tag === "UnknownWeChatError" && error.errmsg, "something new rid: abc-def")
    assert.include(error.message, "89999")
    assert.isFalse(WeChatError.isTransient(error))
  })

  it("parses the requestIP that 61004 reports", () => {
    const error = WeChatError.fromErrcode(
      "api_component_token",
      61004,
      "access clientip is not registered requestIP: 203.0.113.7 rid: 6400a1b2-2c3d4e5f-1a2b3c4d"
    )
    assert.strictEqual(error._tag === "IpWhitelistError" && error.requestIp, "203.0.113.7")
    assert.include(error.message, "203.0.113.7")
  })

  it("parses the IP that 40164 reports", () => {
    const error = WeChatError.fromErrcode(
      "api_component_token",
      40164,
      "invalid ip 198.51.100.2 ipv6 ::ffff:198.51.100.2, not in whitelist rid: 64a1-2b3c"
    )
    assert.strictEqual(error._tag === "IpWhitelistError" && error.requestIp, "198.51.100.2")
  })

  it("leaves requestIp out when WeChat does not say", () => {
    const error = WeChatError.fromErrcode("api_component_token", 61004, "access clientip is not registered")
    assert.isTrue(error._tag === "IpWhitelistError" && error.requestIp === undefined)
    assert.include(error.message, "this server's public IP")
  })
})

describe("WeChatError.parseRid", () => {
  it("reads rid: …", () => assert.strictEqual(WeChatError.parseRid("invalid credential rid: 64b5-2c3d-1a2b"), "64b5-2c3d-1a2b"))
  it("reads the older hint: [...]", () => assert.strictEqual(WeChatError.parseRid("system error hint: [Xq0Qa0201ge21]"), "Xq0Qa0201ge21"))
  it("answers undefined when there is none", () => assert.isUndefined(WeChatError.parseRid("ok")))
})

describe("WeChatError.isTransient", () => {
  it("retries transport failures and 5xx, not 4xx or malformed bodies", () => {
    assert.isTrue(WeChatError.isTransient(new WeChatError.TransportError({ endpoint: "api_component_token", reason: "Timeout", detail: "" })))
    assert.isTrue(WeChatError.isTransient(new WeChatError.HttpStatusError({ endpoint: "api_component_token", status: 503 })))
    assert.isFalse(WeChatError.isTransient(new WeChatError.HttpStatusError({ endpoint: "api_component_token", status: 403 })))
    assert.isFalse(
      WeChatError.isTransient(
        new WeChatError.MalformedResponseError({ endpoint: "api_component_token", reason: "NotJson", detail: "" })
      )
    )
    assert.isFalse(WeChatError.isTransient(new WeChatError.VerifyTicketError({ endpoint: "api_component_token", reason: "NotReceived" })))
  })
})

describe("WeChatError schema", () => {
  it.effect("the PreAuthCode error schema carries store failures too", () =>
    Effect.gen(function*() {
      const error = new TokenStoreError({ operation: "read the ticket", detail: "connection refused" })
      const encoded = yield* Schema.encode(PreAuthCode.PreAuthCodeError)(error)
      assert.deepStrictEqual(yield* Schema.decodeUnknown(PreAuthCode.PreAuthCodeError)(encoded), error)
    }))

  it.effect("every family round-trips through the union schema", () =>
    Effect.gen(function*() {
      const errors = [
        ...table.map(([code]) => WeChatError.fromErrcode("api_component_token", code, `m rid: 1-2-3`)),
        WeChatError.fromErrcode("api_component_token", 12345, "new"),
        new WeChatError.TransportError({ endpoint: "api_component_token", reason: "RequestFailed", detail: "ECONNRESET" }),
        new WeChatError.HttpStatusError({ endpoint: "api_component_token", status: 502 }),
        new WeChatError.MalformedResponseError({ endpoint: "api_component_token", reason: "NotJson", detail: "x" }),
        new WeChatError.VerifyTicketError({ endpoint: "api_component_token", reason: "NotReceived" })
      ]
      for (const error of errors) {
        const encoded = yield* Schema.encode(WeChatError.WeChatError)(error)
        const decoded = yield* Schema.decodeUnknown(WeChatError.WeChatError)(JSON.parse(JSON.stringify(encoded)))
        assert.deepStrictEqual(decoded, error)
        assert.strictEqual(decoded.message, error.message)
      }
    }))
})
