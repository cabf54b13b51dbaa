import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Option, TestClock } from "effect"
import * as ComponentPush from "../src/ComponentPush.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import {
  appSecret,
  encodingAesKey,
  type Handler,
  makeCapture,
  makeLayer,
  makeStub,
  messageToken,
  seal,
  storeTicket,
  ticketValue,
  ticketXml
} from "./utils.js"

const leakedToken = "TOKEN-LEAK-7f3a9c"

const ok = { json: { component_access_token: leakedToken, expires_in: 7200 } }

const scenarios: ReadonlyArray<readonly [string, Partial<Record<string, Handler>>]> = [
  ["a connection failure whose text echoes the URL and token", {
    api_component_token: () => Effect.succeed(ok),
    api_create_preauthcode: () => Effect.succeed({ transport: "connect ECONNREFUSED" })
  }],
  ["a token answer with a malformed expires_in", {
    api_component_token: () => Effect.succeed({ json: { component_access_token: leakedToken, expires_in: "7200" } })
  }],
  ["a truncated token answer", {
    api_component_token: () => Effect.succeed({ status: 200, text: `{"component_access_token":"${leakedToken}","expi` })
  }],
  ["a token answer that is a JSON string", {
    api_component_token: () => Effect.succeed({ json: `component_access_token=${leakedToken}` })
  }],
  ["refused tokens, twice", {
    api_component_token: () => Effect.succeed(ok),
    api_create_preauthcode: () => Effect.succeed({ json: { errcode: 40001, errmsg: "invalid credential rid: 1-2-3" } })
  }],
  ["a wrong app secret", {
    api_component_token: () => Effect.succeed({ json: { errcode: 40125, errmsg: "invalid appsecret rid: 1-2-3" } })
  }],
  ["an HTML error page", {
    api_component_token: () => Effect.succeed(ok),
    api_create_preauthcode: () => Effect.succeed({ status: 502, text: `<html>bad gateway for ?component_access_token=${leakedToken}</html>` })
  }],
  ["a request that times out", {
    api_component_token: () => Effect.succeed(ok),
    api_create_preauthcode: () => Effect.succeed({ hang: true as const })
  }],
  ...[-1, 45009, 45011, 61004, 61005, 61006, 41004, 61011, 48001, 47001, 99999].flatMap((code) => [
    [`errcode ${code} on api_component_token`, {
      api_component_token: () => Effect.succeed({ json: { errcode: code, errmsg: `requestIP: 203.0.113.7 rid: 1-2-3` } })
    }] as const,
    [`errcode ${code} on api_create_preauthcode`, {
      api_component_token: () => Effect.succeed(ok),
      api_create_preauthcode: () => Effect.succeed({ json: { errcode: code, errmsg: `requestIP: 203.0.113.7 rid: 1-2-3` } })
    }] as const
  ]),
  ["a success", {
    api_component_token: () => Effect.succeed(ok),
    api_create_preauthcode: () => Effect.succeed({ json: { pre_auth_code: "preauthcode@@@1", expires_in: 1800 } })
  }]
]

describe("secrets stay out of errors, logs and spans", () => {
  for (const [name, handlers] of scenarios) {
    it.effect(name, () => {
      const capture = makeCapture()
      const stub = makeStub(handlers)
      return Effect.gen(function*() {
        yield* storeTicket()
        const fiber = yield* Effect.fork(Effect.exit(PreAuthCode.create))
        yield* TestClock.adjust("1 hour")
        const exit = yield* Fiber.join(fiber)
        Exit.match(exit, {
          onSuccess: () => {},
          onFailure: (cause) => {
            capture.texts.push(Cause.pretty(cause))
            Option.map(Cause.failureOption(cause), (error) => {
              capture.texts.push(error.message, String(error), JSON.stringify(error))
            })
          }
        })
        assert.isAbove(capture.texts.length, 0, "the capture saw nothing: the test would prove nothing")
        assert.isTrue(capture.texts.some((t) => t.includes("PreAuthCode.create")), "spans were captured")
        const all = capture.texts.join("\n")
        for (const secret of [appSecret, ticketValue, leakedToken]) {
          assert.notInclude(all, secret)
          assert.notInclude(all, encodeURIComponent(secret))
        }
      }).pipe(Effect.provide(makeLayer(stub)), Effect.provide(capture.layer))
    })
  }

  describe("the push receiver", () => {
    const pushedTicket = "ticket@@@PUSHED-SECRET-91c2"
    const deliveries: ReadonlyArray<readonly [string, () => ComponentPush.Delivery]> = [
      ["a ticket push", () => seal(ticketXml(pushedTicket, 10))],
      ["a forged ticket push", () => {
        const delivery = seal(ticketXml(pushedTicket, 10))
        delivery.query.set("msg_signature", "0".repeat(40))
        return delivery
      }],
      ["a push sealed for another component", () => seal(ticketXml(pushedTicket, 10), { forAppId: "wxaaaaaaaaaaaaaaaa" })],
      ["a push with another key", () => seal(ticketXml(pushedTicket, 10), { key: "Z".repeat(43) })],
      ["an authentic push that cannot be read", () => seal(`<xml><InfoType>component_verify_ticket</InfoType><AppId>wx</AppId><CreateTime>x${pushedTicket}</CreateTime><ComponentVerifyTicket>${pushedTicket}</ComponentVerifyTicket></xml>`)]
    ]
    for (const [name, delivery] of deliveries) {
      it.effect(name, () => {
        const capture = makeCapture()
        return Effect.gen(function*() {
          const exit = yield* Effect.exit(ComponentPush.receive(delivery()))
          Exit.match(exit, {
            onSuccess: (event) => capture.texts.push(String(event), JSON.stringify(event)),
            onFailure: (cause) => capture.texts.push(Cause.pretty(cause))
          })
          assert.isTrue(capture.texts.some((t) => t.includes("ComponentPush.receive")), "spans were captured")
          const all = capture.texts.join("\n")
          for (const secret of [pushedTicket, messageToken, encodingAesKey]) assert.notInclude(all, secret)
        }).pipe(
          Effect.provide(Layer.provideMerge(ComponentPush.layer(), makeLayer(makeStub()))),
          Effect.provide(capture.layer)
        )
      })
    }
  })

  it.effect("the capture itself would see a secret that is logged (the test can fail)", () => {
    const capture = makeCapture()
    return Effect.gen(function*() {
      yield* Effect.logDebug(`oops ${leakedToken}`).pipe(Effect.withSpan("Leaky.span", { attributes: { token: leakedToken } }))
      assert.include(capture.texts.join("\n"), leakedToken)
    }).pipe(Effect.provide(capture.layer))
  })
})
