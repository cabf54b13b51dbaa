import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { parseFields } from "../src/internal/xml.js"
import * as PassiveReply from "../src/PassiveReply.js"

const envelope = { toUserName: "o-user-1", fromUserName: "gh_account", createTime: DateTime.unsafeMake(1_700_000_123_456) }
const render = (reply: PassiveReply.PassiveReply) => Either.getOrThrow(PassiveReply.toXml(reply, envelope))
const fields = (xml: string) => Either.getOrThrow(parseFields(xml)) as Record<string, any>

describe("PassiveReply.toXml", () => {
  it("a text: addressed, timed in seconds, typed", () => {
    assert.strictEqual(
      render(PassiveReply.text("hello")),
      "<xml><ToUserName><![CDATA[o-user-1]]></ToUserName><FromUserName><![CDATA[gh_account]]></FromUserName>" +
        "<CreateTime>1700000123</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content></xml>"
    )
  })

  it("each kind reads back as WeChat's fields", () => {
    assert.deepStrictEqual(fields(render(PassiveReply.image("m1"))).Image, { MediaId: "m1" })
    assert.deepStrictEqual(fields(render(PassiveReply.voice("m2"))).Voice, { MediaId: "m2" })
    assert.deepStrictEqual(fields(render(PassiveReply.video({ mediaId: "m3", title: "t" }))).Video, { MediaId: "m3", Title: "t" })
    assert.deepStrictEqual(
      fields(render(PassiveReply.music({ thumbMediaId: "t4", musicUrl: "http://m", hqMusicUrl: "http://hq" }))).Music,
      { MusicUrl: "http://m", HQMusicUrl: "http://hq", ThumbMediaId: "t4" }
    )
    const news = fields(render(PassiveReply.news([{ title: "a", url: "http://a" }, { title: "b", picUrl: "http://b.jpg" }])))
    assert.strictEqual(news.MsgType, "news")
    assert.strictEqual(news.ArticleCount, "2")
    assert.deepStrictEqual(news.Articles.item, [{ Title: "a", Url: "http://a" }, { Title: "b", PicUrl: "http://b.jpg" }])
  })

  it("content that tries to close its CDATA and add elements stays content", () => {
    const hostile = "x]]></Content><MsgType><![CDATA[news]]></MsgType><Content><![CDATA[y"
    const xml = render(PassiveReply.text(hostile))
    const read = fields(xml)
    assert.strictEqual(read.Content, hostile)
    assert.strictEqual(read.MsgType, "text")
    assert.deepStrictEqual(Object.keys(read), ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"])
  })

  it("cdata splits every ]]>", () => {
    assert.strictEqual(PassiveReply.cdata("a]]>b]]>"), "<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]>")
  })

  const refused: ReadonlyArray<readonly [string, PassiveReply.PassiveReply, string]> = [
    ["an empty text", PassiveReply.text(""), "content"],
    ["an image without media id", PassiveReply.image(""), "mediaId"],
    ["news without articles", PassiveReply.news([]), "articles"],
    ["news with nine articles", PassiveReply.news(Array.from({ length: 9 }, (_, i) => ({ title: `t${i}` }))), "articles"],
    // XML 1.0 carries none of these, CDATA included: the reply would not be XML.
    ["a text with a NUL", PassiveReply.text("a\u0000b"), "content"],
    ["a text with a control character", PassiveReply.text("a\u001Bb"), "content"],
    ["a text with U+FFFE", PassiveReply.text("a\uFFFEb"), "content"],
    ["a text with a lone high surrogate", PassiveReply.text("a\uD800b"), "content"],
    ["a text with a lone low surrogate", PassiveReply.text("a\uDC00"), "content"],
    ["an article title with a control character", PassiveReply.news([{ title: "a\u0001" }]), "articles.0.title"],
    ["a music URL with a control character", PassiveReply.music({ thumbMediaId: "m", musicUrl: "https://x/\u0008" }), "musicUrl"]
  ]
  it("keeps tab, line ends, astral characters (a surrogate pair) and CJK", () => {
    const content = "a\tb\nc\rd 😀 你好"
    const xml = render(PassiveReply.text(content))
    assert.include(xml, `<Content><![CDATA[${content}]]></Content>`)
  })

  for (const [name, reply, field] of refused) {
    it(`refuses ${name}, naming the field`, () => {
      const result = PassiveReply.toXml(reply, envelope)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.include(result.left.detail, field)
        assert.notMatch(result.left.message, /[\u0000-\u0008]/)
      }
    })
  }
})
