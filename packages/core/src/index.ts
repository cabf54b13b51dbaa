/**
 * wxopen: the WeChat Open Platform third-party platform (component) flow as
 * Effect services.
 *
 * @since 0.1.0
 */

/**
 * The messages and events of authorized accounts, decoded.
 *
 * @since 0.1.0
 */
export * as AccountMessage from "./AccountMessage.js"

/**
 * The receiver of authorized accounts' messages and events, with passive replies.
 *
 * @since 0.1.0
 */
export * as AccountPush from "./AccountPush.js"

/**
 * An API's daily quota, used and left, and deliberate resets (10 a month).
 *
 * @since 0.1.0
 */
export * as ApiQuota from "./ApiQuota.js"

/**
 * The form of a WeChat appid (`wx` and 16 lowercase hexadecimal characters), checked
 * where an appid enters wxopen.
 *
 * @since 0.1.0
 */
export * as AppId from "./AppId.js"

/**
 * Exchanging an authorization code for the account's tokens.
 *
 * @since 0.1.0
 */
export * as Authorization from "./Authorization.js"

/**
 * Authorization links for the merchant, PC and mobile.
 *
 * @since 0.1.0
 */
export * as AuthorizationUrl from "./AuthorizationUrl.js"

/**
 * Calls as an account that authorized the component: typed, or raw through an `HttpClient`.
 *
 * @since 0.1.0
 */
export * as AuthorizerClient from "./AuthorizerClient.js"

/**
 * The accounts that authorize the component, as WeChat lists them, and the store reconciled with the list.
 *
 * @since 0.1.0
 */
export * as AuthorizerList from "./AuthorizerList.js"

/**
 * The profile of an authorized account: its kind, types and granted permission sets.
 *
 * @since 0.1.0
 */
export * as AuthorizerProfile from "./AuthorizerProfile.js"

/**
 * The access tokens of the accounts that authorized the component.
 *
 * @since 0.1.0
 */
export * as AuthorizerToken from "./AuthorizerToken.js"

/**
 * The component's appid, secret, API base URL and token settings.
 *
 * @since 0.1.0
 */
export * as ComponentConfig from "./ComponentConfig.js"

/**
 * The receiver of WeChat's pushes, and api_start_push_ticket.
 *
 * @since 0.1.0
 */
export * as ComponentPush from "./ComponentPush.js"

/**
 * The component access token, single-flight and compare-and-set.
 *
 * @since 0.1.0
 */
export * as ComponentToken from "./ComponentToken.js"

/**
 * Customer-service messages (custom/send), as an account.
 *
 * @since 0.1.0
 */
export * as CustomerMessage from "./CustomerMessage.js"

/**
 * WeChat's message encryption (WXBizMsgCrypt), both ways.
 *
 * @since 0.1.0
 */
export * as MessageCrypto from "./MessageCrypto.js"

/**
 * Mini Program login through the component: a wx.login() code exchanged for the openid and session_key.
 *
 * @since 0.1.0
 */
export * as MiniProgramSession from "./MiniProgramSession.js"

/**
 * Passive replies to an account's messages: text, image, voice, video, music, news.
 *
 * @since 0.1.0
 */
export * as PassiveReply from "./PassiveReply.js"

/**
 * Fresh, never cached, pre-authorization codes.
 *
 * @since 0.1.0
 */
export * as PreAuthCode from "./PreAuthCode.js"

/**
 * The events WeChat pushes, decoded.
 *
 * @since 0.1.0
 */
export * as PushEvent from "./PushEvent.js"

/**
 * WeChat's release check (全网发布): the answers its test accounts expect.
 *
 * @since 0.1.0
 */
export * as ReleaseCheck from "./ReleaseCheck.js"

/**
 * What WeChat recorded of a request, looked up by its rid (from an error, in one call).
 *
 * @since 0.1.0
 */
export * as RequestRecord from "./RequestRecord.js"

/**
 * The retry policy, a replaceable `Schedule`.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * Where the verify ticket and the tokens are kept.
 *
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

/**
 * The link that logs a user into an authorized Official Account's web pages, through the component.
 *
 * @since 0.1.0
 */
export * as UserAuthorizationUrl from "./UserAuthorizationUrl.js"

/**
 * A user's OAuth tokens for an authorized account: code exchange, refresh, and the user's profile.
 *
 * @since 0.1.0
 */
export * as UserToken from "./UserToken.js"

/**
 * The one request path to WeChat, and endpoints as data.
 *
 * @since 0.1.0
 */
export * as WeChatClient from "./WeChatClient.js"

/**
 * Typed errors, one family per WeChat errcode family.
 *
 * @since 0.1.0
 */
export * as WeChatError from "./WeChatError.js"
