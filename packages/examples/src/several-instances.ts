/**
 * Several instances of a platform, one token: they share a Redis token store
 * (`WXOPEN_REDIS_URL`, default `redis://127.0.0.1:6379`). This process is
 * instance A: it runs the push receiver, which stores the ticket the mock
 * pushes. It then starts four more instances (this same script, as child
 * processes), and each creates 250 pre-authorization codes at once, from a
 * store with no token in it. One of them fetches the component token, under
 * the store's lease; the others wait for it and use it: WeChat (the mock) sees
 * exactly one `api_component_token` request.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { ComponentConfig, ComponentPush, ComponentToken, PreAuthCode, TokenStore, WeChatClient } from "@wxopen/core"
import { MockConfig, MockServer } from "@wxopen/mock-server"
import { RedisTokenStore } from "@wxopen/redis-store"
import { Config, Console, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { spawn } from "node:child_process"
import * as Crypto from "node:crypto"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"

const instances = 4
const codesEach = 250

// One instance's services: the component of the mock, and the shared Redis store under a prefix of this run's own.
const instance = (apiBaseUrl: string, component: MockServer.RunningMock["config"]["components"][number], redisUrl: string, prefix: string) =>
  ComponentToken.layer.pipe(
    Layer.provideMerge(WeChatClient.layer()),
    Layer.provideMerge(ComponentConfig.layer({
      appId: component.appId,
      appSecret: Redacted.make(component.appSecret),
      apiBaseUrl,
      messageToken: Redacted.make(component.token),
      encodingAesKey: Redacted.make(component.encodingAesKey)
    })),
    Layer.provideMerge(RedisTokenStore.layer({ url: redisUrl, prefix })),
    Layer.provideMerge(NodeHttpClient.layerUndici)
  )

// A child: creates its codes at once and prints them, one per line.
const child = Effect.gen(function*() {
  const settings = JSON.parse(process.env.WXOPEN_INSTANCE!) as {
    readonly apiBaseUrl: string
    readonly component: MockServer.RunningMock["config"]["components"][number]
    readonly redisUrl: string
    readonly prefix: string
  }
  const codes = yield* Effect.all(Array.from({ length: codesEach }, () => PreAuthCode.create), { concurrency: "unbounded" }).pipe(
    Effect.provide(instance(settings.apiBaseUrl, settings.component, settings.redisUrl, settings.prefix))
  )
  yield* Console.log(codes.map((c) => c.code).join("\n"))
})

const runChild = (settings: unknown) =>
  Effect.async<ReadonlyArray<string>, Error>((resume) => {
    const process_ = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, WXOPEN_INSTANCE: JSON.stringify(settings) },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    process_.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    process_.on("exit", (code) =>
      resume(code === 0 ? Effect.succeed(out.split("\n").filter((l) => l.startsWith("preauthcode@@@"))) : Effect.fail(new Error(`an instance exited with ${code}`))))
  })

const parent = Effect.gen(function*() {
  // A Redis URL can carry a password: it is read as a secret, and printed without its credentials.
  const redisUrl = Redacted.value(yield* Config.redacted("WXOPEN_REDIS_URL").pipe(Config.withDefault(Redacted.make("redis://127.0.0.1:6379"))))
  const shownUrl = redisUrl.replace(/\/\/[^@/]*@/, "//<credentials>@")
  // A journal with room for every request of the run (it keeps 1,000 by default).
  const mock = yield* Effect.acquireRelease(
    Effect.promise(() => MockServer.start({ port: 0, config: { ...MockConfig.defaults, journalLimit: 5_000 } })),
    (m) => Effect.promise(() => m.close())
  )
  const component = mock.config.components[0]!
  const prefix = `wxopen-example-${Crypto.randomUUID()}`
  yield* Console.log(`✔ WeChat: the embedded mock at ${mock.url}; the store: Redis at ${shownUrl} (prefix ${prefix})`)

  yield* Effect.gen(function*() {
    // Instance A: the push receiver stores the ticket in the shared store.
    const address = (yield* HttpServer.HttpServer).address
    const pushUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}/events`
    yield* Effect.promise(() => mock.admin.setPushUrl(component.appId, pushUrl))
    yield* Effect.promise(() => mock.admin.pushTicket(component.appId))
    const store = yield* TokenStore.TokenStore
    yield* store.getTicket(component.appId).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("no ticket yet"), onSome: Effect.succeed })),
      Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 100 })
    )
    yield* Console.log(`✔ instance A: its receiver at ${pushUrl} stored the pushed ticket in Redis`)

    // Four more instances, at once, with no token in the store.
    const settings = { apiBaseUrl: mock.url, component, redisUrl, prefix }
    const codes = (yield* Effect.all(Array.from({ length: instances }, () => runChild(settings)), { concurrency: "unbounded" })).flat()
    const tokenRequests = (yield* Effect.promise(() => mock.admin.journal({ endpoint: "api_component_token" }))).length
    yield* Console.log(`✔ ${instances} instances × ${codesEach} concurrent PreAuthCode.create: ${new Set(codes).size} distinct codes`)
    yield* Console.log(`✔ api_component_token requests WeChat received: ${tokenRequests}`)
    if (tokenRequests !== 1 || new Set(codes).size !== instances * codesEach) {
      return yield* Effect.dieMessage("the instances did not share one token")
    }
  }).pipe(
    Effect.provide(
      HttpRouter.empty.pipe(
        HttpRouter.post("/events", ComponentPush.httpApp),
        HttpServer.serve(),
        Layer.provide(ComponentPush.layer()),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provideMerge(instance(mock.url, component, redisUrl, prefix))
      )
    )
  )
})

NodeRuntime.runMain(Effect.scoped(process.env.WXOPEN_INSTANCE === undefined ? parent : child))
