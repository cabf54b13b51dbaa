import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Exit, Fiber, Layer, Redacted, Schedule } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Undici from "undici"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as FastPost from "../src/internal/fastPost.js"
import * as PreAuthCode from "../src/PreAuthCode.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as TokenStore from "../src/TokenStore.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import { appId, appSecret } from "./utils.js"

const token = "token-over-undici"

/** A loopback server whose answers the test chooses, recording what it saw. */
const serve = (answer: (req: Http.IncomingMessage, res: Http.ServerResponse, body: string) => void) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly url: string
      readonly sockets: Set<unknown>
      readonly closed: Array<string>
      readonly headers: Array<Http.IncomingHttpHeaders>
      readonly close: () => Promise<void>
    }>((resume) => {
      const sockets = new Set<unknown>()
      const closed: Array<string> = []
      const headers: Array<Http.IncomingHttpHeaders> = []
      const server = Http.createServer((req, res) => {
        headers.push(req.headers)
        let body = ""
        req.setEncoding("utf8").on("data", (chunk: string) => body += chunk)
        req.on("end", () => answer(req, res, body))
        res.on("close", () => closed.push(res.writableFinished ? "answered" : "aborted"))
      })
      server.on("connection", (socket) => sockets.add(socket))
      const close = () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets, closed, headers, close })))
    }),
    (server) => Effect.promise(server.close)
  )

