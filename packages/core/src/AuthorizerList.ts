/**
 * The accounts that authorize the component, as WeChat lists them
 * (`api_get_authorizer_list`), and the store reconciled with that list.
 *
 * {@link stream} reads the list page by page (at most 500 accounts a page,
 * WeChat's limit), one request per page, as the stream is pulled.
 * {@link reconcile} walks it once: a refresh token WeChat lists for an account
 * the store holds nothing for is stored (a lost refresh token refilled, never
 * over an authorization the store holds), and the accounts the store holds
 * that WeChat does not list are reported (an `unauthorized` push that never
 * arrived). With `forget: true` each of those is checked with
 * `api_get_authorizer_info` first, and forgotten only if WeChat answers that
 * it no longer authorizes the component (61003): an account that authorized
 * while the list was read is kept.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AuthorizerList } from "@wxopen/core"
 *
 * // nightly: refill lost refresh tokens, and forget the accounts that left without a push
 * const nightly = AuthorizerList.reconcile({ forget: true }).pipe(
 *   Effect.tap((result) =>
 *     Effect.log(`${result.listed} listed, ${result.refilled.length} refilled, ${result.forgotten.length} forgotten`))
 * )
 * ```
 *
 * @since 0.1.0
 */
import { Chunk, Effect, Option, Redacted, Schema, Stream } from "effect"
import * as AuthorizerProfile from "./AuthorizerProfile.js"
import { type ComponentToken, type ComponentTokenError, execute } from "./ComponentToken.js"
import * as Authorizers from "./internal/authorizers.js"
import { TokenStore } from "./TokenStore.js"
import { endpoint, WeChatClient } from "./WeChatClient.js"
import { InvalidRequestError } from "./WeChatError.js"

/**
 * One account in WeChat's list.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly authorizerAppId: string
  /** Absent for some entries, as users of WeChat's list report. */
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  /** When the account authorized (Unix epoch milliseconds). */
  readonly authorizedAt: number
}

/**
 * The most accounts WeChat answers in one page.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxPageSize = 500

const GetAuthorizerList = endpoint({
  path: "/cgi-bin/component/api_get_authorizer_list",
  token: "component_access_token",
  response: Schema.Struct({
    total_count: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
    list: Schema.optionalWith(
      Schema.Array(Schema.Struct({
        authorizer_appid: Schema.NonEmptyString,
        refresh_token: Schema.optional(Schema.Redacted(Schema.String)),
        auth_time: Schema.optionalWith(Schema.Number, { default: () => 0 })
      })),
      { default: () => [] }
    )
  })
})

/**
 * Every account in WeChat's list, `pageSize` (1 to 500, default 500) a
 * request. Fails with an `InvalidRequestError` for a page size WeChat would
 * refuse, before any request.
 *
 * @since 0.1.0
 * @category constructors
 */
export const stream = (
  options: { readonly pageSize?: number } = {}
): Stream.Stream<Entry, ComponentTokenError, WeChatClient | ComponentToken> => {
  const pageSize = options.pageSize ?? maxPageSize
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize) {
    return Stream.fail(
      new InvalidRequestError({
        endpoint: GetAuthorizerList.path,
        reason: "PageSize",
        detail: `a page holds 1 to ${maxPageSize} accounts, and ${pageSize} was asked`
      })
    )
  }
  return Stream.paginateChunkEffect(0, (offset) =>
    Effect.gen(function*() {
      const { appId } = (yield* WeChatClient).config
      const page = yield* execute(GetAuthorizerList, { body: { component_appid: appId, offset, count: pageSize } })
      const entries = page.list.map((entry): Entry => ({
        authorizerAppId: entry.authorizer_appid,
        refreshToken: Option.filter(Option.fromNullable(entry.refresh_token), (token) => Redacted.value(token) !== ""),
        authorizedAt: entry.auth_time * 1000
      }))
      const next = offset + entries.length
      // An empty page ends the list too: WeChat's total may count an account that left while the list was read.
      return [Chunk.unsafeFromArray(entries), entries.length > 0 && next < page.total_count ? Option.some(next) : Option.none()] as const
    }).pipe(Effect.withSpan("AuthorizerList.page", { attributes: { offset, count: pageSize } })))
}

/**
 * What a reconciliation found and did, by account appid.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reconciliation {
  /** How many accounts WeChat listed. */
  readonly listed: number
  /** Listed accounts whose refresh token the store lacked, and now holds. */
  readonly refilled: ReadonlyArray<string>
  /** Listed accounts without a refresh token in the list. */
  readonly withoutRefreshToken: ReadonlyArray<string>
  /** Accounts the store holds that WeChat did not list, sorted. */
  readonly unlisted: ReadonlyArray<string>
  /** Of those, the ones forgotten (`forget: true`, and WeChat confirmed with 61003). */
  readonly forgotten: ReadonlyArray<string>
}

/**
 * Reconciles the store with WeChat's list; see the module's documentation.
 * `forget` (default false) forgets the unlisted accounts WeChat confirms have
 * left.
 *
 * @since 0.1.0
 * @category constructors
 */
export const reconcile = (
  options: { readonly forget?: boolean; readonly pageSize?: number } = {}
): Effect.Effect<Reconciliation, ComponentTokenError, WeChatClient | ComponentToken | TokenStore> =>
  Effect.gen(function*() {
    const { appId } = (yield* WeChatClient).config
    const store = yield* TokenStore
    const listed = new Set<string>()
    const refilled: Array<string> = []
    const withoutRefreshToken: Array<string> = []
    // In the list's order, whatever order the stores answer in.
    yield* stream(options.pageSize === undefined ? {} : { pageSize: options.pageSize }).pipe(
      Stream.mapEffect((entry) =>
        Option.match(entry.refreshToken, {
          onNone: () => Effect.succeed({ entry, stored: false }),
          onSome: (token) =>
            Effect.map(Authorizers.refill(store, appId, entry.authorizerAppId, token, entry.authorizedAt), (stored) => ({ entry, stored }))
        }), { concurrency: 16 }),
      Stream.runForEach(({ entry, stored }) =>
        Effect.sync(() => {
          listed.add(entry.authorizerAppId)
          if (Option.isNone(entry.refreshToken)) withoutRefreshToken.push(entry.authorizerAppId)
          if (stored) refilled.push(entry.authorizerAppId)
        })
      )
    )
    const unlisted = (yield* store.listAuthorizers(appId)).filter((account) => !listed.has(account)).sort()
    const forgotten: Array<string> = []
    if (options.forget === true) {
      // Only on WeChat's word: a page read while the list changed can miss an account that still authorizes.
      yield* Effect.forEach(unlisted, (account) =>
        AuthorizerProfile.get(account).pipe(
          Effect.asVoid,
          Effect.catchIf(Authorizers.isRevoked, () =>
            // Forgotten unless it authorized again after the check was sent.
            Effect.map(store.getAuthorizer(appId, account), (now) => Option.isNone(now) && forgotten.push(account)))
        ), { concurrency: 4, discard: true })
    }
    return { listed: listed.size, refilled, withoutRefreshToken, unlisted, forgotten: forgotten.sort() }
  }).pipe(Effect.withSpan("AuthorizerList.reconcile"))
