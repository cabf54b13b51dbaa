import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Effect, Layer, Redacted, Schedule } from "effect"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentToken from "../src/ComponentToken.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as TokenStore from "../src/TokenStore.js"

export const appId = "wx0123456789abcdef"
export const appSecret = "s3cr3t-app-secret-value"
export const ticketValue = "ticket@@@verify-ticket-value"

/** A request the stub received. */
export interface Received {
  readonly endpoint: string
  readonly url: URL
  readonly token: string | null
  readonly contentType: string | undefined
  readonly rawBody: string
  readonly body: Record<string, unknown>
}

/** What the stub answers: JSON, a raw body with a status, a transport failure, or nothing ever. */
export type Reply =
  | { readonly json: unknown }
  | { readonly status: number; readonly text: string }
  | { readonly transport: string }
  | { readonly hang: true }

export type Handler = (request: Received, n: number) => Effect.Effect<Reply>

/**
 * A scripted WeChat. By default it issues tokens `token-1`, `token-2`, … and
 * pre-authorization codes `preauthcode@@@1`, … for the latest token; handlers
 * given per endpoint replace the default for that endpoint.
 */
export const makeStub = (handlers: Partial<Record<string, Handler>> = {}) => {
  const requests: Array<Received> = []
  let tokens = 0
  let codes = 0
  const count = (endpoint: string) => requests.filter((r) => r.endpoint === endpoint).length

  const defaults: Record<string, Handler> = {
    api_component_token: () => Effect.succeed({ json: { component_access_token: `token-${++tokens}`, expires_in: 7200 } }),
    api_create_preauthcode: (request) =>
      Effect.succeed(
        request.token === `token-${tokens}`
          ? { json: { pre_auth_code: `preauthcode@@@${++codes}`, expires_in: 1800 } }
          : { json: { errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest rid: 0000-1111-2222" } }
      )
  }

  const client = HttpClient.make((request: HttpClientRequest.HttpClientRequest, url: URL) =>
    Effect.gen(function*() {
      const rawBody = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
      const endpoint = url.pathname.split("/").pop() ?? ""
      const received: Received = {
        endpoint,
        url,
        token: url.searchParams.get("component_access_token"),
        contentType: request.body._tag === "Uint8Array" ? request.body.contentType : undefined,
        rawBody,
        body: rawBody === "" ? {} : JSON.parse(rawBody)
      }
      requests.push(received)
      const handler = handlers[endpoint] ?? defaults[endpoint]
      const reply: Reply = handler === undefined
        ? { status: 404, text: "<html>not found</html>" }
        : yield* handler(received, count(endpoint))
      if ("hang" in reply) return yield* Effect.never
      if ("transport" in reply) {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          // Like a real connection error whose text echoes the URL, token and all.
          cause: new Error(`${reply.transport} while requesting ${url.toString()}`)
        })
      }
      const [status, text] = "json" in reply ? [200, JSON.stringify(reply.json)] : [reply.status, reply.text]
      return HttpClientResponse.fromWeb(request, new Response(text, { status }))
    })
  )

  return {
    requests,
    count,
    issuedTokens: () => tokens,
    layer: Layer.succeed(HttpClient.HttpClient, client)
  }
}

export type Stub = ReturnType<typeof makeStub>

/** Everything `PreAuthCode.create` needs, over a stub, a memory store and the given options. */
export const makeLayer = (
  stub: Stub,
  options: Partial<ComponentConfig.Options> = {}
) =>
  ComponentToken.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        ComponentConfig.layer({ appId, appSecret: Redacted.make(appSecret), ...options }),
        TokenStore.layerMemory,
        stub.layer
      )
    ),
    Layer.orDie
  )

/** No retries at all, for tests that count single attempts. */
export const noRetries = RetryPolicy.layer(Schedule.stop)

/** Stores the verify ticket as received now. */
export const storeTicket = (value: string = ticketValue) =>
  Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    const receivedAt = yield* Clock.currentTimeMillis
    yield* store.setTicket(appId, { value: Redacted.make(value), receivedAt })
  })

/** Lets forked fibers run until they block (on the clock, a deferred, …). */
export const settle = Effect.repeatN(Effect.yieldNow(), 50)
