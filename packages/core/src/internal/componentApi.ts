/**
 * The path every call to WeChat takes: build the request (token in the query
 * string, JSON body), send it with the user's HttpClient under a timeout, read
 * the body, map a non-zero errcode to its error family, decode the rest with
 * Schema, and retry what the RetryPolicy says.
 *
 * HttpClient's own tracing is switched off for these requests: it records the
 * full URL, query string and token included, as a span attribute. The span of
 * the operation the request serves records the endpoint, the error, the
 * errcode and WeChat's rid instead.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, type Either, type ParseResult, Redacted, Schedule, Schema } from "effect"
import { ComponentConfig } from "../ComponentConfig.js"
import { type Policy, RetryPolicy } from "../RetryPolicy.js"
import * as FastPost from "./fastPost.js"
import { describeIssues } from "./issues.js"
import {
  type Endpoint,
  fromErrcode,
  HttpStatusError,
  isTransient,
  MalformedResponseError,
  TransportError,
  type WeChatError
} from "../WeChatError.js"
import * as Tracing from "./tracing.js"

/** One call to a component endpoint. */
export interface Call<A, I> {
  readonly endpoint: Endpoint
  /** Sent as `?component_access_token=`, never in the body. */
  readonly accessToken?: Redacted.Redacted<string>
  readonly body: Readonly<Record<string, unknown>>
  readonly response: Schema.Schema<A, I>
  /** Secrets in `body` besides the app secret, to keep out of error details. */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>>
}

/** Sends calls for the configured component with the HttpClient in context. */
export type Request = <A, I>(call: Call<A, I>) => Effect.Effect<A, WeChatError>

const untraced = (_: HttpClientRequest.HttpClientRequest) => true

/** What a call sends. */
type Outgoing = Pick<Call<unknown, unknown>, "endpoint" | "accessToken" | "body" | "secrets">

/** The status and text of an answer, or why there is none. */
type Send = (call: Outgoing) => Effect.Effect<readonly [number, string], TransportError>

/**
 * Builds a {@link Request} from the ComponentConfig and HttpClient in context;
 * made once per pair and kept, since every call of every endpoint asks for it.
 */
export const make: Effect.Effect<Request, never, ComponentConfig | HttpClient.HttpClient> = Effect.flatMap(
  ComponentConfig,
  (config) =>
    Effect.map(HttpClient.HttpClient, (client) => {
      let byConfig = made.get(client)
      if (byConfig === undefined) {
        byConfig = new WeakMap()
        made.set(client, byConfig)
      }
      let request = byConfig.get(config)
      if (request === undefined) {
        request = makeRequest(config, client)
        byConfig.set(config, request)
      }
      return request
    })
)

const made = new WeakMap<HttpClient.HttpClient, WeakMap<ComponentConfig["Type"], Request>>()

// The request records what it did on the span of the operation it serves (PreAuthCode.create, ComponentToken.fetch…)
// rather than in a span of its own: a span costs more than the rest of a request's own work.
const makeRequest = (config: ComponentConfig["Type"], client: HttpClient.HttpClient): Request => {
  const send = sender(config, client)
  return <A, I>(call: Call<A, I>) => {
    const { endpoint } = call
    const attempt = send(call).pipe(
      Effect.flatMap(([status, text]) => decode(endpoint, status, text, call.response)),
      Effect.tapError((error) =>
        Tracing.annotate({
          "wechat.error": error._tag,
          ...("errcode" in error && error.errcode !== undefined ? { "wechat.errcode": error.errcode } : {}),
          ...("rid" in error && error.rid !== undefined ? { "wechat.rid": error.rid } : {})
        })
      )
    )
    // The retry machinery is built at the first failure, not for every request that succeeds at once.
    return Effect.zipRight(
      Tracing.annotate({ "wechat.endpoint": endpoint }),
      Effect.catchAll(attempt, (error) =>
        isTransient(error) ? Effect.flatMap(RetryPolicy, (policy) => retrying(attempt, policy, error)) : Effect.fail(error))
    )
  }
}

