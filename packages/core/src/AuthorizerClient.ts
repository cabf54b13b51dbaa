/**
 * Calls as an account that authorized the component: any Official Account or
 * Mini Program API, on the API base URL, with the account's
 * `authorizer_access_token` in `access_token`.
 *
 * A call takes the one request path of `WeChatClient` (timeout, errcode to
 * typed error, the answer decoded with your schema, transient failures, -1,
 * 45011, 5xx and transport, retried by the `RetryPolicy`), under the token
 * rule of `AuthorizerToken`: a refused token (40001, 40014, 41001, 42001) is
 * marked expired if it is still the stored one, a new one is fetched, and the
 * call is sent exactly once more, never with the token just refused. An
 * account that no longer authorizes the component (61003) is forgotten. A
 * request that already carries `access_token`, or a path that is not a path,
 * is refused before anything is sent.
 *
 * `httpClient` is for what a typed call does not cover (a media download, an
 * upload): your `HttpClient`, with the account's token attached to requests
 * given as paths on the API base URL.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { AuthorizerClient } from "@wxopen/core"
 *
 * const Menu = Schema.Struct({ is_menu_open: Schema.Number })
 *
 * const menuOpen = (authorizerAppId: string) =>
 *   Effect.gen(function*() {
 *     const account = yield* AuthorizerClient.make(authorizerAppId)
 *     const menu = yield* account.get("/cgi-bin/get_current_selfmenu_info", Menu)
 *     return menu.is_menu_open === 1
 *   })
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Redacted, type Schema } from "effect"
import { AuthorizerToken, type AuthorizerTokenError, execute } from "./AuthorizerToken.js"
import { checkAppId } from "./internal/authorizers.js"
import { endpoint, type Endpoint, type Request, WeChatClient } from "./WeChatClient.js"
import type { InvalidRequestError } from "./WeChatError.js"

/**
 * What a typed call sends besides its path and body.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Query parameters; never `access_token`, which wxopen attaches. */
  readonly query?: Readonly<Record<string, string>>
}

/**
 * A client for one account.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizerClient {
  readonly authorizerAppId: string
  /** `GET path` as the account, its answer decoded with `response`. */
  readonly get: <A, I>(path: string, response: Schema.Schema<A, I>, options?: CallOptions) => Effect.Effect<A, AuthorizerTokenError>
  /** `POST path` with `body` as JSON, as the account, its answer decoded with `response`. */
  readonly post: <A, I>(
    path: string,
    body: unknown,
    response: Schema.Schema<A, I>,
    options?: CallOptions
  ) => Effect.Effect<A, AuthorizerTokenError>
  /** An endpoint declared with `WeChatClient.endpoint` (its `token` is `access_token`), as the account. */
  readonly execute: <A, I>(endpoint: Endpoint<A, I>, request?: Request) => Effect.Effect<A, AuthorizerTokenError>
  /**
   * Your `HttpClient` (as `WeChatClient` wraps it), for raw calls: give a
   * request a path (`HttpClientRequest.get("/cgi-bin/media/get")`), and it is
   * sent to the API base URL with the account's token in `access_token`. An
   * absolute URL, or a request that already carries `access_token`, fails
   * with a `RequestError` (`InvalidUrl`) before anything is sent: the token
   * only ever goes to WeChat. The answer is yours to read: a refused token
   * shows as an `errcode` in its body, and is not replaced for you
   * (`AuthorizerToken.invalidate` does it). Its requests are not traced by
   * the client, whose span would record the token in the URL.
   */
  readonly httpClient: HttpClient.HttpClient.With<HttpClientError.HttpClientError | AuthorizerTokenError>
}

/**
 * A client for `authorizerAppId`, from the `WeChatClient` and
 * `AuthorizerToken` services in context. It holds nothing of its own: make
 * one wherever it is needed. An appid not of WeChat's form (`AppId`) fails
 * with an `InvalidRequestError` (`InvalidAppId`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  authorizerAppId: string
): Effect.Effect<AuthorizerClient, InvalidRequestError, WeChatClient | AuthorizerToken> =>
  Effect.gen(function*() {
    // Where the account's calls would start: its access token.
    yield* checkAppId(authorizerAppId, "/cgi-bin/component/api_authorizer_token")
    const client = yield* WeChatClient
    const tokens = yield* AuthorizerToken
    const context = Effect.provideService(WeChatClient, client)
    const run = <A, I>(target: Endpoint<A, I>, request?: Request) =>
      execute(authorizerAppId, target, request).pipe(context, Effect.provideService(AuthorizerToken, tokens))
    const call = <A, I>(method: "GET" | "POST", path: string, response: Schema.Schema<A, I>, request: Request) =>
      run(endpoint({ path: path as `/${string}`, method, token: "access_token", response }), request)
    const { apiBaseUrl } = client.config

    const attach = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientRequest.HttpClientRequest, HttpClientError.RequestError | AuthorizerTokenError> => {
      const refuse = (description: string) =>
        Effect.fail(
          new HttpClientError.RequestError({
            // Without its query, which may hold a token.
            request: HttpClientRequest.make(request.method)(request.url.replace(/[?#][\s\S]*$/, "")),
            reason: "InvalidUrl",
            description
          })
        )
      if (!request.url.startsWith("/") || request.url.startsWith("//")) {
        return refuse(`give a path on the API base URL (${apiBaseUrl}), not a URL: the account's token is only sent to WeChat`)
      }
      const inUrl = new URL(request.url, "http://path.invalid").searchParams.has("access_token")
      if (inUrl || request.urlParams.some(([name]) => name === "access_token")) {
        return refuse("the request already carries access_token: wxopen attaches the account's token itself")
      }
      return Effect.map(tokens.get(authorizerAppId), (token) =>
        HttpClientRequest.setUrlParam(
          HttpClientRequest.prependUrl(request, apiBaseUrl),
          "access_token",
          Redacted.value(token.value)
        ))
    }
    const httpClient = client.httpClient.pipe(
      // The URL, token included, must not reach the client's span.
      HttpClient.transformResponse(Effect.withTracerEnabled(false)),
      HttpClient.mapRequestEffect(attach)
    )

    return {
      authorizerAppId,
      get: (path, response, options = {}) => call("GET", path, response, options),
      post: (path, body, response, options = {}) => call("POST", path, response, { ...options, body }),
      execute: run,
      httpClient
    }
  })
