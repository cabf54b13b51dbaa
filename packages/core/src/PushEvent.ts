/**
 * What WeChat pushes to the component's event URL, once decrypted: the XML
 * payload decoded with Schema into typed events.
 *
 * - `component_verify_ticket`: {@link VerifyTicketEvent}, every ten minutes;
 * - `authorized` and `updateauthorized`: {@link AuthorizedEvent} and
 *   {@link UpdateAuthorizedEvent}, with the authorization code to exchange;
 * - `unauthorized`: {@link UnauthorizedEvent};
 * - any other `InfoType`: {@link OtherEvent}, with its fields as sent, never
 *   rejected.
 *
 * Times are absolute (`CreateTime`, `AuthorizationCodeExpiredTime` are Unix
 * seconds on the wire); the ticket and the authorization code are `Redacted`.
 * Each event also encodes back to WeChat's XML ({@link toXml}), for the mock
 * server and tests.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { PushEvent } from "@wxopen/core"
 *
 * const event = PushEvent.fromXml(
 *   "<xml><AppId><![CDATA[wx1234567890abcdef]]></AppId><CreateTime>1700000000</CreateTime>" +
 *     "<InfoType><![CDATA[unauthorized]]></InfoType><AuthorizerAppid><![CDATA[wxfedcba9876543210]]></AuthorizerAppid></xml>"
 * )
 * if (Either.isRight(event) && event.right._tag === "UnauthorizedEvent") console.log(event.right.authorizerAppId)
 * ```
 *
 * @since 0.1.0
 */
import { DateTime, Either, Redacted, Schema } from "effect"
import { XMLBuilder } from "fast-xml-parser"
import { describeIssues } from "./internal/issues.js"
import { parseFields } from "./internal/xml.js"

/**
 * Unix seconds as WeChat writes them, as a `DateTime.Utc`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnixSeconds = Schema.transform(
  // The upper bound is the last second a Date can hold.
  Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 8_640_000_000_000)),
  Schema.DateTimeUtcFromSelf,
  {
    strict: true,
    decode: (seconds) => DateTime.unsafeMake(seconds * 1000),
    encode: (time) => Math.floor(DateTime.toEpochMillis(time) / 1000)
  }
)

const wire = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

const common = {
  appId: wire(Schema.NonEmptyString, "AppId"),
  createTime: wire(UnixSeconds, "CreateTime")
}

const authorization = {
  ...common,
  authorizerAppId: wire(Schema.NonEmptyString, "AuthorizerAppid"),
  authorizationCode: wire(Schema.Redacted(Schema.NonEmptyString), "AuthorizationCode"),
  authorizationCodeExpiredTime: wire(UnixSeconds, "AuthorizationCodeExpiredTime"),
  // Informative only: an empty or missing one must not cost the merchant the authorization code next to it.
  preAuthCode: Schema.optionalWith(Schema.String, { exact: true }).pipe(Schema.fromKey("PreAuthCode"))
}

/**
 * A component verify ticket, pushed every ten minutes.
 *
 * @since 0.1.0
 * @category models
 */
export class VerifyTicketEvent extends Schema.Class<VerifyTicketEvent>("@wxopen/core/VerifyTicketEvent")({
  infoType: wire(Schema.Literal("component_verify_ticket"), "InfoType"),
  ...common,
  ticket: wire(Schema.Redacted(Schema.NonEmptyString), "ComponentVerifyTicket")
}) {
  /** Discriminates the {@link PushEvent} union. */
  get _tag(): "VerifyTicketEvent" {
    return "VerifyTicketEvent"
  }
}

/**
 * An account authorized the component; its authorization code is to be
 * exchanged (`api_query_auth`) before it expires.
 *
 * @since 0.1.0
 * @category models
 */
export class AuthorizedEvent extends Schema.Class<AuthorizedEvent>("@wxopen/core/AuthorizedEvent")({
  infoType: wire(Schema.Literal("authorized"), "InfoType"),
  ...authorization
}) {
  /** Discriminates the {@link PushEvent} union. */
  get _tag(): "AuthorizedEvent" {
    return "AuthorizedEvent"
  }
}

/**
 * An account that had authorized the component changed what it granted.
 *
 * @since 0.1.0
 * @category models
 */
