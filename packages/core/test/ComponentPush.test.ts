import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, FiberId, Layer, Logger, Option, Redacted, TestClock } from "effect"
import { createServer } from "node:http"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentPush from "../src/ComponentPush.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import type * as PushEvent from "../src/PushEvent.js"
import * as TokenStore from "../src/TokenStore.js"
import * as WeChatClient from "../src/WeChatClient.js"
import {
  appId,
  appSecret,
  clientLayer,
  makeLayer,
  makeStub,
  noRetries,
  plaintext,
  seal,
  sealRaw,
  settle,
  signed,
  ticketXml
} from "./utils.js"

const storedTicket = Effect.flatMap(TokenStore.TokenStore, (store) => store.getTicket(appId)).pipe(
  Effect.map(Option.map((t) => ({ value: Redacted.value(t.value), createdAt: t.createdAt, receivedAt: t.receivedAt })))
)

const unauthorizedXml = `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>1</CreateTime>` +
  `<InfoType><![CDATA[unauthorized]]></InfoType><AuthorizerAppid><![CDATA[wxfedcba9876543210]]></AuthorizerAppid></xml>`

/** The receiver over a stubbed WeChat, with a handler that records what it is given. */
const makeReceiver = <R = never>(options: ComponentPush.Options<R> = {}, handlers: Parameters<typeof makeStub>[0] = {}) => {
  const stub = makeStub(handlers)
  const base = makeLayer(stub, {}, noRetries)
  return { stub, layer: Layer.provideMerge(ComponentPush.layer(options), base) }
}

const encryptedOf = (delivery: { readonly body: string }) => /CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(delivery.body)![1]!

