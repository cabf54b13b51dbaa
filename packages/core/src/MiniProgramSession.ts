/**
 * Mini Program login through the component (`sns/component/jscode2session`):
 * the code a Mini Program gets from `wx.login()` exchanged for the user's
 * openid and `session_key`, with the component access token, as WeChat's
 * `thirdpartyCode2Session` describes.
 *
 * The `session_key` decrypts and checks the user data the Mini Program hands
 * over (`wx.getPhoneNumber`, signatures): it is `Redacted`, stays on the
 * server, and never goes back to the Mini Program. A code is single use and
 * lives 5 minutes: a request that may have reached WeChat is never sent again.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MiniProgramSession } from "@wxopen/core"
 *
 * // in the handler the Mini Program posts its wx.login() code to
 * const login = (authorizerAppId: string, jsCode: string) =>
 *   Effect.map(MiniProgramSession.exchange(authorizerAppId, jsCode), (session) => session.openid)
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import { type ComponentToken, type ComponentTokenError, execute } from "./ComponentToken.js"
import { checkAppId, checkNonEmpty } from "./internal/authorizers.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"

/**
 * A Mini Program user's session: the openid, the `session_key`, and the
 * `unionid` when the Mini Program is bound to an Open Platform account.
 *
 * @since 0.1.0
 * @category models
 */
export interface Session extends Schema.Schema.Type<typeof Session> {}

/**
 * The schema of {@link Session}, to keep one in a session store: encoded, the
 * `session_key` is a plain string (`JSON.stringify` of the session itself
 * writes `<redacted>` in its place).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Session = Schema.Struct({
  authorizerAppId: Schema.String,
  openid: Schema.String,
  sessionKey: Schema.Redacted(Schema.String),
  unionid: Schema.optionalWith(Schema.String, { exact: true })
})

// The code is single use: a request that may have reached WeChat is not sent again.
const JsCodeToSession = endpoint({
  path: "/sns/component/jscode2session",
  method: "GET",
  token: "component_access_token",
  singleUse: true,
  response: Schema.Struct({
    openid: Schema.NonEmptyString,
    session_key: Schema.Redacted(Schema.NonEmptyString),
    unionid: Schema.optional(Schema.String)
  })
})

/**
 * Exchanges a `wx.login()` code of the Mini Program `authorizerAppId` for the
 * user's session. A wrong, expired or foreign code is a `UserCodeError`
 * (`Invalid`), a used one `Used`, a user WeChat rates high-risk `Blocked`; a
 * Mini Program that has not authorized the component a `PermissionError`
 * (`NotAuthorized`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const exchange = Effect.fn("MiniProgramSession.exchange")(function*(
  authorizerAppId: string,
  jsCode: string | Redacted.Redacted<string>
): Effect.fn.Return<Session, ComponentTokenError, WeChatClient | ComponentToken> {
  yield* Effect.annotateCurrentSpan("wechat.authorizer_appid", authorizerAppId)
  yield* checkAppId(authorizerAppId, JsCodeToSession.path)
  const code = typeof jsCode === "string" ? Redacted.make(jsCode) : jsCode
  yield* checkNonEmpty(code, "js_code", JsCodeToSession.path)
  const { appId } = (yield* WeChatClient).config
  const answer = yield* execute(JsCodeToSession, {
    query: { appid: authorizerAppId, js_code: Redacted.value(code), grant_type: "authorization_code", component_appid: appId },
    secrets: [code]
  })
  return {
    authorizerAppId,
    openid: answer.openid,
    sessionKey: answer.session_key,
    ...(answer.unionid === undefined || answer.unionid === "" ? {} : { unionid: answer.unionid })
  }
})