export class UpdateAuthorizedEvent extends Schema.Class<UpdateAuthorizedEvent>("@wxopen/core/UpdateAuthorizedEvent")({
  infoType: wire(Schema.Literal("updateauthorized"), "InfoType"),
  ...authorization
}) {
  /** Discriminates the {@link PushEvent} union. */
  get _tag(): "UpdateAuthorizedEvent" {
    return "UpdateAuthorizedEvent"
  }
}

/**
 * An account revoked its authorization.
 *
 * @since 0.1.0
 * @category models
 */
export class UnauthorizedEvent extends Schema.Class<UnauthorizedEvent>("@wxopen/core/UnauthorizedEvent")({
  infoType: wire(Schema.Literal("unauthorized"), "InfoType"),
  ...common,
  authorizerAppId: wire(Schema.NonEmptyString, "AuthorizerAppid")
}) {
  /** Discriminates the {@link PushEvent} union. */
  get _tag(): "UnauthorizedEvent" {
    return "UnauthorizedEvent"
  }
}

/**
 * A push of a kind wxopen does not model, with its fields as WeChat sent
 * them. The fields are `Redacted`, since some kinds carry authorization codes:
 * logging the event does not show them.
 *
 * @since 0.1.0
 * @category models
 */
export class OtherEvent extends Schema.Class<OtherEvent>("@wxopen/core/OtherEvent")({
  infoType: Schema.String,
  fields: Schema.RedactedFromSelf(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {
  /** Discriminates the {@link PushEvent} union. */
  get _tag(): "OtherEvent" {
    return "OtherEvent"
  }
}

/**
 * Any push; `_tag` tells which.
 *
 * @since 0.1.0
 * @category models
 */
export type PushEvent = VerifyTicketEvent | AuthorizedEvent | UpdateAuthorizedEvent | UnauthorizedEvent | OtherEvent

/**
 * A decrypted payload that is not a push: not XML, or a known `InfoType`
 * whose fields are missing or malformed. `detail` names fields, never values.
 *
 * @since 0.1.0
 * @category errors
 */
export class PushEventError extends Schema.TaggedError<PushEventError>()("PushEventError", {
  reason: Schema.Literal("MalformedXml", "UnexpectedShape"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `the push is authentic but cannot be read (${this.detail}); if WeChat changed the format, report it to wxopen`
  }
}

const known = {
  component_verify_ticket: VerifyTicketEvent,
  authorized: AuthorizedEvent,
  updateauthorized: UpdateAuthorizedEvent,
  unauthorized: UnauthorizedEvent
} as const

/**
 * Reads a decrypted payload. A known `InfoType` must have its fields; any
 * other is an {@link OtherEvent}.
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromXml = (xml: string): Either.Either<PushEvent, PushEventError> =>
  Either.flatMap(
    Either.mapLeft(parseFields(xml), (detail) => new PushEventError({ reason: "MalformedXml", detail })),
    (fields) => {
      const infoType = fields.InfoType
      if (typeof infoType !== "string" || infoType === "") {
        return Either.left(new PushEventError({ reason: "UnexpectedShape", detail: "InfoType: missing" }))
      }
      if (!Object.hasOwn(known, infoType)) return Either.right(new OtherEvent({ infoType, fields: Redacted.make(fields) }))
      const schema = (known as Record<string, Schema.Schema<PushEvent, any>>)[infoType]!
      return Either.mapLeft(
        Schema.decodeUnknownEither(schema)(fields),
        (error) => new PushEventError({ reason: "UnexpectedShape", detail: `${infoType}: ${describeIssues(error, "payload")}` })
      )
    }
  )

const builder = new XMLBuilder({ cdataPropName: "__cdata" })

/**
 * The XML WeChat would push for an event: strings in CDATA, numbers bare.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toXml = (event: PushEvent): string => {
  const fields: Record<string, unknown> = event instanceof OtherEvent
    ? { ...Redacted.value(event.fields), InfoType: event.infoType }
    : Schema.encodeSync(known[event.infoType] as Schema.Schema<PushEvent, Record<string, unknown>>)(event)
  const xml: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(fields)) {
    xml[name] = typeof value === "string" && !/^\d+$/.test(value) ? { __cdata: value } : value
  }
  return builder.build({ xml }) as string
}
