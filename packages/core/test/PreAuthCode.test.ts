import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Exit, Fiber, Option, Schedule, TestClock } from "effect"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as TokenStore from "../src/TokenStore.js"
import { appId, appSecret, makeLayer, makeStub, noRetries, settle, storeTicket, ticketValue } from "./utils.js"

const errcode = (code: number, msg = "boom") => Effect.succeed({ json: { errcode: code, errmsg: `${msg} rid: 6400a1b2-2c3d4e5f-1a2b3c4d` } })

/** A WeChat whose token endpoint takes one (test clock) second to answer. */
const slowTokenStub = () =>
  makeStub({
    api_component_token: () =>
      Effect.as(Effect.sleep("1 second"), { json: { component_access_token: "token-1", expires_in: 7200 } }),
    api_create_preauthcode: () => Effect.succeed({ json: { pre_auth_code: "preauthcode@@@1", expires_in: 1800 } })
  })

describe("PreAuthCode.create", () => {
  it.effect("sends the token in the query string and the appid as a JSON body, and decodes the answer", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* TestClock.adjust("10 seconds")
      const code = yield* PreAuthCode.create
      assert.strictEqual(code.code, "preauthcode@@@1")
      assert.strictEqual(code.expiresIn, 1800)
      assert.strictEqual(DateTime.toEpochMillis(code.expiresAt), 10_000 + 1_800_000)

      const [tokenRequest, codeRequest] = stub.requests
      assert.strictEqual(tokenRequest?.url.pathname, "/cgi-bin/component/api_component_token")
      assert.deepStrictEqual(tokenRequest?.body, {
        component_appid: appId,
        component_appsecret: appSecret,
        component_verify_ticket: ticketValue
      })
      assert.strictEqual(tokenRequest?.url.search, "")
      assert.strictEqual(codeRequest?.url.pathname, "/cgi-bin/component/api_create_preauthcode")
      assert.strictEqual(codeRequest?.token, "token-1")
      assert.strictEqual(codeRequest?.contentType, "application/json")
      assert.deepStrictEqual(codeRequest?.body, { component_appid: appId })
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("talks to the configured API base URL", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* PreAuthCode.create
      assert.deepStrictEqual(stub.requests.map((r) => r.url.origin + r.url.pathname), [
        "http://127.0.0.1:9999/mock/cgi-bin/component/api_component_token",
        "http://127.0.0.1:9999/mock/cgi-bin/component/api_create_preauthcode"
      ])
    }).pipe(Effect.provide(makeLayer(stub, { apiBaseUrl: "http://127.0.0.1:9999/mock/" })))
  })

  it.effect("is never cached: each call asks WeChat for a new code", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      const first = yield* PreAuthCode.create
      const second = yield* PreAuthCode.create
      assert.notStrictEqual(first.code, second.code)
      assert.strictEqual(stub.count("api_create_preauthcode"), 2)
      assert.strictEqual(stub.count("api_component_token"), 1)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("1,000 concurrent calls on a cold store fetch the token once and ask for 1,000 codes", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      const codes = yield* Effect.all(Array.from({ length: 1000 }, () => PreAuthCode.create), { concurrency: "unbounded" })
      assert.strictEqual(stub.count("api_component_token"), 1)
      assert.strictEqual(stub.count("api_create_preauthcode"), 1000)
      assert.strictEqual(new Set(codes.map((c) => c.code)).size, 1000)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("without a verify ticket fails with VerifyTicketError and sends nothing", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      const error = yield* Effect.flip(PreAuthCode.create)
      assert.strictEqual(error._tag, "VerifyTicketError")
      assert.strictEqual(error._tag === "VerifyTicketError" && error.reason, "NotReceived")
      assert.match(error.message, /api_start_push_ticket/)
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("with a ticket older than 12 hours fails with VerifyTicketError (Stale) and sends nothing", () => {
    const stub = makeStub()
    return Effect.gen(function*() {
      yield* storeTicket()
      yield* TestClock.adjust("12 hours")
      const error = yield* Effect.flip(PreAuthCode.create)
      assert.strictEqual(error._tag === "VerifyTicketError" && error.reason, "Stale")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  describe("token lifecycle", () => {
    it.effect("refreshes when less than the margin is left, not before", () => {
      const stub = makeStub()
      return Effect.gen(function*() {
        yield* storeTicket()
        yield* PreAuthCode.create // token-1, expires at 7,200 s
        yield* TestClock.adjust("6900 seconds") // exactly the 300 s margin left
        yield* PreAuthCode.create
        assert.strictEqual(stub.count("api_component_token"), 1)
        yield* TestClock.adjust("1 millis") // a millisecond under the margin
        yield* PreAuthCode.create
        assert.strictEqual(stub.count("api_component_token"), 2)
        assert.strictEqual(stub.requests.at(-1)?.token, "token-2")
      }).pipe(Effect.provide(makeLayer(stub, { refreshMargin: "5 minutes" })))
    })

    it.effect("never sends an expired token, even with no margin", () => {
      const stub = makeStub()
      return Effect.gen(function*() {
        yield* storeTicket()
        yield* PreAuthCode.create
        yield* TestClock.adjust("7200 seconds")
        yield* PreAuthCode.create
        assert.deepStrictEqual(
          stub.requests.filter((r) => r.endpoint === "api_create_preauthcode").map((r) => r.token),
          ["token-1", "token-2"]
        )
      }).pipe(Effect.provide(makeLayer(stub, { refreshMargin: 0 })))
    })

    it.effect("does not keep a failed fetch: the next call fetches again", () => {
      const stub = makeStub({
        api_component_token: (_, n) =>
          n === 1 ? errcode(-1, "system error") : Effect.succeed({ json: { component_access_token: "token-ok", expires_in: 7200 } }),
        api_create_preauthcode: () => Effect.succeed({ json: { pre_auth_code: "preauthcode@@@x", expires_in: 1800 } })
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(PreAuthCode.create)
        assert.strictEqual(error._tag, "SystemBusyError")
        yield* PreAuthCode.create
        assert.strictEqual(stub.count("api_component_token"), 2)
        assert.strictEqual(stub.requests.at(-1)?.token, "token-ok")
      }).pipe(Effect.provide(makeLayer(stub, {}, noRetries)))
    })

    it.effect("interrupting one waiter does not fail the others or the fetch", () => {
      const stub = slowTokenStub()
      return Effect.gen(function*() {
        yield* storeTicket()
        const first = yield* Effect.fork(PreAuthCode.create)
        const others = yield* Effect.fork(Effect.all([PreAuthCode.create, PreAuthCode.create], { concurrency: 2 }))
        yield* settle
        const interrupted = yield* Fiber.interrupt(first)
        assert.isTrue(Exit.isInterrupted(interrupted))
        yield* TestClock.adjust("1 second")
        const codes = yield* Fiber.join(others)
        assert.strictEqual(codes.length, 2)
        assert.strictEqual(stub.count("api_component_token"), 1)
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("a fetch whose every caller was interrupted still stores its token", () => {
      const stub = slowTokenStub()
      return Effect.gen(function*() {
        yield* storeTicket()
        const caller = yield* Effect.fork(PreAuthCode.create)
        yield* settle
        yield* Fiber.interrupt(caller)
        yield* TestClock.adjust("1 second")
        yield* settle
        const stored = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.getComponentToken(appId))
        assert.isTrue(Option.isSome(stored))
        yield* PreAuthCode.create
        assert.strictEqual(stub.count("api_component_token"), 1)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  })

  describe("refused tokens", () => {
    for (const code of [40001, 42001, 40014, 41001]) {
      it.effect(`a ${code} fetches one new token and retries once, which succeeds`, () => {
        const stub = makeStub({
          api_create_preauthcode: (request) =>
            request.token === "token-1"
              ? errcode(code, "access_token refused")
              : Effect.succeed({ json: { pre_auth_code: "preauthcode@@@ok", expires_in: 1800 } })
        })
        return Effect.gen(function*() {
          yield* storeTicket()
          const result = yield* PreAuthCode.create
          assert.strictEqual(result.code, "preauthcode@@@ok")
          assert.strictEqual(stub.count("api_component_token"), 2)
          assert.strictEqual(stub.count("api_create_preauthcode"), 2)
        }).pipe(Effect.provide(makeLayer(stub)))
      })
    }

    it.effect("a second 40001 fails with AccessTokenError: no loop", () => {
      const stub = makeStub({ api_create_preauthcode: () => errcode(40001, "invalid credential") })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(PreAuthCode.create)
        assert.strictEqual(error._tag, "AccessTokenError")
        assert.strictEqual(stub.count("api_component_token"), 2)
        assert.strictEqual(stub.count("api_create_preauthcode"), 2)
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("100 calls refused with the same token share one new token", () => {
      const stub = makeStub({
        api_create_preauthcode: (request) =>
          request.token === "token-1"
            ? errcode(40001, "invalid credential")
            : Effect.succeed({ json: { pre_auth_code: "preauthcode@@@ok", expires_in: 1800 } })
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        yield* Effect.all(Array.from({ length: 100 }, () => PreAuthCode.create), { concurrency: "unbounded" })
        assert.strictEqual(stub.count("api_component_token"), 2)
        assert.strictEqual(stub.count("api_create_preauthcode"), 200)
      }).pipe(Effect.provide(makeLayer(stub)))
    })
  })

  describe("retries", () => {
    it.effect("-1 is retried with backoff and succeeds when WeChat recovers", () => {
      const stub = makeStub({
        api_create_preauthcode: (_, n) =>
          n < 3 ? errcode(-1, "system error") : Effect.succeed({ json: { pre_auth_code: "preauthcode@@@late", expires_in: 1800 } })
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(PreAuthCode.create)
        yield* settle
        assert.strictEqual(stub.count("api_create_preauthcode"), 1)
        yield* TestClock.adjust("200 millis") // under the first backoff (250 ms ± 20 %)
        assert.strictEqual(stub.count("api_create_preauthcode"), 1)
        yield* TestClock.adjust("30 seconds")
        const code = yield* Fiber.join(fiber)
        assert.strictEqual(code.code, "preauthcode@@@late")
        assert.strictEqual(stub.count("api_create_preauthcode"), 3)
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("-1 that never recovers fails with SystemBusyError after the bounded retries", () => {
      const stub = makeStub({ api_create_preauthcode: () => errcode(-1, "system error") })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(Effect.flip(PreAuthCode.create))
        yield* TestClock.adjust("1 hour")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "SystemBusyError")
        assert.strictEqual(stub.count("api_create_preauthcode"), 5)
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    for (const [code, tag] of [[45009, "QuotaError"], [61005, "VerifyTicketError"], [48001, "PermissionError"]] as const) {
      it.effect(`${code} is not retried`, () => {
        const stub = makeStub({ api_create_preauthcode: () => errcode(code) })
        return Effect.gen(function*() {
          yield* storeTicket()
          const fiber = yield* Effect.fork(Effect.flip(PreAuthCode.create))
          yield* TestClock.adjust("1 hour")
          const error = yield* Fiber.join(fiber)
          assert.strictEqual(error._tag, tag)
          assert.strictEqual(stub.count("api_create_preauthcode"), 1)
        }).pipe(Effect.provide(makeLayer(stub)))
      })
    }

    it.effect("45011 is retried", () => {
      const stub = makeStub({
        api_create_preauthcode: (_, n) =>
          n === 1 ? errcode(45011) : Effect.succeed({ json: { pre_auth_code: "preauthcode@@@2", expires_in: 1800 } })
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(PreAuthCode.create)
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* Fiber.join(fiber)).code, "preauthcode@@@2")
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("the policy can be replaced through a layer", () => {
      const stub = makeStub({ api_create_preauthcode: () => errcode(-1) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(PreAuthCode.create)
        assert.strictEqual(error._tag, "SystemBusyError")
        assert.strictEqual(stub.count("api_create_preauthcode"), 1)
      }).pipe(Effect.provide(makeLayer(stub, {}, noRetries)))
    })

    for (const [code, requests] of [[40001, 2], [45009, 1], [61006, 1]] as const) {
      it.effect(`a policy that retries everything still cannot retry ${code}`, () => {
        const stub = makeStub({ api_create_preauthcode: () => errcode(code) })
        return Effect.gen(function*() {
          yield* storeTicket()
          const fiber = yield* Effect.fork(Effect.flip(PreAuthCode.create))
          yield* TestClock.adjust("1 hour")
          yield* Fiber.join(fiber)
          assert.strictEqual(stub.count("api_create_preauthcode"), requests)
        }).pipe(Effect.provide(makeLayer(stub, {}, Schedule.forever)))
      })
    }

    it.effect("the default policy starts no retry more than 30 seconds after the first failure", () => {
      // Each answer takes 12 s. Failures come at about 12, 24, 37 and 50 s: the retries after the first three
      // start within 30 s of the first failure, the one after the fourth would not. Count alone would allow 5.
      const stub = makeStub({ api_create_preauthcode: () => Effect.zipRight(Effect.sleep("12 seconds"), errcode(-1)) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(Effect.flip(PreAuthCode.create))
        yield* TestClock.adjust("10 minutes")
        assert.strictEqual((yield* Fiber.join(fiber))._tag, "SystemBusyError")
        assert.strictEqual(stub.count("api_create_preauthcode"), 4)
      }).pipe(Effect.provide(makeLayer(stub, { requestTimeout: "20 seconds" })))
    })

    it.effect("a request that never answers times out as a TransportError and is retried", () => {
      const stub = makeStub({ api_create_preauthcode: () => Effect.succeed({ hang: true as const }) })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(Effect.flip(PreAuthCode.create))
        yield* TestClock.adjust("10 minutes")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag === "TransportError" && error.reason, "Timeout")
        assert.strictEqual(stub.count("api_create_preauthcode"), 5)
      }).pipe(Effect.provide(makeLayer(stub, { requestTimeout: "2 seconds" })))
    })
  })

  describe("malformed answers become typed errors", () => {
    const cases: ReadonlyArray<readonly [string, { status: number; text: string } | { json: unknown }, string, string]> = [
      ["an HTML error page", { status: 200, text: "<html><body>502 Bad Gateway</body></html>" }, "MalformedResponseError", "NotJson"],
      ["truncated JSON", { status: 200, text: "{\"pre_auth_code\":\"preauthcode@@@tr" }, "MalformedResponseError", "NotJson"],
      ["an empty body", { status: 200, text: "" }, "MalformedResponseError", "NotJson"],
      ["expires_in as a string", { json: { pre_auth_code: "preauthcode@@@1", expires_in: "1800" } }, "MalformedResponseError", "UnexpectedShape"],
      ["a missing field", { json: { expires_in: 1800 } }, "MalformedResponseError", "UnexpectedShape"],
      ["a JSON array", { json: [1, 2] }, "MalformedResponseError", "UnexpectedShape"],
      ["a 502", { status: 502, text: "<html>Bad Gateway</html>" }, "HttpStatusError", "502"],
      ["a 404", { status: 404, text: "not found" }, "HttpStatusError", "404"]
    ]
    for (const [name, reply, tag, detail] of cases) {
      it.effect(name, () => {
        const stub = makeStub({ api_create_preauthcode: () => Effect.succeed(reply) })
        return Effect.gen(function*() {
          yield* storeTicket()
          const exit = yield* Effect.exit(PreAuthCode.create)
          assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Fail", "a typed failure, not a defect")
          const error = yield* Effect.flip(PreAuthCode.create)
          assert.strictEqual(error._tag, tag)
          assert.strictEqual(
            error._tag === "MalformedResponseError" ? error.reason : error._tag === "HttpStatusError" ? String(error.status) : "",
            detail
          )
          assert.strictEqual(error.message.includes("preauthcode@@@"), false)
        }).pipe(Effect.provide(makeLayer(stub, {}, noRetries)))
      })
    }

    it.effect("a 502 is retried by the default policy", () => {
      const stub = makeStub({
        api_create_preauthcode: (_, n) =>
          Effect.succeed(n === 1 ? { status: 502, text: "<html>Bad Gateway</html>" } : { json: { pre_auth_code: "preauthcode@@@2", expires_in: 1800 } })
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(PreAuthCode.create)
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* Fiber.join(fiber)).code, "preauthcode@@@2")
      }).pipe(Effect.provide(makeLayer(stub)))
    })

    it.effect("a malformed token answer is a typed error that does not quote the token", () => {
      const stub = makeStub({
        api_component_token: () => Effect.succeed({ json: { component_access_token: "token-secret-xyz", expires_in: "7200" } })
      })
      return Effect.gen(function*() {
        yield* storeTicket()
        const error = yield* Effect.flip(PreAuthCode.create)
        assert.strictEqual(error._tag, "MalformedResponseError")
        assert.strictEqual(error._tag === "MalformedResponseError" && error.endpoint, "/cgi-bin/component/api_component_token")
        assert.match(error.message, /expires_in/)
        assert.notInclude(error.message, "token-secret-xyz")
      }).pipe(Effect.provide(makeLayer(stub, {}, noRetries)))
    })
  })
})
