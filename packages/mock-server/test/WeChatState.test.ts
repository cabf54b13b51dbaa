import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as MockConfig from "../src/MockConfig.js"
import * as WeChatState from "../src/internal/WeChatState.js"
import { appId, component } from "./utils.js"

const minute = 60_000

/** A state on a clock the test moves, with a component token issued. */
const setup = (config: Partial<MockConfig.MockConfigInput> = {}) => {
  const clock = { at: Date.UTC(2026, 0, 1), now: () => clock.at }
  const state = WeChatState.make(Either.getOrThrow(MockConfig.decode({ ...MockConfig.defaults, ...config })), clock)
  const request = (endpoint: string, json: Record<string, unknown>, query: Record<string, string> = {}) =>
    state.answer({ endpoint, method: "POST", query, json, contentType: () => "application/json", ip: () => "127.0.0.1" })
  const issueToken = (): string => {
    const { ticket } = state.issueTicket(appId)
    const answer = request("api_component_token", {
      component_appid: appId,
      component_appsecret: component.appSecret,
      component_verify_ticket: ticket
    })
    return answer.component_access_token as string
  }
  const token = issueToken()
  const preAuthCode = (): string => {
    const answer = request("api_create_preauthcode", { component_appid: appId }, { component_access_token: token })
    assert.isString(answer.pre_auth_code, JSON.stringify(answer))
    return answer.pre_auth_code as string
  }
  return { clock, state, issueToken, preAuthCode, request, token }
}

describe("WeChatState", () => {
  it("the code cap evicts the oldest code, in the order issued, however many times it is reached", () => {
    const { preAuthCode, state } = setup({ maxLivePreAuthCodes: 5 })
    const issued: Array<string> = []
    for (let i = 0; i < 5 * 9 + 2; i++) {
      issued.push(preAuthCode())
      assert.deepStrictEqual(Object.keys(state.state.preAuthCodes), issued.slice(-5))
    }
  })

  it("pruning drops expired codes from the front, and the cap goes on counting the codes held", () => {
    const { clock, preAuthCode, state } = setup({ maxLivePreAuthCodes: 4 })
    preAuthCode()
    preAuthCode()
    // Past the codes' 30 minutes and the hour they are kept after it: both go at the next prune.
    clock.at += 100 * minute
    const young = [preAuthCode(), preAuthCode()]
    assert.deepStrictEqual(Object.keys(state.state.preAuthCodes), young)
    const more = [preAuthCode(), preAuthCode(), preAuthCode()]
    assert.deepStrictEqual(Object.keys(state.state.preAuthCodes), [...young, ...more].slice(-4))
  })

  it("after a reset, the cap counts the codes issued since", () => {
    const { issueToken, state } = setup({ maxLivePreAuthCodes: 3 })
    const request = (token: string) =>
      state.answer({
        endpoint: "api_create_preauthcode",
        method: "POST",
        query: { component_access_token: token },
        json: { component_appid: appId },
        contentType: () => "application/json",
        ip: () => "127.0.0.1"
      }).pre_auth_code as string
    const before = issueToken()
    for (let i = 0; i < 5; i++) request(before)
    state.reset()
    assert.deepStrictEqual(Object.keys(state.state.preAuthCodes), [])
    const after = issueToken()
    const issued = Array.from({ length: 4 }, () => request(after))
    assert.deepStrictEqual(Object.keys(state.state.preAuthCodes), issued.slice(-3))
  })

  it("an access token is always 123 characters, whatever second it is issued at", () => {
    const { clock, issueToken, token } = setup()
    const lengths = new Set([token.length])
    // Two digits of the second (05, 55) and the rest: a one-digit prefix made the length depend on the clock.
    for (const second of [5, 55, 0, 99, 100, 105]) {
      clock.at = Date.UTC(2026, 0, 1) + second * 1000
      lengths.add(issueToken().length)
    }
    assert.deepStrictEqual([...lengths], [123])
  })

  it("a new component token supersedes the one before it, and only that one", () => {
    const { clock, issueToken, state } = setup()
    const first = Object.keys(state.state.tokens)[0]!
    clock.at += minute
    const second = issueToken()
    clock.at += minute
    const third = issueToken()
    assert.strictEqual(state.state.tokens[first]!.supersededAt, clock.at - minute)
    assert.strictEqual(state.state.tokens[second]!.supersededAt, clock.at)
    assert.isUndefined(state.state.tokens[third]!.supersededAt)
  })
})

