/**
 * The path every call to WeChat takes: build the request (token in the query
 * string, JSON body), send it with the user's HttpClient under a timeout, read
 * the body, map a non-zero errcode to its error family, decode the rest with
 * Schema, and retry what the RetryPolicy says.
 *
 * HttpClient's own tracing is switched off for these requests: it records the
 * full URL, query string and token included, as a span attribute. The span
 * made here records the endpoint, the status and the errcode instead.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, Redacted, Schema } from "effect"
import { ComponentConfig } from "../ComponentConfig.js"
import { RetryPolicy } from "../RetryPolicy.js"
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

/** Builds a {@link Request} from the ComponentConfig and HttpClient in context. */
export const make: Effect.Effect<Request, never, ComponentConfig | HttpClient.HttpClient> = Effect.gen(function*() {
  const config = yield* ComponentConfig
  const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, untraced)

  return <A, I>(call: Call<A, I>) =>
    Effect.gen(function*() {
      // Read per call, so that providing a RetryPolicy to a program reaches every request it makes.
      const policy = yield* RetryPolicy
      const { endpoint } = call
      const secrets = [config.appSecret, ...(call.accessToken ? [call.accessToken] : []), ...(call.secrets ?? [])]
      const request = HttpClientRequest.post(`${config.apiBaseUrl}/cgi-bin/component/${endpoint}`).pipe(
        HttpClientRequest.bodyUnsafeJson(call.body),
        call.accessToken === undefined
          ? (request) => request
          : HttpClientRequest.setUrlParam("component_access_token", Redacted.value(call.accessToken))
      )

      const attempt = client.execute(request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)),
        Effect.mapError((error) =>
          new TransportError({ endpoint, reason: "RequestFailed", detail: scrub(describeHttpError(error), secrets) })
        ),
        Effect.timeoutFail({
          duration: config.requestTimeout,
          onTimeout: () =>
            new TransportError({
              endpoint,
              reason: "Timeout",
              detail: `no answer within ${Duration.format(config.requestTimeout)}`
            })
        }),
        Effect.flatMap(([status, text]) => decode(endpoint, status, text, call.response)),
        Effect.tapError((error) =>
          Effect.annotateCurrentSpan({
            "wechat.error": error._tag,
            ...("errcode" in error && error.errcode !== undefined ? { "wechat.errcode": error.errcode } : {}),
            ...("rid" in error && error.rid !== undefined ? { "wechat.rid": error.rid } : {})
          })
        )
      )

      // The policy decides when and how often; what may be retried at all is not its call.
      return yield* Effect.retry(attempt, { schedule: policy, while: isTransient })
    }).pipe(
      Effect.withSpan("ComponentApi.request", { kind: "client", attributes: { "wechat.endpoint": call.endpoint } })
    )
})

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
  return Effect.mapError(
    Schema.decodeUnknown(schema)(json),
    (error) => new MalformedResponseError({ endpoint, reason: "UnexpectedShape", detail: describeIssues(error, "the body") })
  )
}

// The body is never quoted: a truncated token answer would put the token in the error.
const describeText = (text: string): string => {
  const start = text.trimStart()
  const kind = start === "" ? "an empty body" : start.startsWith("<") ? "HTML or XML" : "text"
  return `${kind}, ${text.length} characters`
}

const describeHttpError = (error: HttpClientError.HttpClientError): string => {
  const parts: Array<string> = [error.reason]
  let cause: unknown = error.cause
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
