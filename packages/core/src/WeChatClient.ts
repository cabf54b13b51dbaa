/**
 * The one path every request to WeChat takes, built once from the user's
 * `HttpClient`, the component's configuration and the retry policy:
 *
 * endpoint (data) → URL on the API base URL, query, token → the user's
 * `HttpClient` (the tracer off while it runs: its span would record the
 * token in the URL)
 * under the request timeout (from `Clock`) → the body read → a non-zero
 * `errcode` mapped to its error family → the answer decoded with the
 * endpoint's schema → transient failures retried by the `RetryPolicy`.
 *
 * An endpoint is a declaration: its path, method, the query parameter that
 * carries its token, and the schema of its answer. Tokens are attached by
 * `ComponentToken.execute` (and the authorizer's equivalent), which retry
 * exactly once when WeChat refuses the token.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { ComponentToken, WeChatClient } from "@wxopen/core"
 *
 * // any component API: a path, the token's query parameter, the answer's schema
 * const GetAuthorizerOption = WeChatClient.endpoint({
 *   path: "/cgi-bin/component/api_get_authorizer_option",
 *   token: "component_access_token",
 *   response: Schema.Struct({ option_name: Schema.String, option_value: Schema.String })
 * })
 *
 * const voiceRecognition = (authorizerAppId: string) =>
 *   Effect.gen(function*() {
 *     const { config } = yield* WeChatClient.WeChatClient
 *     return yield* ComponentToken.execute(GetAuthorizerOption, {
 *       body: { component_appid: config.appId, authorizer_appid: authorizerAppId, option_name: "voice_recognize" }
 *     })
 *   })
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { type ConfigError, Context, Duration, Effect, type Either, Layer, type ParseResult, Redacted, Schedule, Schema } from "effect"
import { ComponentConfig, type Settings } from "./ComponentConfig.js"
import * as ComponentConfigModule from "./ComponentConfig.js"
import { describeIssues } from "./internal/issues.js"
import { type Policy, RetryPolicy } from "./RetryPolicy.js"
import {
  fromErrcode,
  HttpStatusError,
  InvalidRequestError,
  isTransient,
  MalformedResponseError,
  TransportError,
  type WeChatError
} from "./WeChatError.js"

/**
 * A WeChat API endpoint, as data.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint<A, I = unknown> {
  /** The path under the API base URL, from its leading slash: `/cgi-bin/component/api_create_preauthcode`. */
  readonly path: string
  readonly method: "GET" | "POST"
  /** The query parameter that carries the access token (`component_access_token`, `access_token`), if it takes one. */
  readonly token: string | undefined
  /** The answer's schema; `errcode` and `errmsg` are read before it. */
  readonly response: Schema.Schema<A, I>
  /**
   * Whether a request that may have reached WeChat must not be sent again (it
   * spends a single-use code): then only WeChat's own "busy" answers (-1,
   * 45011), which say it did nothing, are retried.
   */
  readonly singleUse: boolean
  /** The decoder of {@link response}, compiled once. */
  readonly decode: (input: unknown) => Either.Either<A, ParseResult.ParseError>
}

/**
 * Declares an endpoint; `method` defaults to `POST`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const endpoint = <A, I>(options: {
  readonly path: `/${string}`
  readonly response: Schema.Schema<A, I>
  readonly method?: "GET" | "POST"
  readonly token?: string
  readonly singleUse?: boolean
}): Endpoint<A, I> => ({
  path: options.path,
  method: options.method ?? "POST",
  token: options.token,
  response: options.response,
  singleUse: options.singleUse ?? false,
  decode: Schema.decodeUnknownEither(options.response)
})

/**
 * What one request sends besides its endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  /** Sent as JSON; none when absent. */
  readonly body?: unknown
  /** Extra query parameters. */
  readonly query?: Readonly<Record<string, string>>
  /** Sent in the endpoint's token parameter. */
  readonly accessToken?: Redacted.Redacted<string>
  /** Values in the body to keep out of error details, besides the app secret and the token. */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>>
}

/**
 * The client: the component's settings, the `HttpClient` it sends through,
 * and the request path.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly config: Settings
  /** The user's client, as transformed by `transformClient`, for requests the endpoints do not cover. */
  readonly httpClient: HttpClient.HttpClient
  /** Sends one request to an endpoint and decodes its answer, retrying transient failures by the policy. */
  readonly execute: <A, I>(endpoint: Endpoint<A, I>, request?: Request) => Effect.Effect<A, WeChatError>
}

