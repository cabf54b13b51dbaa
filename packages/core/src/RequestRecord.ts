/**
 * What WeChat recorded of one request, looked up by the `rid` it put in the
 * error message (`openapi/rid/get`): when it was made, how long it took, the
 * URL, both bodies and the caller's IP. WeChat keeps requests for 7 days, and
 * answers only the token's owner: a component call is looked up with the
 * component token, an account's call with the account's.
 *
 * {@link lookup} does that choice for any wxopen error that carries an rid:
 * errors of calls made as an account carry its `authorizerAppId`. The bodies
 * may hold tokens, codes or users' data: they are `Redacted`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { AuthorizerClient, RequestRecord } from "@wxopen/core"
 *
 * const menu = (authorizerAppId: string) =>
 *   Effect.gen(function*() {
 *     const account = yield* AuthorizerClient.make(authorizerAppId)
 *     return yield* account.get("/cgi-bin/get_current_selfmenu_info", Schema.Unknown)
 *   }).pipe(
 *     Effect.tapError((error) =>
 *       RequestRecord.lookup(error).pipe(
 *         Effect.flatMap((record) => Effect.logWarning(`WeChat saw ${record.requestUrl} from ${record.clientIp}`)),
 *         Effect.ignore
 *       )
 *     )
 *   )
 * ```
 *
 * @since 0.1.0
 */
import { DateTime, Effect, Redacted, Schema } from "effect"
import type { AuthorizerToken, AuthorizerTokenError } from "./AuthorizerToken.js"
import * as AuthorizerTokenModule from "./AuthorizerToken.js"
import type { ComponentToken } from "./ComponentToken.js"
import * as ComponentTokenModule from "./ComponentToken.js"
import { checkAppId, checkNonEmpty } from "./internal/authorizers.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"
import { InvalidRequestError } from "./WeChatError.js"

/**
 * One request as WeChat recorded it. `requestUrl` is the path and query WeChat
 * logged, the values of its tokens, secrets and codes (`access_token`,
 * `refresh_token`, `appsecret`, `js_code`, …) masked as `***` by wxopen, so it
 * can be logged; the bodies are `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestRecord {
  readonly rid: string
  /** When WeChat received the request. */
  readonly invokeTime: DateTime.Utc
  /** How long WeChat took to answer, in milliseconds. */
  readonly costMs: number
  readonly requestUrl: string
  readonly requestBody: Redacted.Redacted<string>
  readonly responseBody: Redacted.Redacted<string>
  /** The IP address WeChat saw the request come from. */
  readonly clientIp: string
}

/**
 * Whose token looks a request up: the component's (none given) or an
 * account's.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly authorizerAppId?: string
}

// Whatever WeChat echoes of the query, a token, secret or code in it is not passed on.
// WeChat writes the URL with its path, or its query alone (`access_token=…`, as its own page shows).
const masked = (url: string): string => url.replace(/((?:^|[?&])[\w.-]*(?:token|secret|code|ticket)=)[^&#]*/gi, "$1***")

const GetRid = endpoint({
  path: "/cgi-bin/openapi/rid/get",
  token: "access_token",
  response: Schema.Struct({
    request: Schema.Struct({
      invoke_time: Schema.Number,
      cost_in_ms: Schema.Number,
      request_url: Schema.String,
      request_body: Schema.Redacted(Schema.String),
      response_body: Schema.Redacted(Schema.String),
      client_ip: Schema.String
    })
  })
})

/**
 * What WeChat recorded of the request `rid`: with the component token, or,
 * given `authorizerAppId`, with that account's token. An unknown rid (older
 * than 7 days, or another token's) is a `RidError` (`Unknown`), a malformed
 * one `Malformed`, another owner's `NotOwner`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const get = Effect.fn("RequestRecord.get")(function*(
  rid: string,
  options: Options = {}
): Effect.fn.Return<RequestRecord, AuthorizerTokenError, WeChatClient | ComponentToken | AuthorizerToken> {
  yield* Effect.annotateCurrentSpan("wechat.rid", rid)
  yield* checkNonEmpty(Redacted.make(rid), "rid", GetRid.path)
  const request = { body: { rid } }
  const { authorizerAppId } = options
  let answer: typeof GetRid.response.Type
  if (authorizerAppId === undefined) {
    answer = yield* ComponentTokenModule.execute(GetRid, request)
  } else {
    yield* Effect.annotateCurrentSpan("wechat.authorizer_appid", authorizerAppId)
    yield* checkAppId(authorizerAppId, GetRid.path)
    answer = yield* AuthorizerTokenModule.execute(authorizerAppId, GetRid, request)
  }
  const r = answer.request
  return {
    rid,
    // WeChat writes the time in Unix seconds.
    invokeTime: DateTime.unsafeMake(r.invoke_time * 1000),
    costMs: r.cost_in_ms,
    requestUrl: masked(r.request_url),
    requestBody: r.request_body,
    responseBody: r.response_body,
    clientIp: r.client_ip
  }
})

/**
 * What WeChat recorded of the request that failed with `error`, in one call:
 * the error's rid, looked up with the token that sent the request (the
 * account's when the error carries `authorizerAppId`, the component's
 * otherwise). An error without an rid (nothing reached WeChat, or WeChat gave
 * none) fails with an `InvalidRequestError` (`EmptyValue`) saying so.
 *
 * @since 0.1.0
 * @category accessors
 */
export const lookup = (
  error: { readonly _tag: string; readonly endpoint?: string; readonly rid?: string | undefined; readonly authorizerAppId?: string | undefined }
): Effect.Effect<RequestRecord, AuthorizerTokenError, WeChatClient | ComponentToken | AuthorizerToken> =>
  error.rid === undefined
    ? Effect.fail(
      new InvalidRequestError({
        endpoint: GetRid.path,
        reason: "EmptyValue",
        detail: `this ${error._tag}${error.endpoint === undefined ? "" : ` of ${error.endpoint}`} carries no rid ` +
          "(WeChat gave none, or the request never reached WeChat): there is nothing to look up"
      })
    )
    : get(error.rid, error.authorizerAppId === undefined ? {} : { authorizerAppId: error.authorizerAppId })
