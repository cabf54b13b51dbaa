/**
 * An `HttpClient` for Node on undici, made for wxopen's traffic: a bounded
 * connection pool, and a short path for wxopen's own requests.
 *
 * It is `@effect/platform-node`'s undici client (`NodeHttpClient.makeUndici`)
 * on a pool of its own, so it serves any other request of the program as
 * that client would. wxopen's requests through it skip the general
 * machinery: no `HttpClientRequest`, no `URL` object, no abort controller,
 * no fiber to race the timeout; the body is read straight from undici's
 * callbacks, the timeout is a timer cleared with the answer, and
 * interrupting the request aborts it. Errors, redaction and retries are the
 * same as on any other client; the timeout alone is kept in real time, not
 * by the `Clock` (a `TestClock` does not move it: tests that drive time use a
 * stub client). A client derived from it (`HttpClient.mapRequest`,
 * say) takes the general path, so what it adds is never skipped.
 *
 * Not part of the `@wxopen/core` barrel, so that importing the library never
 * loads undici: import it as `@wxopen/core/UndiciHttpClient`. It needs the
 * `undici` and `@effect/platform-node` packages.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Redacted } from "effect"
 * import { ComponentConfig, ComponentToken, PreAuthCode, TokenStore } from "@wxopen/core"
 * import * as UndiciHttpClient from "@wxopen/core/UndiciHttpClient"
 *
 * const WeChat = ComponentToken.layer.pipe(
 *   Layer.provideMerge(ComponentConfig.layer({ appId: "wx1234567890abcdef", appSecret: Redacted.make("...") })),
 *   Layer.provideMerge(TokenStore.layerMemory),
 *   Layer.provideMerge(UndiciHttpClient.layer({ connections: 32 }))
 * )
 *
 * const code = PreAuthCode.create.pipe(Effect.provide(WeChat))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer } from "effect"
import * as Undici from "undici"
import * as FastPost from "./internal/fastPost.js"

/**
 * How the client's pool is sized.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The most connections open to one origin at once; requests beyond wait
   * for a free one. Default {@link defaultConnections}.
   */
  readonly connections?: number
}

/**
 * The default pool size per origin: undici's own default has no bound, and
 * 64 concurrent calls open more than 64 sockets.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultConnections = 64

const headers = { "content-type": "application/json" }

// One POST through undici's handler API: no response stream, the chunks are gathered as they come.
const post = (dispatcher: Undici.Dispatcher): FastPost.FastPost => (url, body, timeoutMillis) =>
  Effect.async<readonly [number, string], FastPost.Failure>((resume) => {
    const split = url.indexOf("/", url.indexOf("//") + 2)
    let status = 0
    let chunks: Array<Buffer> = []
    let controller: Undici.Dispatcher.DispatchController | undefined
    let settled = false
    const settle = (result: Effect.Effect<readonly [number, string], FastPost.Failure>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(result)
    }
    const abort = (reason: Error) => {
      if (controller !== undefined && !controller.aborted) controller.abort(reason)
    }
    const timer = setTimeout(() => {
      settle(Effect.fail({ reason: "Timeout" }))
      abort(new Error("timed out"))
    }, timeoutMillis)
    try {
      dispatcher.dispatch(
        { origin: url.slice(0, split), path: url.slice(split), method: "POST", headers, body },
        {
          onRequestStart: (started) => {
            controller = started
            if (settled) started.abort(new Error("interrupted"))
          },
          onResponseStart: (_, statusCode) => {
            status = statusCode
            chunks = []
          },
          onResponseData: (_, chunk) => {
            chunks.push(chunk)
          },
          onResponseEnd: () => settle(Effect.succeed([status, Buffer.concat(chunks).toString("utf8")] as const)),
          onResponseError: (_, cause) => settle(Effect.fail({ reason: "RequestFailed", cause }))
        }
      )
    } catch (cause) {
      settle(Effect.fail({ reason: "RequestFailed", cause }))
    }
    return Effect.sync(() => {
      settled = true
      clearTimeout(timer)
      abort(new Error("interrupted"))
    })
  })

/**
 * The client on a dispatcher the caller owns (and closes).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient => {
  const general = NodeHttpClient.makeUndici(dispatcher)
  return Object.assign(
    HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
      (request) => Effect.flatMap(request, general.execute),
      Effect.succeed
    ),
    { [FastPost.TypeId]: post(dispatcher) }
  )
}

/**
 * The client on a pool of its own, closed with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => new Undici.Agent({ connections: options.connections ?? defaultConnections })),
        (agent) => Effect.promise(() => agent.destroy())
      ),
      make
    )
  )