describe("account calls", () => {
  /** An official account authorized with `permissions`, and its first access token. */
  const authorized = (config: Partial<MockConfig.MockConfigInput> = {}) => {
    const setUp = setup(config)
    const issued = setUp.state.authorize({ componentAppId: appId, authorizerAppId: MockConfig.defaults.authorizers![0]!.appId })
    assert.isTrue("authorizationCode" in issued)
    const answer = setUp.request(
      "api_query_auth",
      { component_appid: appId, authorization_code: (issued as { authorizationCode: string }).authorizationCode },
      { component_access_token: setUp.token }
    )
    const accessToken = (answer.authorization_info as { authorizer_access_token: string }).authorizer_access_token
    const accountCall = (path: string, ip = "127.0.0.1") =>
      setUp.state.accountCall({ path, query: { access_token: accessToken }, ip: () => ip })
    return { ...setUp, accessToken, accountCall }
  }

  it("the component's IP whitelist applies: 61004 with requestIP for another caller", () => {
    const { accountCall } = authorized({ components: [{ ...component, ipWhitelist: ["127.0.0.1"] }] })
    assert.isTrue("account" in accountCall("/cgi-bin/user/info"))
    const refused = accountCall("/cgi-bin/user/info", "203.0.113.9")
    assert.isTrue("refused" in refused)
    const answer = (refused as { refused: { errcode: number; errmsg: string } }).refused
    assert.strictEqual(answer.errcode, 61004)
    assert.match(answer.errmsg, /^access clientip is not registered requestIP: 203\.0\.113\.9 rid: /)
  })

  it("the token index holds live tokens only: a replaced one goes once its grace is over, a retired one at once", () => {
    const { accessToken, clock, request, state, token } = authorized()
    const refresh = () =>
      request("api_authorizer_token", {
        component_appid: appId,
        authorizer_appid: MockConfig.defaults.authorizers![0]!.appId,
        authorizer_refresh_token: Object.values(state.state.authorizations)[0]!.refreshToken
      }, { component_access_token: token }).authorizer_access_token as string
    const second = refresh()
    assert.deepStrictEqual(Object.keys(state.state.authorizerTokens).sort(), [accessToken, second].sort())
    clock.at += 6 * minute
    state.prune()
    assert.deepStrictEqual(Object.keys(state.state.authorizerTokens), [second])
    state.invalidateToken(appId, MockConfig.defaults.authorizers![0]!.appId)
    clock.at += minute
    state.prune()
    assert.deepStrictEqual(state.state.authorizerTokens, {})
  })
})

describe("codes", () => {
  it("holds codes oldest first past the cap and across the growth of its ring, each with its component, expiry and use", () => {
    const cap = 3_000
    const held = WeChatState.codes(cap)
    const expected: Array<string> = []
    // Five in for one dropped from the front: the ring grows from 1,024 slots to the cap, then the cap evicts.
    for (let n = 0; n < 10_000; n++) {
      held.add(`code${n}`, `wx${n % 7}`, n)
      expected.push(`code${n}`)
      if (expected.length > cap) expected.shift()
      if (n % 5 === 4) {
        const oldest = Number(expected[0]!.slice(4))
        held.dropWhile((expiresAt) => expiresAt <= oldest)
        expected.shift()
      }
      assert.strictEqual(held.size, expected.length)
    }
    assert.deepStrictEqual(Object.keys(held.toRecord()), expected)
    const newest = expected.at(-1)!
    held.use(newest, 42)
    assert.deepStrictEqual(held.get(newest), { componentAppId: `wx${9_999 % 7}`, expiresAt: 9_999, usedAt: 42 })
    assert.deepStrictEqual(held.get(expected[0]!), { componentAppId: `wx${Number(expected[0]!.slice(4)) % 7}`, expiresAt: Number(expected[0]!.slice(4)) })
    assert.isUndefined(held.get("code0"))
  })
})