describe("ComponentPush.receive", () => {
  it.effect("stores a pushed ticket with its creation and receive times, and PreAuthCode.create uses it", () => {
    const { layer, stub } = makeReceiver()
    return Effect.gen(function*() {
      yield* TestClock.adjust("100 seconds")
      const event = yield* ComponentPush.receive(seal(ticketXml("ticket@@@pushed", 90)))
      assert.strictEqual(event._tag, "VerifyTicketEvent")
      assert.deepStrictEqual(Option.getOrNull(yield* storedTicket), { value: "ticket@@@pushed", createdAt: 90_000, receivedAt: 100_000 })
      yield* PreAuthCode.create
      assert.strictEqual(stub.requests[0]?.body.component_verify_ticket, "ticket@@@pushed")
    }).pipe(Effect.provide(layer))
  })

  it.effect("keeps the newest ticket when pushes arrive out of order", () => {
    const { layer } = makeReceiver()
    return Effect.gen(function*() {
      yield* TestClock.adjust("2000 seconds")
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@newer", 1200)))
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@older", 600)))
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@newer")
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@newest", 1800)))
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@newest")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a ticket created 12 hours ago is stale even when it was received just now", () => {
    const { layer, stub } = makeReceiver()
    return Effect.gen(function*() {
      yield* TestClock.adjust("13 hours")
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@late-delivery", 3600)))
      const error = yield* Effect.flip(PreAuthCode.create)
      assert.strictEqual(error._tag === "VerifyTicketError" && error.reason, "Stale")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a ticket dated in the future counts as created now: later pushes replace it, and it grows old", () => {
    const { layer } = makeReceiver()
    return Effect.gen(function*() {
      yield* TestClock.adjust("1000 seconds")
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@from-the-future", 9_999_999_999)))
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).createdAt, 1_000_000)
      yield* TestClock.adjust("10 minutes")
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@next", 1600)))
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@next")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a pushed ticket past 12 hours gives VerifyTicketError and no request to WeChat", () => {
    const { layer, stub } = makeReceiver()
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@old", 0)))
      yield* TestClock.adjust("12 hours")
      const error = yield* Effect.flip(PreAuthCode.create)
      assert.strictEqual(error._tag === "VerifyTicketError" && error.reason, "Stale")
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(layer))
  })

  describe("refuses what is not an authentic push, and changes nothing", () => {
    const good = seal(ticketXml("ticket@@@forged", 10))
    const tamperedBody = (() => {
      const encrypted = encryptedOf(good)
      const bytes = Buffer.from(encrypted, "base64")
      bytes[40]! ^= 0xff
      return good.body.replace(encrypted, bytes.toString("base64"))
    })()
    const withQuery = (changes: Record<string, string | null>) => {
      const query = new URLSearchParams(good.query)
      for (const [name, value] of Object.entries(changes)) value === null ? query.delete(name) : query.set(name, value)
      return query
    }
    const cases: ReadonlyArray<readonly [string, ComponentPush.Delivery, string, number]> = [
      ["a tampered signature", { query: withQuery({ msg_signature: "0".repeat(40) }), body: good.body }, "BadSignature", 403],
      ["a replay with a new timestamp", { query: withQuery({ timestamp: "1700009999" }), body: good.body }, "BadSignature", 403],
      ["a tampered ciphertext", { query: good.query, body: tamperedBody }, "BadSignature", 403],
      ["a push sealed for another component", seal(ticketXml("ticket@@@x", 10), { forAppId: "wxaaaaaaaaaaaaaaaa" }), "WrongAppId", 403],
      ["a missing msg_signature", { query: withQuery({ msg_signature: null }), body: good.body }, "MissingParameter", 400],
      ["a body that is not XML", { query: good.query, body: "encrypt=abc" }, "MalformedEnvelope", 400],
      ["an envelope without Encrypt", { query: good.query, body: "<xml><AppId>wx</AppId></xml>" }, "MalformedEnvelope", 400],
      ["an envelope with a constructor element", { query: good.query, body: "<xml><constructor>1</constructor></xml>" }, "MalformedEnvelope", 400],
      ["an envelope with a document type", { query: good.query, body: `<!DOCTYPE x [<!ENTITY e "e">]><xml><Encrypt>&e;</Encrypt></xml>` }, "MalformedEnvelope", 400],
      ["an envelope with two Encrypt elements", { query: good.query, body: good.body.replace("</xml>", "<Encrypt>AAAA</Encrypt></xml>") }, "MalformedEnvelope", 400],
      ["an envelope with a second, empty Encrypt", { query: good.query, body: good.body.replace("</xml>", "<Encrypt/></xml>") }, "MalformedEnvelope", 400],
      ["an Encrypt with markup in it", { query: good.query, body: "<xml><Encrypt><a>b</a></Encrypt></xml>" }, "MalformedEnvelope", 400],
      ["an envelope over 64 KiB", { query: good.query, body: good.body.replace("</xml>", " ".repeat(64 * 1024) + "</xml>") }, "MalformedEnvelope", 400],
      ["an envelope with elements named like JavaScript built-ins, unsigned", { query: withQuery({ msg_signature: "0".repeat(40) }), body: good.body.replace("<xml>", "<xml><__proto__/><constructor>1</constructor>") }, "BadSignature", 403],
      ["an authentic push whose payload has a __proto__ element", seal("<xml><__proto__/><InfoType>x</InfoType></xml>"), "MalformedXml", 400],
      ["an authentic push whose payload is not a push", seal("<xml><InfoType>component_verify_ticket</InfoType></xml>"), "UnexpectedShape", 400],
      ["signed, but truncated base64", signed(encryptedOf(good).slice(0, -2)), "BadBase64", 400],
      ["signed, but not whole blocks", signed(encryptedOf(good).slice(0, 24)), "BadCiphertext", 400],
      ["signed, but a padding byte of 0", signed(sealRaw(plaintext({ message: ticketXml("ticket@@@x", 10), padByte: 0 }))), "BadPadding", 400],
      ["signed, but a padding byte over 32", signed(sealRaw(plaintext({ message: ticketXml("ticket@@@x", 10), padByte: 33 }))), "BadPadding", 400],
      ["signed, but a length field past the end", signed(sealRaw(plaintext({ message: ticketXml("ticket@@@x", 10), length: 1 << 20 }))), "BadLength", 400],
      ["signed, but encrypted with another EncodingAESKey", seal(ticketXml("ticket@@@x", 10), { key: "Z".repeat(43) }), "BadPadding", 400]
    ]
    for (const [name, delivery, reason, status] of cases) {
      it.effect(`${name}: ${reason}, HTTP ${status}`, () => {
        const { layer } = makeReceiver()
        return Effect.gen(function*() {
          yield* ComponentPush.receive(seal(ticketXml("ticket@@@genuine", 5)))
          const before = yield* storedTicket
          const error = yield* Effect.flip(ComponentPush.receive(delivery))
          assert.strictEqual("reason" in error ? error.reason : error._tag, reason)
          assert.strictEqual(ComponentPush.statusOf(error), status)
          assert.deepStrictEqual(yield* storedTicket, before)
          assert.strictEqual(Option.getOrThrow(before).value, "ticket@@@genuine")
          assert.notInclude(error.message, "ticket@@@")
        }).pipe(Effect.provide(layer))
      })
    }
  })

  it.effect("takes the query as a plain record too (Express, Fastify)", () => {
    const { layer } = makeReceiver()
    return Effect.gen(function*() {
      const { body, query } = seal(ticketXml("ticket@@@record", 10))
      const record = Object.fromEntries(query)
      yield* ComponentPush.receive({ query: { ...record, nonce: [record.nonce!] }, body })
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@record")
    }).pipe(Effect.provide(layer))
  })

  it.effect("hands other events to the handler, not tickets", () => {
    const seen: Array<string> = []
    const { layer } = makeReceiver({ onEvent: (event: PushEvent.PushEvent) => Effect.sync(() => seen.push(event._tag)) })
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 10)))
      yield* ComponentPush.receive(seal(unauthorizedXml))
      assert.deepStrictEqual(seen, ["UnauthorizedEvent"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a failing handler does not fail the push", () => {
    const { layer } = makeReceiver({ onEvent: () => Effect.fail("handler broke") })
    return Effect.gen(function*() {
      const event = yield* ComponentPush.receive(seal(unauthorizedXml))
      assert.strictEqual(event._tag, "UnauthorizedEvent")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a slow handler gets its budget, then goes on in the background while the push is answered", () => {
    const finished = Deferred.unsafeMake<void>(FiberId.none)
    const { layer } = makeReceiver({
      onEvent: () => Effect.zipRight(Effect.sleep("10 seconds"), Deferred.succeed(finished, undefined)),
      handlerBudget: "3 seconds"
    })
    return Effect.gen(function*() {
      const receiving = yield* Effect.fork(ComponentPush.receive(seal(unauthorizedXml)))
      yield* settle
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(receiving)))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(receiving)
      assert.isFalse(yield* Deferred.isDone(finished))
      yield* TestClock.adjust("7 seconds")
      yield* Deferred.await(finished)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a store that does not answer refuses the push with 503, so WeChat pushes again", () => {
    const stuck = Layer.succeed(TokenStore.TokenStore, {
      ...Effect.runSync(TokenStore.makeMemory),
      setTicket: () => Effect.never
    })
    const layer = ComponentPush.layer().pipe(
      Layer.provide(ComponentToken.layer.pipe(Layer.provideMerge(Layer.merge(stuck, clientLayer(makeStub())))))
    )
    return Effect.gen(function*() {
      const receiving = yield* Effect.fork(Effect.flip(ComponentPush.receive(seal(ticketXml("ticket@@@1", 10)))))
      yield* TestClock.adjust(ComponentPush.storeTimeout)
      const error = yield* Fiber.join(receiving)
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.strictEqual(ComponentPush.statusOf(error), 503)

      // Over HTTP the answer is 503 with a plain sentence: the store's own words stay in the log.
      const { body, query } = seal(ticketXml("ticket@@@2", 10))
      const request = HttpServerRequest.fromWeb(new Request(`http://receiver.test/events?${query}`, { method: "POST", body }))
      const answering = yield* Effect.fork(
        ComponentPush.httpApp.pipe(Effect.provideService(HttpServerRequest.HttpServerRequest, request))
      )
      yield* TestClock.adjust(ComponentPush.storeTimeout)
      const response = HttpServerResponse.toWeb(yield* Fiber.join(answering))
      assert.strictEqual(response.status, 503)
      assert.strictEqual(yield* Effect.promise(() => response.text()), "the push could not be handled now; push it again")
    }).pipe(Effect.provide(layer))
  })

  it.effect("refuses a handler budget that would break WeChat's 5 seconds", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(makeReceiver({ handlerBudget: "5 seconds" }).layer))
      assert.include(String(error), "handlerBudget")
    }).pipe(Effect.scoped))

  it.effect("cannot be built without the message token and EncodingAESKey", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(ComponentPush.layer().pipe(
          Layer.provide(ComponentToken.layer),
          Layer.provide(TokenStore.layerMemory),
          Layer.provideMerge(WeChatClient.layer()),
          Layer.provide(makeStub().layer),
          Layer.provide(ComponentConfig.layer({ appId, appSecret: Redacted.make(appSecret) }))
        ))
      )
      assert.include(String(error), "WXOPEN_COMPONENT_ENCODING_AES_KEY")
    }).pipe(Effect.scoped))
})