/**
 * The client as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class WeChatClient extends Context.Tag("@wxopen/core/WeChatClient")<WeChatClient, Service>() {}

/**
 * How the client is built.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Applied once to the user's `HttpClient`: a proxy header, a `mapRequest`.
   * The requests it sees carry the access token in their URL's query: log
   * their method and path, never the URL. A retry added here would resend
   * single-use requests (`api_query_auth`) that wxopen never resends.
   */
  readonly transformClient?: (client: HttpClient.HttpClient) => HttpClient.HttpClient
}

/**
 * Builds the client from the `ComponentConfig`, the `HttpClient` and the
 * `RetryPolicy` in context, read once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, ComponentConfig | HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const config = yield* ComponentConfig
    const policy = yield* RetryPolicy
    const httpClient = (options.transformClient ?? ((client) => client))(yield* HttpClient.HttpClient)
    return makeWith(config, httpClient, policy)
  })

const makeWith = (config: Settings, httpClient: HttpClient.HttpClient, policy: Policy): Service => {
  // What may be retried at all is wxopen's rule, not the policy's: the policy decides when, among those.
  const retryTransient = Schedule.whileInput(policy, isTransient)
  const retryNothingDone = Schedule.whileInput(policy, nothingDone)

  const send = <A, I>(endpoint: Endpoint<A, I>, request: Request): Effect.Effect<readonly [number, string], TransportError> => {
    const { path } = endpoint
    let outgoing = HttpClientRequest.make(endpoint.method)(config.apiBaseUrl + path)
    if (request.query !== undefined) outgoing = HttpClientRequest.setUrlParams(outgoing, request.query)
    if (request.accessToken !== undefined) {
      if (endpoint.token === undefined) {
        return Effect.dieMessage(`${path} is declared without a token parameter, but was given a token`)
      }
      outgoing = HttpClientRequest.setUrlParam(outgoing, endpoint.token, Redacted.value(request.accessToken))
    }
    if (request.body !== undefined) outgoing = HttpClientRequest.bodyUnsafeJson(outgoing, request.body)
    return httpClient.execute(outgoing).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)),
      // The URL, token included, must not reach HttpClient's span: the outcome is recorded on the caller's span
      // instead. Switching the tracer off holds whatever the user's client sets (`withTracerDisabledWhen` in the
      // client would override a predicate set here).
      Effect.withTracerEnabled(false),
      Effect.mapError((error) =>
        new TransportError({
          endpoint: path,
          reason: "RequestFailed",
          detail: scrub(describeHttpError(error), [
            config.appSecret,
            ...(request.accessToken === undefined ? [] : [request.accessToken]),
            ...(request.secrets ?? [])
          ])
        })
      ),
      Effect.timeoutFail({
        duration: config.requestTimeout,
        onTimeout: () =>
          new TransportError({ endpoint: path, reason: "Timeout", detail: `no answer within ${Duration.format(config.requestTimeout)}` })
      })
    )
  }

  const execute = <A, I>(endpoint: Endpoint<A, I>, request: Request = {}): Effect.Effect<A, WeChatError> => {
    const refused = refuse(endpoint, request)
    if (refused !== undefined) return Effect.fail(refused)
    const attempt = Effect.flatMap(send(endpoint, request), ([status, text]) => decode(endpoint, status, text)).pipe(
      Effect.tapError((error) =>
        Effect.annotateCurrentSpan({
          "wechat.error": error._tag,
          ...("errcode" in error && error.errcode !== undefined ? { "wechat.errcode": error.errcode } : {}),
          ...("rid" in error && error.rid !== undefined ? { "wechat.rid": error.rid } : {})
        })
      )
    )
    const [retryable, schedule] = endpoint.singleUse ? [nothingDone, retryNothingDone] : [isTransient, retryTransient]
    return Effect.zipRight(
      Effect.annotateCurrentSpan("wechat.endpoint", endpoint.path),
      Effect.catchIf(attempt, retryable, (first) => retryAfter(first, attempt, schedule))
    )
  }

  return { config, httpClient, execute }
}

// Effect.retry, from a failure already in hand: the schedule sees that failure first, as it would under
// Effect.retry, but its machinery is built only when a request fails, not for every one that succeeds at once.
const retryAfter = <A>(
  first: WeChatError,
  attempt: Effect.Effect<A, WeChatError>,
  schedule: Schedule.Schedule<unknown, WeChatError>
): Effect.Effect<A, WeChatError> => {
  let replayed = false
  return Effect.retry(Effect.suspend(() => replayed ? attempt : (replayed = true, Effect.fail(first))), schedule)
}

// A path on the API base URL: from its slash, without a query or fragment (those would put the token after a `#`, or
// a second one in the query).
const plainPath = /^\/[^?#\s]*$/

// What must not be sent: the request would go wrong, or carry a token wxopen did not attach.
const refuse = <A, I>(endpoint: Endpoint<A, I>, request: Request): InvalidRequestError | undefined => {
  if (!plainPath.test(endpoint.path)) {
    return new InvalidRequestError({
      endpoint: endpoint.path.replace(/[?#][\s\S]*$/, ""),
      reason: "NotAPath",
      detail: "give a path on the API base URL, from its leading slash, without a query or fragment: query " +
        "parameters go in `query`"
    })
  }
  if (endpoint.token !== undefined && request.query !== undefined && Object.prototype.hasOwnProperty.call(request.query, endpoint.token)) {
    return new InvalidRequestError({
      endpoint: endpoint.path,
      reason: "TokenInQuery",
      detail: `the query already carries ${endpoint.token}: wxopen attaches the token itself, and replaces it when ` +
        "WeChat refuses it; leave it out of the query"
    })
  }
  return undefined
}

// The answers in which WeChat says it did nothing: a single-use request may be sent again after these alone.
const nothingDone = (error: WeChatError): boolean =>
  error._tag === "SystemBusyError" || (error._tag === "QuotaError" && error.reason === "PerMinute")

/**
 * The client as a layer, built once from the `ComponentConfig`, the user's
 * `HttpClient` and the `RetryPolicy` (the default one unless a layer below
 * provides another).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<WeChatClient, never, ComponentConfig | HttpClient.HttpClient> =>
  Layer.effect(WeChatClient, make(options))

/**
 * The client as a layer, with the component's configuration read from the
 * environment (`ComponentConfig.layerConfig`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (options: Options = {}): Layer.Layer<WeChatClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  layer(options).pipe(Layer.provide(ComponentConfigModule.layerConfig()))

const decode = <A, I>(endpoint: Endpoint<A, I>, status: number, text: string): Effect.Effect<A, WeChatError> => {
  const { path } = endpoint
  if (status < 200 || status >= 300) {
    return Effect.fail(new HttpStatusError({ endpoint: path, status }))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Effect.fail(new MalformedResponseError({ endpoint: path, reason: "NotJson", detail: describeText(text) }))
  }
  if (typeof json === "object" && json !== null && "errcode" in json) {
    const { errcode, errmsg } = json as { readonly errcode: unknown; readonly errmsg?: unknown }
    // A number, or a number written as a string: WeChat's own page of jscode2session shows `"errcode": "40029"`.
    const code = typeof errcode === "number" ? errcode : typeof errcode === "string" && /^-?\d{1,9}$/.test(errcode) ? Number(errcode) : 0
    if (code !== 0) {
      return Effect.fail(fromErrcode(path, code, typeof errmsg === "string" ? errmsg : ""))
    }
  }
  const decoded = endpoint.decode(json)
  return decoded._tag === "Right"
    ? Effect.succeed(decoded.right)
    : Effect.fail(
      new MalformedResponseError({ endpoint: path, reason: "UnexpectedShape", detail: describeIssues(decoded.left, "the body") })
    )
}

// The body is never quoted: a truncated token answer would put the token in the error.
const describeText = (text: string): string => {
  const start = text.trimStart()
  const kind = start === "" ? "an empty body" : start.startsWith("<") ? "HTML or XML" : "text"
  return `${kind}, ${text.length} characters`
}

const describeHttpError = (error: HttpClientError.HttpClientError): string =>
  [error.reason, describeCause(error.cause)].filter((part) => part !== "").join(": ")

// The messages (and codes) of an error and of its causes, three deep.
const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    const code = (cause as { readonly code?: unknown }).code
    parts.push(typeof code === "string" ? `${cause.message} (${code})` : cause.message)
    cause = cause.cause
  }
  return parts.join(": ")
}

// Removes every secret, raw, percent-encoded or form-encoded, from a text meant for an error.
const scrub = (text: string, secrets: ReadonlyArray<Redacted.Redacted<string>>): string =>
  secrets.reduce((acc, secret) => {
    const value = Redacted.value(secret)
    if (value === "") return acc
    const forms = new Set([value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)])
    return [...forms].reduce((text, form) => text.split(form).join("<redacted>"), acc)
  }, text)