const json = (res: Http.ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

const code = (res: Http.ServerResponse) => json(res, { pre_auth_code: "preauthcode@@@undici", expires_in: 1800 })

// A component with a warm token, on the given client.
const warm = (url: string, client: Layer.Layer<HttpClient.HttpClient>, requestTimeout: Duration.DurationInput = "10 seconds") =>
  ComponentToken.layer.pipe(
    Layer.provideMerge(ComponentConfig.layer({ appId, appSecret: Redacted.make(appSecret), apiBaseUrl: url, requestTimeout })),
    Layer.provideMerge(
      Layer.effectDiscard(Effect.flatMap(TokenStore.TokenStore, (store) =>
        store.setComponentToken(appId, { value: Redacted.make(token), expiresAt: Date.now() + 7_200_000 }))).pipe(
          Layer.provideMerge(TokenStore.layerMemory)
        )
    ),
    Layer.provideMerge(client)
  )

// The client with its short path counted.
const counted = (dispatcher: Undici.Dispatcher) => {
  const client = UndiciHttpClient.make(dispatcher)
  const post = FastPost.of(client)!
  let calls = 0
  const countedClient = Object.assign(client, {
    [FastPost.TypeId]: ((url, body, timeout) => {
      calls++
      return post(url, body, timeout)
    }) satisfies FastPost.FastPost
  })
  return { client: countedClient, calls: () => calls }
}

describe("UndiciHttpClient", () => {
  it.live("wxopen's requests take the short path, with WeChat's conventions", () =>
    Effect.gen(function*() {
      const seen: Array<{ url: string; body: string }> = []
      const server = yield* serve((req, res, body) => {
        seen.push({ url: req.url ?? "", body })
        code(res)
      })
      const agent = new Undici.Agent()
      const { calls, client } = counted(agent)
      const created = yield* PreAuthCode.create.pipe(Effect.provide(warm(server.url, Layer.succeed(HttpClient.HttpClient, client))))
      assert.strictEqual(created.code, "preauthcode@@@undici")
      assert.strictEqual(calls(), 1)
      assert.deepStrictEqual(seen, [{
        url: `/cgi-bin/component/api_create_preauthcode?component_access_token=${token}`,
        body: JSON.stringify({ component_appid: appId })
      }])
      assert.match(server.headers[0]!["content-type"] ?? "", /^application\/json/)
      yield* Effect.promise(() => agent.destroy())
    }).pipe(Effect.scoped))

  it.live("a client derived from it takes the general path, so what it adds is kept", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => code(res))
      const agent = new Undici.Agent()
      const { calls, client } = counted(agent)
      const derived = HttpClient.mapRequest(client, HttpClientRequest.setHeader("x-proxy-auth", "yes"))
      yield* PreAuthCode.create.pipe(Effect.provide(warm(server.url, Layer.succeed(HttpClient.HttpClient, derived))))
      assert.strictEqual(calls(), 0)
      assert.strictEqual(server.headers[0]!["x-proxy-auth"], "yes")
      yield* Effect.promise(() => agent.destroy())
    }).pipe(Effect.scoped))

  it.live("serves any other request as platform-node's undici client does", () =>
    Effect.gen(function*() {
      const server = yield* serve((req, res) => json(res, { path: req.url }))
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${server.url}/anything?x=1`)
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* response.json, { path: "/anything?x=1" })
    }).pipe(Effect.provide(UndiciHttpClient.layer()), Effect.scoped))

  // The client outlives the request in both: closing its pool would end the connection whether or not the request
  // itself was aborted.
  it.live("no answer within the request timeout is a TransportError Timeout, and the request is aborted", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {}) // never answers
      const agent = new Undici.Agent()
      const layer = Layer.merge(
        warm(server.url, Layer.succeed(HttpClient.HttpClient, UndiciHttpClient.make(agent)), "300 millis"),
        RetryPolicy.layer(Schedule.stop)
      )
      const error = yield* PreAuthCode.create.pipe(Effect.flip, Effect.provide(layer))
      assert.strictEqual(error._tag === "TransportError" && error.reason, "Timeout")
      yield* Effect.sleep("200 millis")
      assert.deepStrictEqual(server.closed, ["aborted"])
      yield* Effect.promise(() => agent.destroy())
    }).pipe(Effect.scoped))

  it.live("interrupting a request aborts it", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {}) // never answers
      const agent = new Undici.Agent()
      const fiber = yield* Effect.fork(
        PreAuthCode.create.pipe(Effect.provide(warm(server.url, Layer.succeed(HttpClient.HttpClient, UndiciHttpClient.make(agent)))))
      )
      while (server.headers.length === 0) yield* Effect.sleep("10 millis")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      yield* Effect.sleep("200 millis")
      assert.deepStrictEqual(server.closed, ["aborted"])
      yield* Effect.promise(() => agent.destroy())
    }).pipe(Effect.scoped))

  it.live("a connection refused is a TransportError that names no secret", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => code(res))
      const url = server.url
      yield* Effect.promise(server.close)
      const error = yield* PreAuthCode.create.pipe(
        Effect.flip,
        Effect.provide(Layer.merge(warm(url, UndiciHttpClient.layer()), RetryPolicy.layer(Schedule.stop)))
      )
      assert.strictEqual(error._tag === "TransportError" && error.reason, "RequestFailed")
      assert.notInclude(error.message, token)
      assert.notInclude(error.message, appSecret)
      assert.match(error.message, /ECONNREFUSED/)
    }).pipe(Effect.scoped))

  it.live("a body cut off mid-answer is a TransportError, and a 502 an HttpStatusError", () =>
    Effect.gen(function*() {
      let calls = 0
      const server = yield* serve((req, res) => {
        if (calls++ === 0) {
          res.writeHead(200, { "content-type": "application/json", "content-length": 100 })
          res.write(`{"pre_auth_code":"${token}`, () => req.socket.destroy())
        } else {
          res.writeHead(502, { "content-type": "text/html" })
          res.end("<html>bad gateway</html>")
        }
      })
      const layer = Layer.merge(warm(server.url, UndiciHttpClient.layer()), RetryPolicy.layer(Schedule.stop))
      const cut = yield* PreAuthCode.create.pipe(Effect.flip, Effect.provide(layer))
      assert.strictEqual(cut._tag === "TransportError" && cut.reason, "RequestFailed")
      assert.notInclude(cut.message, token)
      const status = yield* PreAuthCode.create.pipe(Effect.flip, Effect.provide(layer))
      assert.strictEqual(status._tag === "HttpStatusError" && status.status, 502)
    }).pipe(Effect.scoped))

  it.live("the pool opens at most `connections` sockets to WeChat", () =>
    Effect.gen(function*() {
      const server = yield* serve((_req, res) => setTimeout(() => code(res), 20))
      const codes = yield* Effect.all(Array.from({ length: 20 }, () => PreAuthCode.create), { concurrency: "unbounded" }).pipe(
        Effect.provide(warm(server.url, UndiciHttpClient.layer({ connections: 3 })))
      )
      assert.strictEqual(codes.length, 20)
      assert.isAtMost(server.sockets.size, 3)
    }).pipe(Effect.scoped))
})