// What Effect.retry does, from a failure already in hand: the policy decides when and how often; what may be
// retried at all (isTransient) is not its call, and only transient failures are fed to it.
const retrying = <A>(attempt: Effect.Effect<A, WeChatError>, policy: Policy, first: WeChatError) =>
  Effect.flatMap(Schedule.driver(policy), (driver) => {
    const next = (error: WeChatError): Effect.Effect<A, WeChatError> =>
      isTransient(error)
        ? Effect.matchEffect(driver.next(error), {
          onFailure: () => Effect.fail(error),
          onSuccess: () => Effect.catchAll(attempt, next)
        })
        : Effect.fail(error)
    return next(first)
  })

const urlOf = (config: ComponentConfig["Type"], call: Outgoing) =>
  call.accessToken === undefined
    ? `${config.apiBaseUrl}/cgi-bin/component/${call.endpoint}`
    : `${config.apiBaseUrl}/cgi-bin/component/${call.endpoint}?component_access_token=${
      encodeURIComponent(Redacted.value(call.accessToken))
    }`

// The client's short path when it has one (UndiciHttpClient), its `execute` otherwise.
const sender = (config: ComponentConfig["Type"], client: HttpClient.HttpClient): Send => {
  const fast = FastPost.of(client)
  if (fast !== undefined) {
    const timeout = Duration.toMillis(config.requestTimeout)
    return (call) =>
      Effect.mapError(fast(urlOf(config, call), JSON.stringify(call.body), timeout), (failure) =>
        failure.reason === "Timeout"
          ? timedOut(call.endpoint, config.requestTimeout)
          : new TransportError({
            endpoint: call.endpoint,
            reason: "RequestFailed",
            detail: scrub(describeCause(failure.cause), secretsOf(config, call))
          }))
  }
  const untracedClient = HttpClient.withTracerDisabledWhen(client, untraced)
  return (call) => {
    const { endpoint } = call
    const request = HttpClientRequest.post(`${config.apiBaseUrl}/cgi-bin/component/${endpoint}`).pipe(
      HttpClientRequest.bodyUnsafeJson(call.body),
      call.accessToken === undefined
        ? (request) => request
        : HttpClientRequest.setUrlParam("component_access_token", Redacted.value(call.accessToken))
    )
    return untracedClient.execute(request).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)),
      Effect.mapError((error) =>
        new TransportError({ endpoint, reason: "RequestFailed", detail: scrub(describeHttpError(error), secretsOf(config, call)) })
      ),
      Effect.timeoutFail({ duration: config.requestTimeout, onTimeout: () => timedOut(endpoint, config.requestTimeout) })
    )
  }
}

// Everything secret a call carries: what an error detail must never show.
const secretsOf = (config: ComponentConfig["Type"], call: Outgoing) => [
  config.appSecret,
  ...(call.accessToken === undefined ? [] : [call.accessToken]),
  ...(call.secrets ?? [])
]

const timedOut = (endpoint: Endpoint, timeout: Duration.Duration) =>
  new TransportError({ endpoint, reason: "Timeout", detail: `no answer within ${Duration.format(timeout)}` })

const decode = <A, I>(
  endpoint: Endpoint,
  status: number,
  text: string,
  schema: Schema.Schema<A, I>
): Effect.Effect<A, WeChatError> => {
  if (status < 200 || status >= 300) {
    return Effect.fail(new HttpStatusError({ endpoint, status }))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return Effect.fail(new MalformedResponseError({ endpoint, reason: "NotJson", detail: describeText(text) }))
  }
  if (typeof json === "object" && json !== null && "errcode" in json) {
    const { errcode, errmsg } = json as { readonly errcode: unknown; readonly errmsg?: unknown }
    if (typeof errcode === "number" && errcode !== 0) {
      return Effect.fail(fromErrcode(endpoint, errcode, typeof errmsg === "string" ? errmsg : ""))
    }
  }
  const decoded = decoderOf(schema)(json)
  return decoded._tag === "Right"
    ? Effect.succeed(decoded.right)
    : Effect.fail(
      new MalformedResponseError({ endpoint, reason: "UnexpectedShape", detail: describeIssues(decoded.left, "the body") })
    )
}

const decoders = new WeakMap<Schema.Schema.Any, (input: unknown) => Either.Either<unknown, ParseResult.ParseError>>()

// Compiled once per schema: every call of an endpoint decodes with the same one.
const decoderOf = <A, I>(schema: Schema.Schema<A, I>) => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = Schema.decodeUnknownEither(schema)
    decoders.set(schema, decoder)
  }
  return decoder as (input: unknown) => Either.Either<A, ParseResult.ParseError>
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
