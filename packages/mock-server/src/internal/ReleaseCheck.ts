/**
 * WeChat's release check (全网发布接入检测), run against a component's
 * message URL on demand. WeChat's test account (the Official Account
 * `wx570bc396a51b8ff8`, `gh_3c884a361561`, or the Mini Program
 * `wxd101a85aa106f53e`, `gh_8dad206e9538`) is authorized to the component,
 * and its user sends:
 *
 * - the text `TESTCOMPONENT_MSG_TYPE_TEXT`, expecting the encrypted passive
 *   text reply `TESTCOMPONENT_MSG_TYPE_TEXT_callback` (Official Account);
 * - the text `QUERY_AUTH_CODE:<auth_code>`, with an authorization code for
 *   the test account, expecting an empty body at once (WeChat's 全网发布
 *   documentation: 立即返回空字符串; `success` fails the case), then,
 *   within the wait, the code exchanged with `api_query_auth` and the
 *   customer-service text `<auth_code>_from_api` sent to the user with
 *   `/cgi-bin/message/custom/send` as the test account (both kinds);
 * - the event `LOCATION`, expecting the passive text reply
 *   `LOCATIONfrom_callback` (Official Account).
 *
 * Each case says what was expected and what came back; the code never
 * appears in a report (`<auth_code>` stands for it).
 *
 * @internal
 */
import type { AccountMessages, Delivery, Fields } from "./AccountMessages.js"
import type { CustomerMessages } from "./CustomerMessages.js"
import { defaultOpenid } from "./UserLogin.js"
import { testAccounts, type WeChatState } from "./WeChatState.js"

/** One case of the check. */
export interface Case {
  readonly name: string
  readonly passed: boolean
  readonly expected: string
  readonly received: string
  /** Why it failed, or how long the answer took. */
  readonly detail: string
}

/** The check's outcome: passed when every case passed. */
export interface Report {
  readonly passed: boolean
  readonly kind: "officialAccount" | "miniProgram"
  /** The test account that sent the messages; it stays authorized to the component afterwards, as on WeChat. */
  readonly authorizerAppId: string
  readonly cases: ReadonlyArray<Case>
}

/** The longest wait for the customer-service message, in seconds. */
export const maxWaitSeconds = 60

const textCase = { content: "TESTCOMPONENT_MSG_TYPE_TEXT", reply: "TESTCOMPONENT_MSG_TYPE_TEXT_callback" }
const event = { Event: "LOCATION", Latitude: 23.137466, Longitude: 113.352425, Precision: 119.385040 }

/** What a delivery's answer was, in a sentence. */
const described = (delivery: Delivery): string => {
  if (delivery.error !== undefined) return delivery.error
  if (delivery.status !== 200) return `HTTP ${delivery.status}${delivery.body === "" ? "" : `: ${JSON.stringify(delivery.body?.slice(0, 200))}`}`
  const reply = delivery.reply!
  switch (reply.kind) {
    case "success":
      return "success"
    case "empty":
      return "an empty answer"
    case "encrypted":
      return reply.verified
        ? `an encrypted ${reply.fields.MsgType ?? "(no MsgType)"} reply to ${reply.fields.ToUserName ?? "(no ToUserName)"}: Content ${
          JSON.stringify(reply.fields.Content ?? null)
        }`
        : `an encrypted reply that fails WeChat's checks: ${reply.error}`
    case "unencrypted":
      return `an unencrypted reply: Content ${JSON.stringify(reply.fields.Content ?? null)} (${reply.error})`
    case "other":
      return `${JSON.stringify(delivery.body?.slice(0, 200))} (${reply.error})`
  }
}

