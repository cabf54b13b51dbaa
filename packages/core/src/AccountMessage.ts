/**
 * What WeChat forwards to the platform's "消息与事件接收URL" for an account
 * that authorized the component, once decrypted: the users' messages and the
 * account's events, decoded with Schema into typed kinds.
 *
 * - messages (`MsgType`): `text`, `image`, `voice`, `video`, `shortvideo`,
 *   `location`, `link`;
 * - events (`MsgType` `event`, then `Event`): `subscribe` (also from a QR
 *   code, with its scene in `eventKey`), `unsubscribe`, `SCAN`, `LOCATION`,
 *   `CLICK`, `VIEW`;
 * - anything else, or a known kind whose fields WeChat changed:
 *   {@link OtherMessage}, with its fields as sent, never refused.
 *
 * `fromUserName` is the user's openid, `toUserName` the account's original
 * id (`gh_…`); `createTime` is a `DateTime`.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { AccountMessage } from "@wxopen/core"
 *
 * const message = AccountMessage.fromXml(
 *   "<xml><ToUserName><![CDATA[gh_3c884a361561]]></ToUserName><FromUserName><![CDATA[ozy4qt5QUADNXORxCVipKMV9dss0]]></FromUserName>" +
 *     "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>1</MsgId></xml>"
 * )
 * if (Either.isRight(message) && message.right._tag === "TextMessage") console.log(message.right.content)
 * ```
 *
 * @since 0.1.0
 */
import { Either, Schema } from "effect"
import { parseFields } from "./internal/xml.js"
import { UnixSeconds } from "./PushEvent.js"

const wire = <S extends Schema.Schema.Any>(schema: S, key: string) => Schema.propertySignature(schema).pipe(Schema.fromKey(key))
const optional = <S extends Schema.Schema.Any>(schema: S, key: string) =>
  Schema.optionalWith(schema, { exact: true }).pipe(Schema.fromKey(key))

const common = {
  toUserName: wire(Schema.NonEmptyString, "ToUserName"),
  fromUserName: wire(Schema.NonEmptyString, "FromUserName"),
  createTime: wire(UnixSeconds, "CreateTime")
}
const message = <T extends string>(msgType: T) => ({
  ...common,
  msgType: wire(Schema.Literal(msgType), "MsgType"),
  msgId: wire(Schema.NonEmptyString, "MsgId")
})
const event = <T extends string>(name: T) => ({
  ...common,
  msgType: wire(Schema.Literal("event"), "MsgType"),
  event: wire(Schema.Literal(name), "Event")
})
const NumberString = Schema.NumberFromString

/**
 * A text message from a user.
 *
 * @since 0.1.0
 * @category models
 */
