import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import { ComponentConfig, ComponentPush, ComponentToken, PreAuthCode, RetryPolicy, TokenStore, WeChatClient } from "@wxopen/core"
import { type Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import type { Fault } from "../src/Faults.js"
import type * as MockServer from "../src/MockServer.js"
import { appId, component, fetchToken, withMock } from "./utils.js"

const freePort = Effect.async<number>((resume) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as AddressInfo
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * A mock WeChat that pushes to a wxopen receiver, and the wxopen services of one process (receiver and
 * PreAuthCode.create sharing one store), all over real sockets.
 */
const setup = (
  options: {
    readonly quotas?: Record<string, number>
    readonly requestTimeout?: Duration.DurationInput
    readonly retryPolicy?: RetryPolicy.Policy
  } = {}
) =>
  Effect.gen(function*() {
    const port = yield* freePort
    const mock = yield* withMock({
      components: [{ ...component, pushUrl: `http://127.0.0.1:${port}/events` }],
      pushRetryDelaysMs: [50, 100],
      ...(options.quotas === undefined ? {} : { quotas: options.quotas })
    })
    const core = ComponentToken.layer.pipe(
      Layer.provideMerge(WeChatClient.layer().pipe(Layer.provide(RetryPolicy.layer(options.retryPolicy ?? RetryPolicy.defaultPolicy)))),
      Layer.provideMerge(ComponentConfig.layer({
        appId,
        appSecret: Redacted.make(component.appSecret),
        apiBaseUrl: mock.url,
        messageToken: Redacted.make(component.token),
        encodingAesKey: Redacted.make(component.encodingAesKey),
        ...(options.requestTimeout === undefined ? {} : { requestTimeout: options.requestTimeout })
      })),
      Layer.provideMerge(TokenStore.layerMemory),
      Layer.provideMerge(NodeHttpClient.layerUndici)
    )
    const receiver = HttpRouter.empty.pipe(
      HttpRouter.post("/events", ComponentPush.httpApp),
      HttpServer.serve(),
      Layer.provide(ComponentPush.layer()),
      Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" }))
    )
    const context = yield* Layer.build(receiver.pipe(Layer.provideMerge(core), Layer.orDie))
    // The receiver is up now: the ticket pushed at start may have found no one; push one that lands.
    const { push } = yield* Effect.promise(() => mock.admin.pushTicket(appId))
    assert.isTrue(push?.delivered, "the ticket push was answered success")
    return { mock, context }
  })

const count = (mock: MockServer.RunningMock, endpoint: string) =>
  Effect.promise(() => mock.admin.journal({ endpoint })).pipe(Effect.map((entries) => entries.length))

describe("@wxopen/core against the mock", () => {
  it.live("a pushed ticket, one token, pre-authorization codes", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      const codes = yield* Effect.all(Array.from({ length: 20 }, () => PreAuthCode.create), { concurrency: "unbounded" }).pipe(
        Effect.provide(context)
      )
      assert.strictEqual(new Set(codes.map((c) => c.code)).size, 20)
      assert.strictEqual(yield* count(mock, "api_component_token"), 1)
      assert.strictEqual(yield* count(mock, "api_create_preauthcode"), 20)
      // The stored ticket is one the mock pushed (the start-up push, retried, may land after the explicit one).
      const stored = yield* Effect.flatMap(TokenStore.TokenStore, (s) => s.getTicket(appId)).pipe(Effect.provide(context))
      const { tickets } = yield* Effect.promise(() => mock.admin.state())
      assert.include(Object.keys(tickets), Option.map(stored, (t) => Redacted.value(t.value)).pipe(Option.getOrThrow))
    }).pipe(Effect.scoped))

  it.live("a token superseded past the grace period (40001) is replaced once, and the call succeeds", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* PreAuthCode.create.pipe(Effect.provide(context))
      yield* fetchToken(mock) // another process fetches a token: ours has 5 minutes left
      yield* Effect.promise(() => mock.admin.advanceClock(301))
      yield* PreAuthCode.create.pipe(Effect.provide(context))
      const answers = yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_create_preauthcode" }))
      assert.deepStrictEqual(answers.map((e) => e.errcode), [undefined, 40001, undefined])
      assert.strictEqual(yield* count(mock, "api_component_token"), 3)
    }).pipe(Effect.scoped))

  it.live("an expired token (42001, after the mock's clock moved 2 hours) is replaced once", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* PreAuthCode.create.pipe(Effect.provide(context))
      yield* Effect.promise(() => mock.admin.advanceClock(7200))
      yield* PreAuthCode.create.pipe(Effect.provide(context))
      const answers = yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_create_preauthcode" }))
      assert.deepStrictEqual(answers.map((e) => e.errcode), [undefined, 42001, undefined])
    }).pipe(Effect.scoped))

  it.live("-1 twice, then WeChat recovers: the retry schedule gets through", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup()
      yield* Effect.promise(() =>
        mock.admin.addFault({ endpoint: "api_create_preauthcode", times: 2, fault: { type: "errcode", errcode: -1 } })
      )
      const code = yield* PreAuthCode.create.pipe(Effect.provide(context))
      assert.match(code.code, /^preauthcode@@@/)
      const answers = yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_create_preauthcode" }))
      assert.deepStrictEqual(answers.map((e) => e.errcode), [-1, -1, undefined])
    }).pipe(Effect.scoped))

  it.live("45009 is the daily quota error, and is not retried", () =>
    Effect.gen(function*() {
      const { context, mock } = yield* setup({ quotas: { api_component_token: 10_000, api_create_preauthcode: 1 } })
      yield* PreAuthCode.create.pipe(Effect.provide(context))
      const error = yield* Effect.flip(PreAuthCode.create).pipe(Effect.provide(context))
      assert.isTrue(error._tag === "QuotaError" && error.reason === "Daily")
      assert.strictEqual(yield* count(mock, "api_create_preauthcode"), 2)
    }).pipe(Effect.scoped))

  describe("every fault is the typed error wxopen promises", () => {
    const cases: ReadonlyArray<readonly [string, Fault, string, string | number]> = [
      ["errcode -1", { type: "errcode", errcode: -1 }, "SystemBusyError", -1],
      ["errcode 45011", { type: "errcode", errcode: 45011 }, "QuotaError", "PerMinute"],
      ["HTTP 502 with HTML", { type: "status", status: 502 }, "HttpStatusError", 502],
      ["a delay past the request timeout", { type: "delay", ms: 1_500 }, "TransportError", "Timeout"],
      ["a connection reset", { type: "reset" }, "TransportError", "RequestFailed"],
      ["an empty body", { type: "empty" }, "MalformedResponseError", "NotJson"],
      ["malformed JSON", { type: "malformed" }, "MalformedResponseError", "NotJson"],
      ["a truncated body", { type: "truncated" }, "TransportError", "RequestFailed"]
    ]
    for (const [name, fault, tag, detail] of cases) {
      it.live(name, () =>
        Effect.gen(function*() {
          const { context, mock } = yield* setup({ requestTimeout: "500 millis", retryPolicy: Schedule.stop })
          yield* PreAuthCode.create.pipe(Effect.provide(context)) // a warm token: the fault hits the code request
          yield* Effect.promise(() => mock.admin.addFault({ endpoint: "api_create_preauthcode", times: 1, fault }))
          const error = yield* Effect.flip(PreAuthCode.create).pipe(Effect.provide(context))
          assert.strictEqual(error._tag, tag)
          const found = "reason" in error ? error.reason : "status" in error ? error.status : "errcode" in error ? error.errcode : undefined
          assert.strictEqual(found, detail)
        }).pipe(Effect.scoped))
    }
  })
})
