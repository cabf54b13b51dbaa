import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as MockConfig from "../src/MockConfig.js"

const decodeError = (input: unknown) => Either.getOrThrow(Either.flip(MockConfig.decode(input)))

describe("MockConfig", () => {
  it("the defaults' accounts name only appId, name and type; the rest comes from withDefaults", () => {
    assert.deepStrictEqual(MockConfig.defaults.authorizers!.map((a) => Object.keys(a)), [["appId", "name", "type"], ["appId", "name", "type"]])
    const [official, mini] = Either.getOrThrow(MockConfig.decode(MockConfig.defaults)).authorizers.map(MockConfig.withDefaults)
    assert.deepStrictEqual(official, {
      appId: "wxa1b2c3d4e5f60001",
      name: "Mock Coffee",
      type: "officialAccount",
      permissions: [1, 2, 3, 4, 7, 11, 15, 24],
      serviceType: 0,
      verifyType: 0,
      principalName: "Mock Coffee Ltd.",
      userName: "gh_c3d4e5f60001",
      alias: "",
      listedWithoutRefreshToken: false
    })
    assert.deepStrictEqual(mini!.permissions, [17, 18, 19, 25, 30, 31])
  })

  it("refuses what WeChat would not say of an account, one line per mistake", () => {
    const account = { appId: "wxa1b2c3d4e5f60002", name: "Mini", type: "miniProgram" }
    const base = { components: MockConfig.defaults.components }
    assert.strictEqual(decodeError({ ...base, authorizers: [{ ...account, serviceType: 2 }] }), "authorizers.0.serviceType: a mini program's serviceType is 0")
    assert.strictEqual(decodeError({ ...base, authorizers: [{ ...account, verifyType: 9 }] }), "authorizers.0.verifyType: an integer from -1 to 5")
    assert.strictEqual(decodeError({ ...base, authorizers: [{ ...account, userName: "gh_x" }] }), "authorizers.0.userName: gh_ and 12 hex digits")
    assert.match(decodeError({ ...base, authorizers: [{ ...account, permissions: [0] }] }), /^authorizers\.0\.permissions\.0: /)
  })

  it("apiQuotas are keyed by account API paths; stubs are checked as the admin API checks them", () => {
    const base = { components: MockConfig.defaults.components }
    assert.strictEqual(Either.getOrThrow(MockConfig.decode({ ...base, apiQuotas: { "/cgi-bin/user/info": 5 } })).apiQuotas["/cgi-bin/user/info"], 5)
    assert.match(decodeError({ ...base, apiQuotas: { "user/info": 5 } }), /^apiQuotas\.user\/info: /)
    assert.deepStrictEqual(
      Either.getOrThrow(MockConfig.decode({ ...base, stubs: [{ method: "GET", path: "/a", body: 1 }] })).stubs,
      [{ method: "GET", path: "/a", status: 200, body: 1 }]
    )
    assert.strictEqual(decodeError({ ...base, stubs: [{ method: "GET", path: "/a" }] }), "stubs.0.body: is missing")
  })
})