export class TextMessage extends Schema.Class<TextMessage>("@wxopen/core/TextMessage")({
  ...message("text"),
  content: wire(Schema.String, "Content")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "TextMessage" {
    return "TextMessage"
  }
}

/**
 * An image from a user: its URL and its media id.
 *
 * @since 0.1.0
 * @category models
 */
export class ImageMessage extends Schema.Class<ImageMessage>("@wxopen/core/ImageMessage")({
  ...message("image"),
  picUrl: wire(Schema.String, "PicUrl"),
  mediaId: wire(Schema.NonEmptyString, "MediaId")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "ImageMessage" {
    return "ImageMessage"
  }
}

/**
 * A voice message from a user; `recognition` when the account turned speech recognition on.
 *
 * @since 0.1.0
 * @category models
 */
export class VoiceMessage extends Schema.Class<VoiceMessage>("@wxopen/core/VoiceMessage")({
  ...message("voice"),
  mediaId: wire(Schema.NonEmptyString, "MediaId"),
  format: wire(Schema.String, "Format"),
  recognition: optional(Schema.String, "Recognition")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "VoiceMessage" {
    return "VoiceMessage"
  }
}

/**
 * A video from a user.
 *
 * @since 0.1.0
 * @category models
 */
export class VideoMessage extends Schema.Class<VideoMessage>("@wxopen/core/VideoMessage")({
  ...message("video"),
  mediaId: wire(Schema.NonEmptyString, "MediaId"),
  thumbMediaId: wire(Schema.String, "ThumbMediaId")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "VideoMessage" {
    return "VideoMessage"
  }
}

/**
 * A short video from a user.
 *
 * @since 0.1.0
 * @category models
 */
export class ShortVideoMessage extends Schema.Class<ShortVideoMessage>("@wxopen/core/ShortVideoMessage")({
  ...message("shortvideo"),
  mediaId: wire(Schema.NonEmptyString, "MediaId"),
  thumbMediaId: wire(Schema.String, "ThumbMediaId")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "ShortVideoMessage" {
    return "ShortVideoMessage"
  }
}

/**
 * A location a user sent: latitude (`Location_X`), longitude (`Location_Y`), map scale and label.
 *
 * @since 0.1.0
 * @category models
 */
export class LocationMessage extends Schema.Class<LocationMessage>("@wxopen/core/LocationMessage")({
  ...message("location"),
  latitude: wire(NumberString, "Location_X"),
  longitude: wire(NumberString, "Location_Y"),
  scale: wire(NumberString, "Scale"),
  label: wire(Schema.String, "Label")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "LocationMessage" {
    return "LocationMessage"
  }
}

/**
 * A link a user shared.
 *
 * @since 0.1.0
 * @category models
 */
export class LinkMessage extends Schema.Class<LinkMessage>("@wxopen/core/LinkMessage")({
  ...message("link"),
  title: wire(Schema.String, "Title"),
  description: wire(Schema.String, "Description"),
  url: wire(Schema.String, "Url")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "LinkMessage" {
    return "LinkMessage"
  }
}

/**
 * A user followed the account; from a QR code with a scene, `eventKey` is
 * `qrscene_` and the scene, and `ticket` the code's ticket.
 *
 * @since 0.1.0
 * @category models
 */
export class SubscribeEvent extends Schema.Class<SubscribeEvent>("@wxopen/core/SubscribeEvent")({
  ...event("subscribe"),
  eventKey: optional(Schema.String, "EventKey"),
  ticket: optional(Schema.String, "Ticket")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "SubscribeEvent" {
    return "SubscribeEvent"
  }
}

/**
 * A user unfollowed the account.
 *
 * @since 0.1.0
 * @category models
 */
export class UnsubscribeEvent extends Schema.Class<UnsubscribeEvent>("@wxopen/core/UnsubscribeEvent")({
  ...event("unsubscribe")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "UnsubscribeEvent" {
    return "UnsubscribeEvent"
  }
}

/**
 * A follower scanned a QR code with a scene (`eventKey`, the scene).
 *
 * @since 0.1.0
 * @category models
 */
export class ScanEvent extends Schema.Class<ScanEvent>("@wxopen/core/ScanEvent")({
  ...event("SCAN"),
  eventKey: wire(Schema.String, "EventKey"),
  ticket: optional(Schema.String, "Ticket")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "ScanEvent" {
    return "ScanEvent"
  }
}

/**
 * A user's location, reported by WeChat when the account asks for it.
 *
 * @since 0.1.0
 * @category models
 */
export class LocationEvent extends Schema.Class<LocationEvent>("@wxopen/core/LocationEvent")({
  ...event("LOCATION"),
  latitude: wire(NumberString, "Latitude"),
  longitude: wire(NumberString, "Longitude"),
  precision: wire(NumberString, "Precision")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "LocationEvent" {
    return "LocationEvent"
  }
}

/**
 * A user clicked a menu item of type `click` (`eventKey`, the item's key).
 *
 * @since 0.1.0
 * @category models
 */
export class ClickEvent extends Schema.Class<ClickEvent>("@wxopen/core/ClickEvent")({
  ...event("CLICK"),
  eventKey: wire(Schema.String, "EventKey")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "ClickEvent" {
    return "ClickEvent"
  }
}

/**
 * A user followed a menu item's link (`eventKey`, the URL).
 *
 * @since 0.1.0
 * @category models
 */
export class ViewEvent extends Schema.Class<ViewEvent>("@wxopen/core/ViewEvent")({
  ...event("VIEW"),
  eventKey: wire(Schema.String, "EventKey"),
  menuId: optional(Schema.String, "MenuId")
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "ViewEvent" {
    return "ViewEvent"
  }
}

/**
 * A message or event of a kind wxopen does not type (a template message's
 * report, a Mini Program's event, a kind WeChat adds later), or of a known
 * kind whose fields do not fit its type, with every field as WeChat sent it.
 * `event` is the `Event` field, for events.
 *
 * @since 0.1.0
 * @category models
 */
export class OtherMessage extends Schema.Class<OtherMessage>("@wxopen/core/OtherMessage")({
  msgType: Schema.String,
  event: Schema.optionalWith(Schema.String, { exact: true }),
  toUserName: Schema.String,
  fromUserName: Schema.String,
  fields: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {
  /** Discriminates the {@link AccountMessage} union. */
  get _tag(): "OtherMessage" {
    return "OtherMessage"
  }
}

/**
 * Any message or event; `_tag` tells which.
 *
 * @since 0.1.0
 * @category models
 */
export type AccountMessage =
  | TextMessage
  | ImageMessage
  | VoiceMessage
  | VideoMessage
  | ShortVideoMessage
  | LocationMessage
  | LinkMessage
  | SubscribeEvent
  | UnsubscribeEvent
  | ScanEvent
  | LocationEvent
  | ClickEvent
  | ViewEvent
  | OtherMessage

/**
 * A decrypted payload that is no message: not XML, or without the
 * `MsgType`, `ToUserName` and `FromUserName` every message has. `detail`
 * names fields, never values.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccountMessageError extends Schema.TaggedError<AccountMessageError>()("AccountMessageError", {
  reason: Schema.Literal("MalformedXml", "UnexpectedShape"),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `the message is authentic but cannot be read (${this.detail}); if WeChat changed the format, report it to wxopen`
  }
}

type Decoder = (fields: unknown) => Either.Either<AccountMessage, unknown>
const decoder = <A extends AccountMessage, I>(schema: Schema.Schema<A, I>): Decoder => Schema.decodeUnknownEither(schema)

const messages: Readonly<Record<string, Decoder>> = {
  text: decoder(TextMessage),
  image: decoder(ImageMessage),
  voice: decoder(VoiceMessage),
  video: decoder(VideoMessage),
  shortvideo: decoder(ShortVideoMessage),
  location: decoder(LocationMessage),
  link: decoder(LinkMessage)
}
const events: Readonly<Record<string, Decoder>> = {
  subscribe: decoder(SubscribeEvent),
  unsubscribe: decoder(UnsubscribeEvent),
  SCAN: decoder(ScanEvent),
  LOCATION: decoder(LocationEvent),
  CLICK: decoder(ClickEvent),
  VIEW: decoder(ViewEvent)
}

const text = (value: unknown): string | undefined => typeof value === "string" && value !== "" ? value : undefined

/**
 * Reads a decrypted payload. A kind wxopen types is decoded into its class;
 * any other kind, and a known kind whose fields do not fit, is an
 * {@link OtherMessage}: a message is never refused for its kind.
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromXml = (xml: string): Either.Either<AccountMessage, AccountMessageError> =>
  Either.flatMap(
    Either.mapLeft(parseFields(xml), (detail) => new AccountMessageError({ reason: "MalformedXml", detail })),
    (fields) => {
      const [msgType, toUserName, fromUserName] = [fields.MsgType, fields.ToUserName, fields.FromUserName].map(text)
      if (msgType === undefined || toUserName === undefined || fromUserName === undefined) {
        const missing = ["MsgType", "ToUserName", "FromUserName"].filter((name) => text(fields[name]) === undefined)
        return Either.left(new AccountMessageError({ reason: "UnexpectedShape", detail: `missing ${missing.join(", ")}` }))
      }
      const event = text(fields.Event)
      const table = msgType === "event" ? events : messages
      const key = msgType === "event" ? event : msgType
      const decode = key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined
      const other = () =>
        new OtherMessage({ msgType, ...(event === undefined ? {} : { event }), toUserName, fromUserName, fields })
      return Either.right(decode === undefined ? other() : Either.getOrElse(decode(fields), other))
    }
  )

/**
 * The `Event` of an event (`subscribe`, `CLICK`, …, as WeChat spells it), or
 * `undefined` for a user's message.
 *
 * @since 0.1.0
 * @category getters
 */
export const eventOf = (message: AccountMessage): string | undefined => "event" in message ? message.event : undefined