describe("ComponentPush, authorization pushes", () => {
  const authorizer = "wxfedcba9876543210"
  const authorizedXml = (infoType: "authorized" | "updateauthorized") =>
    `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>1</CreateTime><InfoType><![CDATA[${infoType}]]></InfoType>` +
    `<AuthorizerAppid><![CDATA[${authorizer}]]></AuthorizerAppid><AuthorizationCode><![CDATA[queryauthcode@@@pushed]]></AuthorizationCode>` +
    `<AuthorizationCodeExpiredTime>3601</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@1]]></PreAuthCode></xml>`
  const queryAuth = {
    api_query_auth: () =>
      Effect.succeed({
        json: {
          authorization_info: {
            authorizer_appid: authorizer,
            authorizer_access_token: "at-pushed",
            expires_in: 7200,
            authorizer_refresh_token: "rt-pushed",
            func_info: []
          }
        }
      })
  }
  const storedAuthorizer = Effect.flatMap(TokenStore.TokenStore, (store) => store.getAuthorizer(appId, authorizer)).pipe(
    Effect.map(Option.map((t) => Redacted.value(t.refreshToken)))
  )

  for (const infoType of ["authorized", "updateauthorized"] as const) {
    it.effect(`${infoType}: the code is exchanged and the account's tokens stored, then the handler runs`, () => {
      const seen: Array<string> = []
      const { layer, stub } = makeReceiver({ onEvent: (event: PushEvent.PushEvent) => Effect.sync(() => seen.push(event._tag)) }, queryAuth)
      return Effect.gen(function*() {
        yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
        yield* ComponentPush.receive(seal(authorizedXml(infoType)))
        assert.deepStrictEqual(Option.getOrNull(yield* storedAuthorizer), "rt-pushed")
        assert.strictEqual(stub.requests.find((r) => r.endpoint === "api_query_auth")?.body.authorization_code, "queryauthcode@@@pushed")
        assert.strictEqual(seen.length, 1)
      }).pipe(Effect.provide(layer))
    })
  }

  it.effect("with exchangeOnAuthorized false, the code is left to the redirect handler", () => {
    const { layer, stub } = makeReceiver({ exchangeOnAuthorized: false }, queryAuth)
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
      yield* ComponentPush.receive(seal(authorizedXml("authorized")))
      assert.strictEqual(stub.count("api_query_auth"), 0)
      assert.isTrue(Option.isNone(yield* storedAuthorizer))
    }).pipe(Effect.provide(layer))
  })

  it.effect("a code that cannot be exchanged (61010) is logged, and the push is still answered", () => {
    const { layer } = makeReceiver({}, { api_query_auth: () => Effect.succeed({ json: { errcode: 61010, errmsg: "code is expired rid: 1" } }) })
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") warnings.push(String(message))
    })
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
      const event = yield* ComponentPush.receive(seal(authorizedXml("authorized")))
      assert.strictEqual(event._tag, "AuthorizedEvent")
      assert.isTrue(Option.isNone(yield* storedAuthorizer))
      assert.isTrue(warnings.some((w) => w.includes("cannot be exchanged") && w.includes("61010")), warnings.join("\n"))
    }).pipe(Effect.provide(Layer.merge(layer, Logger.replace(Logger.defaultLogger, logger))))
  })

  it.effect("an exchange slower than the budget refuses the push with 503 when the budget ends, and still stores the tokens WeChat answers with", () => {
    const { layer, stub } = makeReceiver({ handlerBudget: "3 seconds" }, {
      api_query_auth: () => Effect.zipRight(Effect.sleep("5 seconds"), queryAuth.api_query_auth())
    })
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
      const receiving = yield* Effect.fork(Effect.flip(ComponentPush.receive(seal(authorizedXml("authorized")))))
      yield* settle
      yield* TestClock.adjust("2999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(receiving)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(receiving)
      assert.strictEqual(error._tag, "HandlerTimeoutError")
      assert.strictEqual(error._tag === "HandlerTimeoutError" && error.infoType, "authorized")
      assert.strictEqual(ComponentPush.statusOf(error), 503)
      assert.isTrue(Option.isNone(yield* storedAuthorizer))
      yield* TestClock.adjust("2 seconds") // WeChat answers the code exchange
      yield* settle
      assert.deepStrictEqual(Option.getOrNull(yield* storedAuthorizer), "rt-pushed", "the code's tokens are not lost")
      assert.strictEqual(stub.count("api_query_auth"), 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a revocation whose store does not answer within the budget says so, and calls nothing", () => {
    const stub = makeStub()
    const stuck = Layer.succeed(TokenStore.TokenStore, {
      ...Effect.runSync(TokenStore.makeMemory),
      deleteAuthorizer: () => Effect.never
    })
    const layer = ComponentPush.layer({ handlerBudget: "2 seconds" }).pipe(
      Layer.provideMerge(ComponentToken.layer.pipe(Layer.provideMerge(Layer.merge(stuck, clientLayer(stub)))))
    )
    return Effect.gen(function*() {
      const receiving = yield* Effect.fork(Effect.flip(ComponentPush.receive(seal(unauthorizedXml))))
      yield* settle
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(receiving)
      assert.strictEqual(error._tag, "HandlerTimeoutError")
      assert.include(error.message, "unauthorized push took longer than the handler budget (2 s)")
      assert.strictEqual(ComponentPush.statusOf(error), 503)
      assert.strictEqual(stub.requests.length, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("an exchange that meets -1 refuses the push with 503, so that WeChat pushes it again", () => {
    const { layer } = makeReceiver({}, { api_query_auth: () => Effect.succeed({ json: { errcode: -1, errmsg: "system error rid: 1" } }) })
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
      const error = yield* Effect.flip(ComponentPush.receive(seal(authorizedXml("authorized"))))
      assert.strictEqual(error._tag, "SystemBusyError")
      assert.strictEqual(ComponentPush.statusOf(error), 503)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a revocation pushed before a later authorization does not undo it", () => {
    const { layer } = makeReceiver({}, queryAuth)
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
      yield* TestClock.adjust("10 seconds")
      yield* ComponentPush.receive(seal(authorizedXml("authorized")))
      // An unauthorized push created at second 5, arriving late.
      yield* ComponentPush.receive(seal(
        `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>5</CreateTime><InfoType><![CDATA[unauthorized]]></InfoType>` +
          `<AuthorizerAppid><![CDATA[${authorizer}]]></AuthorizerAppid></xml>`
      ))
      assert.isTrue(Option.isSome(yield* storedAuthorizer))
    }).pipe(Effect.provide(layer))
  })

  it.effect("unauthorized: the account's tokens are forgotten", () => {
    const { layer } = makeReceiver({}, queryAuth)
    return Effect.gen(function*() {
      yield* ComponentPush.receive(seal(ticketXml("ticket@@@1", 0)))
      yield* ComponentPush.receive(seal(authorizedXml("authorized")))
      assert.isTrue(Option.isSome(yield* storedAuthorizer))
      yield* ComponentPush.receive(seal(
        `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>2</CreateTime><InfoType><![CDATA[unauthorized]]></InfoType>` +
          `<AuthorizerAppid><![CDATA[${authorizer}]]></AuthorizerAppid></xml>`
      ))
      assert.isTrue(Option.isNone(yield* storedAuthorizer))
    }).pipe(Effect.provide(layer))
  })
})

/** The receiver served by `httpApp` on an ephemeral loopback port. */
const receiverOverHttp = <A, E>(layer: Layer.Layer<A | ComponentPush.ComponentPush, E>) =>
  HttpRouter.empty.pipe(
    HttpRouter.post("/wechat/events", ComponentPush.httpApp),
    HttpServer.serve(),
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(layer)
  )

describe("ComponentPush.httpApp over a real socket", () => {
  it.live("answers success to a ticket push, stores it, and refuses forgeries with 4xx", () => {
    const { layer, stub } = makeReceiver()
    return Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const address = server.address._tag === "TcpAddress" ? server.address : undefined
      const url = `http://127.0.0.1:${address!.port}/wechat/events`
      const post = (delivery: { query: URLSearchParams; body: string }) =>
        Effect.tryPromise(async () => {
          const response = await fetch(`${url}?${delivery.query}`, { method: "POST", body: delivery.body, headers: { "content-type": "text/xml" } })
          return [response.status, await response.text()] as const
        }).pipe(Effect.orElseSucceed(() => [0, "connection closed"] as const))

      const pushed = seal(ticketXml("ticket@@@over-http", Math.floor(Date.now() / 1000)))
      assert.deepStrictEqual(yield* post(pushed), [200, "success"])
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@over-http")
      yield* PreAuthCode.create
      assert.strictEqual(stub.requests[0]?.body.component_verify_ticket, "ticket@@@over-http")

      const forged = seal(ticketXml("ticket@@@forged", Math.floor(Date.now() / 1000) + 60))
      forged.query.set("msg_signature", "f".repeat(40))
      const [status, text] = yield* post(forged)
      assert.strictEqual(status, 403)
      assert.include(text, "signed with this component's token")
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@over-http")

      const [missing] = yield* post({ query: new URLSearchParams(), body: pushed.body })
      assert.strictEqual(missing, 400)
      const [twice, twiceText] = yield* post({ query: pushed.query, body: pushed.body.replace("</xml>", "<Encrypt>a</Encrypt></xml>") })
      assert.deepStrictEqual([twice, twiceText.startsWith("not a WeChat push")], [400, true])
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@over-http")
    }).pipe(Effect.provide(receiverOverHttp(layer)))
  })

  it.live("answers 413 to a body one byte over 64 KiB, and to a client still streaming a large body, and stores nothing", () => {
    const { layer } = makeReceiver()
    return Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const address = server.address._tag === "TcpAddress" ? server.address : undefined
      const url = `http://127.0.0.1:${address!.port}/wechat/events`
      const pushed = seal(ticketXml("ticket@@@too-large", Math.floor(Date.now() / 1000)))
      const post = (body: BodyInit) =>
        Effect.promise(async () => {
          const response = await fetch(`${url}?${pushed.query}`, { method: "POST", body, duplex: "half" } as RequestInit)
          return [response.status, await response.text()] as const
        })

      // A declared length one byte over: refused without being read.
      const padded = pushed.body.replace("</xml>", " ".repeat(ComponentPush.maxBodySize + 1 - pushed.body.length) + "</xml>")
      assert.strictEqual(Buffer.byteLength(padded), 64 * 1024 + 1)
      assert.deepStrictEqual(yield* post(padded), [413, "the body is larger than 65536 bytes, which no WeChat push is"])
      // Exactly at the limit, the body is read and checked.
      const atLimit = pushed.body.replace("</xml>", " ".repeat(ComponentPush.maxBodySize - pushed.body.length) + "</xml>")
      assert.strictEqual((yield* post(atLimit))[0], 200)
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@too-large")

      // 10 MB of unknown length, sent in 64 KiB chunks after a valid envelope's start: read past the limit, dropped,
      // and answered once the client is done.
      const chunk = new TextEncoder().encode(" ".repeat(64 * 1024))
      let sent = 0
      const streamed = new ReadableStream<Uint8Array>({
        start: (controller) => controller.enqueue(new TextEncoder().encode(pushed.body.replace("</xml>", ""))),
        pull: (controller) => {
          if (sent++ < 160) controller.enqueue(chunk)
          else controller.close()
        }
      })
      assert.deepStrictEqual(yield* post(streamed), [413, "the body is larger than 65536 bytes, which no WeChat push is"])
      assert.isAbove(sent, 160)

      const again = seal(ticketXml("ticket@@@after", Math.floor(Date.now() / 1000) + 60))
      const response = yield* Effect.promise(() => fetch(`${url}?${again.query}`, { method: "POST", body: again.body }))
      assert.strictEqual(response.status, 200)
      assert.strictEqual(Option.getOrThrow(yield* storedTicket).value, "ticket@@@after")
    }).pipe(Effect.provide(receiverOverHttp(layer)))
  })
})

describe("ComponentPush.startPushTicket", () => {
  it.effect("sends the secret as component_secret and succeeds on errcode 0", () => {
    const stub = makeStub({ api_start_push_ticket: () => Effect.succeed({ json: { errcode: 0, errmsg: "ok" } }) })
    return Effect.gen(function*() {
      yield* ComponentPush.startPushTicket
      assert.deepStrictEqual(stub.requests[0]?.body, { component_appid: appId, component_secret: appSecret })
      assert.strictEqual(stub.requests[0]?.url.pathname, "/cgi-bin/component/api_start_push_ticket")
      assert.isNull(stub.requests[0]?.token)
    }).pipe(Effect.provide(makeLayer(stub)))
  })

  it.effect("a wrong secret is an AppSecretError", () => {
    const stub = makeStub({
      api_start_push_ticket: () => Effect.succeed({ json: { errcode: 40125, errmsg: "invalid appsecret rid: 1-2-3" } })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(ComponentPush.startPushTicket)
      assert.strictEqual(error._tag, "AppSecretError")
      assert.strictEqual("endpoint" in error && error.endpoint, "/cgi-bin/component/api_start_push_ticket")
    }).pipe(Effect.provide(makeLayer(stub)))
  })
})