/** The release check of one mock. */
export const make = (options: {
  readonly state: WeChatState
  readonly messages: AccountMessages
  readonly customerMessages: CustomerMessages
}) => {
  const { customerMessages, messages, state } = options

  /** A case expecting the passive text reply `content`, sent to `openid` by the test account. */
  const passiveCase = (name: string, delivery: Delivery, content: string, openid: string, userName: string): Case => {
    const expected = `HTTP 200 and an encrypted text reply to ${openid}: Content ${JSON.stringify(content)}`
    const received = described(delivery)
    const reply = delivery.reply
    const fields = reply?.kind === "encrypted" && reply.verified ? reply.fields : undefined
    const problem = fields === undefined
      ? "no verified encrypted reply"
      : fields.MsgType !== "text"
      ? `MsgType is ${JSON.stringify(fields.MsgType ?? null)}, not "text"`
      : fields.Content !== content
      ? "the Content differs"
      : fields.ToUserName !== openid
      ? `ToUserName must be the sender, ${openid}`
      : fields.FromUserName !== userName
      ? `FromUserName must be the account's original id, ${userName}`
      : undefined
    return {
      name,
      passed: problem === undefined,
      expected,
      received,
      detail: problem ?? `answered in ${delivery.elapsedMs} ms`
    }
  }

  const apiCase = async (
    componentAppId: string,
    authorizerAppId: string,
    openid: string,
    waitSeconds: number
  ): Promise<Case> => {
    const issued = state.authorize({ componentAppId, authorizerAppId })
    if ("error" in issued) throw new Error(issued.error)
    const code = issued.authorizationCode
    const mask = (text: string) => text.replaceAll(code, "<auth_code>")
    const expectedText = "<auth_code>_from_api"
    const expected = `"" (an empty body) at once; then, within ${waitSeconds} s, api_query_auth with the code and ` +
      `/cgi-bin/message/custom/send of the text ${JSON.stringify(expectedText)} to ${openid} as ${authorizerAppId}`
    const firstId = customerMessages.nextId
    const delivery = await messages.deliver(componentAppId, authorizerAppId, { MsgType: "text", Content: `QUERY_AUTH_CODE:${code}`, FromUserName: openid })
    if ("refused" in delivery) throw new Error(delivery.refused)
    const answer = mask(described(delivery))
    // WeChat's documentation asks for an empty string, at once: nothing else passes here, `success` included.
    if (!(delivery.status === 200 && delivery.reply?.kind === "empty")) {
      // The body as received (its first 200 characters), and what it was read as when it was a passive reply.
      const body = delivery.body
      const received = delivery.status === 200 && body !== undefined
        ? `${JSON.stringify(mask(body.slice(0, 200)))}${delivery.bodyTruncated === true || body.length > 200 ? " (cut)" : ""}${
          delivery.reply?.kind === "encrypted" || delivery.reply?.kind === "unencrypted" ? ` (${answer})` : ""
        }`
        : answer
      return {
        name: "api: QUERY_AUTH_CODE",
        passed: false,
        expected,
        received,
        detail: "the first answer must be an empty body (\"\"), at once: WeChat's documentation says 立即返回空字符串, and success is not empty"
      }
    }
    const deadline = Date.now() + waitSeconds * 1000
    const sent = () =>
      customerMessages.since(firstId - 1).filter(({ message: m }) =>
        m.componentAppId === componentAppId && m.authorizerAppId === authorizerAppId
      )
    const matching = () =>
      sent().find(({ message: m, text }) => m.touser === openid && m.msgtype === "text" && text === `${code}_from_api`)
    const exchanged = () => state.state.authCodes[code]?.usedAt !== undefined
    while (Date.now() < deadline && !(exchanged() && matching() !== undefined)) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const messagesSent = sent().map(({ message: m, text }) =>
      `${m.msgtype} to ${m.touser}${text === undefined ? "" : `: ${JSON.stringify(mask(text))}`}`
    )
    const received = `${answer}; ${exchanged() ? "the code exchanged" : "the code not exchanged"}; ` +
      (messagesSent.length === 0 ? "no customer-service message" : `customer-service messages: ${messagesSent.join(", ")}`)
    const problem = !exchanged()
      ? `api_query_auth was not called with the code within ${waitSeconds} s`
      : matching() === undefined
      ? `no customer-service text ${JSON.stringify(expectedText)} to ${openid} within ${waitSeconds} s`
      : undefined
    return { name: "api: QUERY_AUTH_CODE", passed: problem === undefined, expected, received, detail: problem ?? `answered in ${delivery.elapsedMs} ms` }
  }

  return {
    /** Runs the check; `refused` when it cannot run (an unknown component, no message URL). */
    run: async (
      componentAppId: string,
      options: { readonly kind: "officialAccount" | "miniProgram"; readonly waitSeconds: number }
    ): Promise<Report | { readonly refused: string; readonly status: 400 | 404 }> => {
      const c = state.component(componentAppId)
      if (c === undefined) return { refused: "unknown component", status: 404 }
      if (c.messageUrl === undefined) {
        return { refused: "the component has no messageUrl: set it in the configuration or with PUT /__admin/components/:appId/message-url", status: 400 }
      }
      const account = testAccounts[options.kind]
      const openid = defaultOpenid(account.appId)
      // The account is authorized first: the passive cases need it, and the api case issues its code the same way.
      const cases: Array<Case> = []
      const push = async (fields: Fields) => {
        const delivery = await messages.deliver(componentAppId, account.appId, { FromUserName: openid, ...fields })
        if ("refused" in delivery) throw new Error(delivery.refused)
        return delivery
      }
      if (!state.isAuthorized(componentAppId, account.appId)) state.authorize({ componentAppId, authorizerAppId: account.appId })
      if (options.kind === "officialAccount") {
        const delivery = await push({ MsgType: "text", Content: textCase.content })
        cases.push(passiveCase("text: TESTCOMPONENT_MSG_TYPE_TEXT", delivery, textCase.reply, openid, account.userName))
      }
      cases.push(await apiCase(componentAppId, account.appId, openid, options.waitSeconds))
      if (options.kind === "officialAccount") {
        const delivery = await push({ MsgType: "event", ...event })
        cases.push(passiveCase(`event: ${event.Event}`, delivery, `${event.Event}from_callback`, openid, account.userName))
      }
      return { passed: cases.every((c) => c.passed), kind: options.kind, authorizerAppId: account.appId, cases }
    }
  }
}

/** @internal */
export type ReleaseCheck = ReturnType<typeof make>
