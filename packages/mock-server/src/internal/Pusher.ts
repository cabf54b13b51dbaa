/**
 * Pushes to a component's push URL, encrypted and signed exactly as WeChat
 * does (it reuses `@wxopen/core`'s `MessageCrypto` and `PushEvent.toXml`): a
 * new verify ticket on start, every 10 minutes of mock time and on demand;
 * authorization events when they happen. A push that does not get `success`
 * back is recorded as failed and tried again after each of the configured
 * delays, in the background: callers wait for the first attempt only.
 *
 * @since 0.1.0
 */
import { MessageCrypto, PushEvent } from "@wxopen/core"
import { DateTime, Either, Redacted } from "effect"
import * as Crypto from "node:crypto"
import type { Component, MockConfig } from "../MockConfig.js"
import * as Guard from "./Guard.js"
import type { WeChatState } from "./WeChatState.js"

/**
 * One attempt at a push.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt {
  /** Real time, ISO 8601. */
  readonly at: string
  readonly status?: number
  readonly answer?: string
  /** Present when the answer was longer than the mock reads (4 KiB): it stopped there. */
  readonly answerTruncated?: true
  readonly error?: string
}

/**
 * A push and how it went.
 *
 * @since 0.1.0
 * @category models
 */
export interface PushRecord {
  readonly id: number
  readonly componentAppId: string
  readonly infoType: string
  readonly url: string
  readonly attempts: Array<Attempt>
  delivered: boolean
}

/**
 * How often a new verify ticket is pushed, in mock time.
 *
 * @since 0.1.0
 * @category constants
 */
export const ticketInterval = 10 * 60_000

const keptPushes = 200
const attemptTimeoutMs = 5_000
// How much of an answer is read: `success` needs 7 bytes, and 200 characters are kept.
const answerBytes = 4 * 1024

/** A component's message crypto, as WeChat holds it (the configuration's key is checked at start). */
export const cryptoOf = (c: Component): MessageCrypto.MessageCrypto =>
  Either.getOrThrow(MessageCrypto.make({
    appId: c.appId,
    token: Redacted.make(c.token),
    encodingAesKey: Redacted.make(c.encodingAesKey)
  }))

