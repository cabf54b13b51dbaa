/**
 * The process behind `AccountsBench`: a platform with `--accounts N` (10,000)
 * authorized accounts in its memory store, each called once as the account
 * (`AuthorizerClient`, a refresh and an API call), then idle for a simulated
 * `--idle-hours H` (3), after a warm-up on 1,000 other accounts: the clock wxopen reads is moved forward (a `TestClock`
 * would not do: it keeps every timeout it was asked for until its time comes,
 * which is what would be measured). Prints the heap used, each reading
 * after a full GC (it needs `--expose-gc`), as JSON: before the calls (the
 * store filled), after them, and after the idle time.
 *
 * WeChat is an in-process `HttpClient` that answers `api_authorizer_token`
 * and the account's call at once: what is measured is what wxopen keeps per
 * account, not a network stack.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { AuthorizerClient, AuthorizerToken, TokenStore } from "@wxopen/core"
import { Clock, Effect, Layer, Redacted, Schema } from "effect"
import * as Crypto from "node:crypto"
import { parseArgs } from "node:util"
import * as Wxopen from "./Wxopen.js"

const { values } = parseArgs({
  options: { accounts: { type: "string", default: "10000" }, "idle-hours": { type: "string", default: "3" } }
})
const accounts = Number(values.accounts)
const idleHours = Number(values["idle-hours"])
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with --expose-gc")

const appId = "wx0c0ffee000000001"
const warmUp = 1_000
const token = () => `${Crypto.randomBytes(90).toString("base64url")}`
const accountOf = (i: number) => `wx${i.toString(16).padStart(16, "0")}`

// WeChat, answering at once: a new access token for a refresh, an IP list for the account's call.
const wechat = HttpClient.make((request) =>
  Effect.succeed(HttpClientResponse.fromWeb(
    request,
    new Response(JSON.stringify(
      request.url.endsWith("/api_authorizer_token")
        ? { authorizer_access_token: token(), expires_in: 7200 }
        : { ip_list: ["101.226.62.77", "101.226.62.78"] }
    ))
  ))
)

const IpList = Schema.Struct({ ip_list: Schema.Array(Schema.String) })

// Real time, plus what the "idle" step adds; sleeps are real ones.
let offsetMs = 0
const real = Clock.make()
const now = () => Date.now() + offsetMs
const clock: Clock.Clock = {
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: now,
  currentTimeMillis: Effect.sync(now),
  unsafeCurrentTimeNanos: () => BigInt(now()) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => BigInt(now()) * 1_000_000n),
  sleep: (duration) => real.sleep(duration)
}

const heapMb = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 1048576
}

const program = Effect.gen(function*() {
  const store = yield* TokenStore.TokenStore
  // A warm component token, valid past the idle time, and every account's tokens as a store holds them.
  yield* store.setComponentToken(appId, { value: Redacted.make(token()), expiresAt: now() + (idleHours + 10) * 3_600_000 })
  for (let i = 0; i < accounts + warmUp; i++) {
    yield* store.setAuthorizer(appId, accountOf(i), {
      accessToken: Redacted.make(token()),
      expiresAt: 0,
      refreshToken: Redacted.make(`refreshtoken@@@${token().slice(0, 40)}`),
      authorizedAt: 1
    })
  }
  const callEach = (from: number, to: number) =>
    Effect.forEach(
      Array.from({ length: to - from }, (_, i) => accountOf(from + i)),
      (account) => Effect.flatMap(AuthorizerClient.make(account), (client) => client.get("/cgi-bin/get_api_domain_ip", IpList)),
      { concurrency: 64, discard: true }
    )
  // The first calls compile the code they run (bytecode, feedback), a few MB that no number of accounts changes: a
  // warm-up of other accounts pays for it before the first reading.
  yield* callEach(accounts, accounts + warmUp)
  const before = heapMb()
  yield* callEach(0, accounts)
  const called = heapMb()
  offsetMs += idleHours * 3_600_000
  yield* Effect.sleep("1 second") // timers due in the idle time run
  const idle = heapMb()
  return { accounts, idleHours, before, called, idle }
})

const services = AuthorizerToken.layer.pipe(
  Layer.provideMerge(Wxopen.layer({
    appId,
    appSecret: Redacted.make("bench-app-secret"),
    apiBaseUrl: "https://api.weixin.qq.com",
    store: TokenStore.layerMemory,
    client: Layer.succeed(HttpClient.HttpClient, wechat)
  }))
)

const readings = await Effect.runPromise(program.pipe(Effect.provide(services), Effect.withClock(clock)))
console.log(JSON.stringify(readings))
