import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { AuthorizerToken, ComponentConfig, ComponentToken, RetryPolicy, TokenStore, WeChatClient } from "@wxopen/core"
import { Effect, Layer, Redacted, Schedule } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as MockServer from "../src/MockServer.js"
import type { MockConfigInput } from "../src/MockConfig.js"
import { defaults } from "../src/MockConfig.js"

export const component = defaults.components[0]!
export const appId = component.appId
export const officialAccount = defaults.authorizers![0]!
export const miniProgram = defaults.authorizers![1]!

/** A fresh mock for one test, closed afterwards. */
export const withMock = (config: Partial<MockConfigInput> = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => MockServer.start({ config: { ...defaults, ...config } })),
    (mock) => Effect.promise(() => mock.close())
  )

/**
 * wxopen's services of one process pointed at the mock (the component's and the accounts' tokens, the client over
 * undici, a memory store), built in the test's scope, with the mock's current verify ticket stored.
 */
export const wxopenOn = (mock: MockServer.RunningMock, policy: RetryPolicy.Policy = Schedule.stop) =>
  Effect.gen(function*() {
    const services = AuthorizerToken.layer.pipe(
      Layer.provideMerge(ComponentToken.layer),
      Layer.provideMerge(WeChatClient.layer().pipe(Layer.provide(RetryPolicy.layer(policy)))),
      Layer.provideMerge(ComponentConfig.layer({ appId, appSecret: Redacted.make(component.appSecret), apiBaseUrl: mock.url })),
      Layer.provideMerge(TokenStore.layerMemory),
      Layer.provideMerge(NodeHttpClient.layerUndici)
    )
    const context = yield* Layer.build(services)
    const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
    yield* ComponentToken.storeTicket(Redacted.make(ticket)).pipe(Effect.provide(context))
    return context
  })

/** POSTs to a WeChat endpoint of the mock and reads the JSON answer. */
export const call = (
  mock: MockServer.RunningMock,
  endpoint: string,
  body: unknown,
  options: { readonly token?: string; readonly contentType?: string; readonly raw?: string } = {}
) =>
  Effect.promise(async () => {
    const query = options.token === undefined ? "" : `?component_access_token=${encodeURIComponent(options.token)}`
    const response = await fetch(`${mock.url}/cgi-bin/component/${endpoint}${query}`, {
      method: "POST",
      body: options.raw ?? JSON.stringify(body),
      headers: { "content-type": options.contentType ?? "application/json" }
    })
    return (await response.json()) as Record<string, any>
  })

/** A fresh token for the default component, through the real endpoint. */
export const fetchToken = (mock: MockServer.RunningMock) =>
  Effect.gen(function*() {
    const { ticket } = yield* Effect.promise(() => mock.admin.ticket(appId))
    const answer = yield* call(mock, "api_component_token", {
      component_appid: appId,
      component_appsecret: component.appSecret,
      component_verify_ticket: ticket
    })
    return answer.component_access_token as string
  })

/** A local HTTP server that records pushes and answers them with `reply`. */
export const startReceiver = (reply: (n: number) => string = () => "success") =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly received: Array<{ readonly url: string; readonly body: string }>; readonly server: Http.Server }>(
      (resume) => {
        const received: Array<{ url: string; body: string }> = []
        const server = Http.createServer((req, res) => {
          let body = ""
          req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
            received.push({ url: req.url ?? "", body })
            res.end(reply(received.length))
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, received, server })))
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/** Waits (real time) until `check` holds, for pushes that travel on their own. */
export const eventually = (check: () => boolean, what: string) =>
  Effect.suspend(() => (check() ? Effect.void : Effect.fail(what))).pipe(
    Effect.retry({ times: 150, schedule: Schedule.spaced("20 millis") }),
    Effect.orDie
  )

/** A request with node:http, to see what fetch hides: the announced length, the bytes received, the socket error. */
export const rawRequest = (url: string, body: string) =>
  Effect.async<{ readonly status?: number; readonly announced?: number; readonly received: number; readonly error?: string }>((resume) => {
    let received = 0
    let status: number | undefined
    let announced: number | undefined
    const done = (error?: string) =>
      resume(Effect.succeed({
        received,
        ...(status === undefined ? {} : { status }),
        ...(announced === undefined ? {} : { announced }),
        ...(error === undefined ? {} : { error })
      }))
    const request = Http.request(url, { method: "POST", headers: { "content-type": "application/json" } }, (response) => {
      status = response.statusCode
      announced = Number(response.headers["content-length"])
      response.on("data", (chunk: Buffer) => (received += chunk.length))
      response.on("end", () => done())
      response.on("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
      response.on("aborted", () => done("aborted"))
    })
    request.on("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
    request.end(body)
  })

/**
 * An account authorized through the admin API and its first tokens, through the real api_query_auth: the
 * component token, the authorizer's access and refresh tokens.
 */
export const authorizeAccount = (
  mock: MockServer.RunningMock,
  authorizerAppId: string,
  permissions?: ReadonlyArray<number>
) =>
  Effect.gen(function*() {
    const componentToken = yield* fetchToken(mock)
    const { authorizationCode } = yield* Effect.promise(() =>
      mock.admin.authorize({ componentAppId: appId, authorizerAppId, ...(permissions === undefined ? {} : { permissions }) })
    )
    const { authorization_info } = yield* call(mock, "api_query_auth", { component_appid: appId, authorization_code: authorizationCode }, {
      token: componentToken
    })
    return {
      componentToken,
      accessToken: authorization_info.authorizer_access_token as string,
      refreshToken: authorization_info.authorizer_refresh_token as string,
      funcInfo: authorization_info.func_info as ReadonlyArray<{ readonly funcscope_category: { readonly id: number } }>
    }
  })

/** A call to an account API of the mock (`path` may carry a query string); its status and JSON answer. */
export const accountCall = (
  mock: MockServer.RunningMock,
  path: string,
  options: { readonly token?: string; readonly method?: "GET" | "POST"; readonly body?: unknown } = {}
) =>
  Effect.promise(async () => {
    const url = new URL(path, mock.url)
    if (options.token !== undefined) url.searchParams.set("access_token", options.token)
    const method = options.method ?? (options.body === undefined ? "GET" : "POST")
    const response = await fetch(url, {
      method,
      ...(method === "POST" ? { body: JSON.stringify(options.body ?? {}), headers: { "content-type": "application/json" } } : {})
    })
    return { status: response.status, body: (await response.json()) as Record<string, any> }
  })

/** An errcode answer's code, checked to carry WeChat's `rid`. */
export const errcodeOf = (answer: Record<string, any>): number => {
  if (typeof answer.errmsg !== "string" || !/ rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/.test(answer.errmsg)) {
    throw new Error(`not a WeChat error: ${JSON.stringify(answer)}`)
  }
  return answer.errcode
}