/**
 * The pusher of one mock.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly config: MockConfig
  readonly state: WeChatState
  readonly clock: { readonly now: () => number }
}) => {
  const { clock, config, state } = options
  let pushes: Array<PushRecord> = []
  let next = 1
  let closed = false
  const lastTicketAt = new Map<string, number>()
  const inFlight = new Set<AbortController>()

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      signal.addEventListener("abort", () => {
        clearTimeout(timer)
        resolve()
      }, { once: true })
    })

  // Answers once the first attempt is over; the retries, if any, go on in the background.
  const deliver = (c: Component, event: PushEvent.PushEvent): Promise<PushRecord | undefined> => {
    if (c.pushUrl === undefined || closed) return Promise.resolve(undefined)
    const pushUrl = c.pushUrl
    const crypto = cryptoOf(c)
    const record: PushRecord = { id: next++, componentAppId: c.appId, infoType: event.infoType, url: pushUrl, attempts: [], delivered: false }
    pushes.push(record)
    if (pushes.length > keptPushes) pushes = pushes.slice(-keptPushes)
    const controller = new AbortController()
    inFlight.add(controller)

    const attempt = async () => {
      const timestamp = String(Math.floor(clock.now() / 1000))
      const nonce = String(Crypto.randomInt(1_000_000_000))
      const encrypted = crypto.encrypt(PushEvent.toXml(event))
      const query = new URLSearchParams({
        signature: Crypto.createHash("sha1").update([c.token, timestamp, nonce].sort().join("")).digest("hex"),
        timestamp,
        nonce,
        encrypt_type: "aes",
        msg_signature: crypto.sign(timestamp, nonce, encrypted)
      })
      const url = Guard.withQuery(pushUrl, query)
      const body = `<xml><AppId><![CDATA[${c.appId}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`
      const at = new Date().toISOString()
      // Checked at every attempt, whatever set the URL: a push never leaves for a host the configuration does not name.
      const refused = Guard.pushRefusal(pushUrl, config.pushHosts)
      if (refused !== undefined) {
        record.attempts.push({ at, error: refused })
        return
      }
      try {
        const response = await fetch(url, {
          method: "POST",
          // A redirect is an answer, not a new destination.
          redirect: "manual",
          body,
          headers: { "content-type": "text/xml" },
          signal: AbortSignal.any([controller.signal, AbortSignal.timeout(attemptTimeoutMs)])
        })
        const { text, truncated } = await Guard.readAtMost(response, answerBytes)
        const answer = text.slice(0, 200)
        record.attempts.push({ at, status: response.status, answer, ...(truncated ? { answerTruncated: true as const } : {}) })
        record.delivered = response.status === 200 && text === "success"
      } catch (cause) {
        record.attempts.push({ at, error: cause instanceof Error ? cause.message : String(cause) })
      }
    }

    const retries = async () => {
      for (const delay of config.pushRetryDelaysMs) {
        if (record.delivered || controller.signal.aborted) break
        await sleep(delay, controller.signal)
        if (controller.signal.aborted) break
        await attempt()
      }
    }

    return attempt().then(() => {
      void retries().finally(() => inFlight.delete(controller))
      return record
    })
  }

  const pushTicket = async (appId: string) => {
    const c = state.component(appId)
    if (c === undefined) return undefined
    const issued = state.issueTicket(appId)
    lastTicketAt.set(appId, issued.createdAt)
    const push = await deliver(c, new PushEvent.VerifyTicketEvent({
      infoType: "component_verify_ticket",
      appId,
      createTime: DateTime.unsafeMake(issued.createdAt),
      ticket: Redacted.make(issued.ticket)
    }))
    return { ...issued, push }
  }

  return {
    pushTicket,
    /** Pushes `authorized` (or `updateauthorized`) for an authorization just confirmed. */
    pushAuthorization: (
      componentAppId: string,
      authorizerAppId: string,
      issued: { readonly authorizationCode: string; readonly expiresAt: number; readonly infoType: "authorized" | "updateauthorized" },
      options: { readonly preAuthCode?: unknown }
    ) => {
      const c = state.component(componentAppId)
      if (c === undefined) return Promise.resolve(undefined)
      const fields = {
        appId: componentAppId,
        createTime: DateTime.unsafeMake(clock.now()),
        authorizerAppId,
        authorizationCode: Redacted.make(issued.authorizationCode),
        authorizationCodeExpiredTime: DateTime.unsafeMake(issued.expiresAt),
        ...(typeof options.preAuthCode === "string" ? { preAuthCode: options.preAuthCode } : {})
      }
      return deliver(
        c,
        issued.infoType === "authorized"
          ? new PushEvent.AuthorizedEvent({ infoType: "authorized", ...fields })
          : new PushEvent.UpdateAuthorizedEvent({ infoType: "updateauthorized", ...fields })
      )
    },
    /** Pushes `unauthorized` for an authorization just revoked. */
    pushUnauthorized: (componentAppId: string, authorizerAppId: string) => {
      const c = state.component(componentAppId)
      return c === undefined
        ? Promise.resolve(undefined)
        : deliver(c, new PushEvent.UnauthorizedEvent({
          infoType: "unauthorized",
          appId: componentAppId,
          createTime: DateTime.unsafeMake(clock.now()),
          authorizerAppId
        }))
    },
    /** Issues and pushes a ticket to every component whose last one is 10 minutes (mock time) old. */
    tick: (): Array<Promise<unknown>> => {
      const now = clock.now()
      return config.components
        .filter((c) => now - (lastTicketAt.get(c.appId) ?? -Infinity) >= ticketInterval)
        .map((c) => pushTicket(c.appId))
    },
    list: (): ReadonlyArray<PushRecord> => pushes,
    /** Forgets pushes and stops the retries under way: a ticket from before a reset never lands after it. */
    reset: (): void => {
      for (const controller of inFlight) controller.abort()
      inFlight.clear()
      pushes = []
      lastTicketAt.clear()
    },
    /** Stops retrying; pushes under way end at once. */
    close: (): void => {
      closed = true
      for (const controller of inFlight) controller.abort()
    }
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type Pusher = ReturnType<typeof make>
