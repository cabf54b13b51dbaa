import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import * as AccountMessage from "../src/AccountMessage.js"

const head = (msgType: string) =>
  "<xml><ToUserName><![CDATA[gh_3c884a361561]]></ToUserName><FromUserName><![CDATA[o-user-1]]></FromUserName>" +
  `<CreateTime>1700000000</CreateTime><MsgType><![CDATA[${msgType}]]></MsgType>`
const msg = (msgType: string, fields: string) => `${head(msgType)}${fields}<MsgId>6054768590064713728</MsgId></xml>`
const evt = (event: string, fields = "") => `${head("event")}<Event><![CDATA[${event}]]></Event>${fields}</xml>`

const read = (xml: string) => Either.getOrThrow(AccountMessage.fromXml(xml))

describe("AccountMessage.fromXml", () => {
  const cases: ReadonlyArray<readonly [string, string, Record<string, unknown>]> = [
    ["text", msg("text", "<Content><![CDATA[hello <b>]]></Content>"), { _tag: "TextMessage", content: "hello <b>" }],
    ["image", msg("image", "<PicUrl><![CDATA[http://x/p.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>"), { _tag: "ImageMessage", picUrl: "http://x/p.jpg", mediaId: "m1" }],
    ["voice", msg("voice", "<MediaId>m2</MediaId><Format>amr</Format><Recognition><![CDATA[hi]]></Recognition>"), { _tag: "VoiceMessage", mediaId: "m2", format: "amr", recognition: "hi" }],
    ["voice without recognition", msg("voice", "<MediaId>m2</MediaId><Format>amr</Format>"), { _tag: "VoiceMessage", mediaId: "m2", format: "amr", recognition: undefined }],
    ["video", msg("video", "<MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId>"), { _tag: "VideoMessage", mediaId: "m3", thumbMediaId: "t3" }],
    ["shortvideo", msg("shortvideo", "<MediaId>m4</MediaId><ThumbMediaId>t4</ThumbMediaId>"), { _tag: "ShortVideoMessage", mediaId: "m4" }],
    ["location", msg("location", "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[somewhere]]></Label>"), { _tag: "LocationMessage", latitude: 23.134521, longitude: 113.358803, scale: 20, label: "somewhere" }],
    ["link", msg("link", "<Title>t</Title><Description>d</Description><Url>http://x</Url>"), { _tag: "LinkMessage", title: "t", description: "d", url: "http://x" }],
    ["subscribe", evt("subscribe"), { _tag: "SubscribeEvent", event: "subscribe", eventKey: undefined }],
    ["subscribe from a QR code", evt("subscribe", "<EventKey><![CDATA[qrscene_123]]></EventKey><Ticket>tk</Ticket>"), { _tag: "SubscribeEvent", eventKey: "qrscene_123", ticket: "tk" }],
    ["unsubscribe", evt("unsubscribe"), { _tag: "UnsubscribeEvent", event: "unsubscribe" }],
    ["SCAN", evt("SCAN", "<EventKey>123</EventKey><Ticket>tk</Ticket>"), { _tag: "ScanEvent", eventKey: "123", ticket: "tk" }],
    ["LOCATION", evt("LOCATION", "<Latitude>23.1</Latitude><Longitude>113.3</Longitude><Precision>119.385</Precision>"), { _tag: "LocationEvent", latitude: 23.1, longitude: 113.3, precision: 119.385 }],
    ["CLICK", evt("CLICK", "<EventKey><![CDATA[V1001_TODAY]]></EventKey>"), { _tag: "ClickEvent", eventKey: "V1001_TODAY" }],
    ["VIEW", evt("VIEW", "<EventKey>http://x</EventKey><MenuId>7</MenuId>"), { _tag: "ViewEvent", eventKey: "http://x", menuId: "7" }]
  ]
  for (const [name, xml, expected] of cases) {
    it(`decodes ${name}`, () => {
      const message = read(xml)
      for (const [key, value] of Object.entries(expected)) {
        assert.deepStrictEqual((message as unknown as Record<string, unknown>)[key], value, key)
      }
      assert.strictEqual(message.fromUserName, "o-user-1")
      assert.strictEqual(message.toUserName, "gh_3c884a361561")
    })
  }

  it("reads CreateTime as a DateTime", () => {
    const message = read(msg("text", "<Content>x</Content>"))
    assert.strictEqual(message._tag === "TextMessage" && DateTime.toEpochMillis(message.createTime), 1_700_000_000_000)
  })

  it("keeps an event of an unknown kind, with its fields", () => {
    const message = read(evt("TEMPLATESENDJOBFINISH", "<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>"))
    assert.strictEqual(message._tag, "OtherMessage")
    assert.strictEqual(message._tag === "OtherMessage" && message.event, "TEMPLATESENDJOBFINISH")
    assert.strictEqual(message._tag === "OtherMessage" && message.fields.Status, "success")
    assert.strictEqual(AccountMessage.eventOf(message), "TEMPLATESENDJOBFINISH")
  })

  it("keeps a message of an unknown type, with its fields", () => {
    const message = read(msg("miniprogrampage", "<Title>t</Title><AppId>wx0123456789abcdef</AppId>"))
    assert.strictEqual(message._tag, "OtherMessage")
    assert.strictEqual(message.msgType, "miniprogrampage")
    assert.strictEqual(message._tag === "OtherMessage" && message.fields.AppId, "wx0123456789abcdef")
    assert.isUndefined(AccountMessage.eventOf(message))
  })

  it("keeps a known kind whose fields do not fit as OtherMessage, not refused", () => {
    const message = read(msg("image", "<PicUrl>x</PicUrl>")) // no MediaId
    assert.strictEqual(message._tag, "OtherMessage")
    assert.strictEqual(message.msgType, "image")
  })

  it("an event's kind is its Event field", () => {
    assert.strictEqual(AccountMessage.eventOf(read(evt("CLICK", "<EventKey>k</EventKey>"))), "CLICK")
    assert.isUndefined(AccountMessage.eventOf(read(msg("text", "<Content>x</Content>"))))
  })

  const refused: ReadonlyArray<readonly [string, string, string, string]> = [
    ["not XML", "<xml><a>", "MalformedXml", "not well-formed"],
    ["no MsgType", "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName></xml>", "UnexpectedShape", "missing MsgType"],
    ["no FromUserName", "<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType><Content>secret words</Content></xml>", "UnexpectedShape", "missing FromUserName"],
    ["a document type", "<!DOCTYPE x [<!ENTITY e \"e\">]><xml><MsgType>&e;</MsgType></xml>", "MalformedXml", "document type"]
  ]
  for (const [name, xml, reason, detail] of refused) {
    it(`refuses ${name}: ${reason}, naming no value`, () => {
      const error = Either.getLeft(AccountMessage.fromXml(xml)).pipe((o) => o._tag === "Some" ? o.value : assert.fail("decoded"))
      assert.strictEqual(error.reason, reason)
      assert.include(error.detail, detail)
      assert.notInclude(error.message, "secret words")
    })
  }
})
