/**
 * The answer an account gives to a message, in the HTTP response itself
 * (被动回复): text, image, voice, video, music or news. wxopen renders it as
 * WeChat's XML (`ToUserName` and `FromUserName` swapped from the message,
 * `CreateTime` from `Clock`), then `AccountPush` encrypts and signs it.
 *
 * Every string goes in a CDATA section, so content cannot break out of its
 * element: a `]]>` in it is split across two sections. A reply that WeChat
 * would refuse (an empty text, news without an article or with more than 8)
 * or a character XML cannot carry (a control character, a lone surrogate) is
 * a {@link PassiveReplyError}, not a broken answer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type AccountMessage, PassiveReply } from "@wxopen/core"
 *
 * const echo = (message: AccountMessage.AccountMessage) =>
 *   Effect.succeed(message._tag === "TextMessage" ? PassiveReply.text(`you said: ${message.content}`) : undefined)
 * ```
 *
 * @since 0.1.0
 */
import { DateTime, Either, Schema } from "effect"
import { describeIssues } from "./internal/issues.js"

// XML 1.0 carries none of these anywhere, CDATA included: control characters but tab and line ends, U+FFFE, U+FFFF,
// and a surrogate without its pair. WeChat could not read a reply with one.
const notXml = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const xmlText = Schema.filter((value: string) => !notXml.test(value))
const Text = Schema.String.pipe(xmlText)
const NonEmptyText = Schema.NonEmptyString.pipe(xmlText)

const Article = Schema.Struct({
  title: Text,
  description: Schema.optionalWith(Text, { exact: true }),
  picUrl: Schema.optionalWith(Text, { exact: true }),
  url: Schema.optionalWith(Text, { exact: true })
})

/**
 * One article of a news reply.
 *
 * @since 0.1.0
 * @category models
 */
export type Article = typeof Article.Type

const schemas = {
  Text: Schema.TaggedStruct("Text", { content: NonEmptyText }),
  Image: Schema.TaggedStruct("Image", { mediaId: NonEmptyText }),
  Voice: Schema.TaggedStruct("Voice", { mediaId: NonEmptyText }),
  Video: Schema.TaggedStruct("Video", {
    mediaId: NonEmptyText,
    title: Schema.optionalWith(Text, { exact: true }),
    description: Schema.optionalWith(Text, { exact: true })
  }),
  Music: Schema.TaggedStruct("Music", {
    thumbMediaId: NonEmptyText,
    title: Schema.optionalWith(Text, { exact: true }),
    description: Schema.optionalWith(Text, { exact: true }),
    musicUrl: Schema.optionalWith(Text, { exact: true }),
    hqMusicUrl: Schema.optionalWith(Text, { exact: true })
  }),
  // WeChat takes at most 8 articles (1 in answer to a user's message).
  News: Schema.TaggedStruct("News", { articles: Schema.Array(Article).pipe(Schema.minItems(1), Schema.maxItems(8)) })
}

/**
 * The schema of a reply, for checking one made by hand.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PassiveReply = Schema.Union(
  schemas.Text,
  schemas.Image,
  schemas.Voice,
  schemas.Video,
  schemas.Music,
  schemas.News
)

/**
 * A passive reply; `_tag` tells which.
 *
 * @since 0.1.0
 * @category models
 */
export type PassiveReply = typeof PassiveReply.Type

/**
 * A text reply.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text = (content: string): PassiveReply => ({ _tag: "Text", content })

/**
 * An image reply, of an uploaded media id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const image = (mediaId: string): PassiveReply => ({ _tag: "Image", mediaId })

/**
 * A voice reply, of an uploaded media id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const voice = (mediaId: string): PassiveReply => ({ _tag: "Voice", mediaId })

/**
 * A video reply, of an uploaded media id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const video = (options: { readonly mediaId: string; readonly title?: string; readonly description?: string }): PassiveReply => ({
  _tag: "Video",
  ...options
})

/**
 * A music reply; its thumbnail is an uploaded media id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const music = (options: {
  readonly thumbMediaId: string
  readonly title?: string
  readonly description?: string
  readonly musicUrl?: string
  readonly hqMusicUrl?: string
}): PassiveReply => ({ _tag: "Music", ...options })

/**
 * A news reply: 1 to 8 articles (one only, in answer to a user's message).
 *
 * @since 0.1.0
 * @category constructors
 */
export const news = (articles: ReadonlyArray<Article>): PassiveReply => ({ _tag: "News", articles })

/**
 * A reply WeChat would refuse; `detail` names the field, never its content.
 *
 * @since 0.1.0
 * @category errors
 */
export class PassiveReplyError extends Schema.TaggedError<PassiveReplyError>()("PassiveReplyError", {
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `the handler's reply cannot be sent (${this.detail}): WeChat was answered with an empty body instead; ` +
      "fix the reply (a non-empty text, a media id, 1 to 8 articles, no control characters)"
  }
}

/**
 * Who the reply goes to and from: the message's `FromUserName` (the user) and
 * `ToUserName` (the account), and when it is made.
 *
 * @since 0.1.0
 * @category models
 */
export interface Envelope {
  readonly toUserName: string
  readonly fromUserName: string
  readonly createTime: DateTime.DateTime
}

/**
 * A string as one or more CDATA sections: a `]]>` in it ends one section and
 * starts the next, so the string cannot end its element.
 *
 * @since 0.1.0
 * @category encoding
 */
export const cdata = (value: string): string => `<![CDATA[${value.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`

const element = (name: string, value: string | undefined): string =>
  value === undefined ? "" : `<${name}>${cdata(value)}</${name}>`

const validate = Schema.validateEither(PassiveReply)

/**
 * The reply's plaintext XML, as the account sends it to the user, or why
 * WeChat would refuse it.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toXml = (reply: PassiveReply, envelope: Envelope): Either.Either<string, PassiveReplyError> =>
  Either.map(
    Either.mapLeft(validate(reply), (error) => new PassiveReplyError({ detail: describeIssues(error, "the reply") })),
    (reply) => {
      const head = element("ToUserName", envelope.toUserName) + element("FromUserName", envelope.fromUserName) +
        `<CreateTime>${Math.floor(DateTime.toEpochMillis(envelope.createTime) / 1000)}</CreateTime>`
      const body = ((): string => {
        switch (reply._tag) {
          case "Text":
            return element("MsgType", "text") + element("Content", reply.content)
          case "Image":
            return element("MsgType", "image") + `<Image>${element("MediaId", reply.mediaId)}</Image>`
          case "Voice":
            return element("MsgType", "voice") + `<Voice>${element("MediaId", reply.mediaId)}</Voice>`
          case "Video":
            return element("MsgType", "video") +
              `<Video>${element("MediaId", reply.mediaId)}${element("Title", reply.title)}${
                element("Description", reply.description)
              }</Video>`
          case "Music":
            return element("MsgType", "music") +
              `<Music>${element("Title", reply.title)}${element("Description", reply.description)}${
                element("MusicUrl", reply.musicUrl)
              }${element("HQMusicUrl", reply.hqMusicUrl)}${element("ThumbMediaId", reply.thumbMediaId)}</Music>`
          case "News":
            return element("MsgType", "news") + `<ArticleCount>${reply.articles.length}</ArticleCount><Articles>${
              reply.articles.map((article) =>
                `<item>${element("Title", article.title)}${element("Description", article.description)}${
                  element("PicUrl", article.picUrl)
                }${element("Url", article.url)}</item>`
              ).join("")
            }</Articles>`
        }
      })()
      return `<xml>${head}${body}</xml>`
    }
  )
