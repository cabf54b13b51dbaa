import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Redacted } from "effect"
import * as PushEvent from "../src/PushEvent.js"

const right = <A>(result: Either.Either<A, PushEvent.PushEventError>): A => Either.getOrThrowWith(result, (e) => e)
const reason = <A>(result: Either.Either<A, PushEvent.PushEventError>) =>
  Either.match(result, { onLeft: (e) => `${e.reason}: ${e.detail}`, onRight: () => "ok" })

const authorizedXml = (infoType: string) =>
  `<xml><AppId><![CDATA[wx0123456789abcdef]]></AppId><CreateTime>1413192760</CreateTime>` +
  `<InfoType><![CDATA[${infoType}]]></InfoType><AuthorizerAppid><![CDATA[wxfedcba9876543210]]></AuthorizerAppid>` +
  `<AuthorizationCode><![CDATA[queryauthcode@@@secret-code]]></AuthorizationCode>` +
  `<AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime>` +
  `<PreAuthCode><![CDATA[preauthcode@@@abc]]></PreAuthCode></xml>`

describe("PushEvent.fromXml", () => {
  it("reads a verify ticket, with its creation time as a DateTime and the ticket redacted", () => {
    const event = right(PushEvent.fromXml(
      `<xml>\n  <AppId><![CDATA[wx0123456789abcdef]]></AppId>\n  <CreateTime>1413192605</CreateTime>\n` +
        `  <InfoType><![CDATA[component_verify_ticket]]></InfoType>\n` +
        `  <ComponentVerifyTicket><![CDATA[ticket@@@a b&c<d>]]></ComponentVerifyTicket>\n</xml>`
    ))
    assert.instanceOf(event, PushEvent.VerifyTicketEvent)
    assert.strictEqual(event._tag, "VerifyTicketEvent")
    assert.isTrue(event._tag === "VerifyTicketEvent" && Redacted.value(event.ticket) === "ticket@@@a b&c<d>")
    assert.strictEqual(event._tag === "VerifyTicketEvent" && DateTime.toEpochMillis(event.createTime), 1413192605000)
    assert.notInclude(String(event), "ticket@@@")
  })

  for (const [infoType, tag] of [["authorized", "AuthorizedEvent"], ["updateauthorized", "UpdateAuthorizedEvent"]] as const) {
    it(`reads ${infoType}, with AuthorizationCodeExpiredTime as an absolute time`, () => {
      const event = right(PushEvent.fromXml(authorizedXml(infoType)))
      assert.strictEqual(event._tag, tag)
      if (event._tag !== "AuthorizedEvent" && event._tag !== "UpdateAuthorizedEvent") return
      assert.strictEqual(event.authorizerAppId, "wxfedcba9876543210")
      assert.strictEqual(Redacted.value(event.authorizationCode), "queryauthcode@@@secret-code")
      assert.strictEqual(DateTime.toEpochMillis(event.authorizationCodeExpiredTime), 1413196360000)
      assert.strictEqual(event.preAuthCode, "preauthcode@@@abc")
    })
  }

  it("reads unauthorized", () => {
    const event = right(PushEvent.fromXml(
      `<xml><AppId><![CDATA[wx0123456789abcdef]]></AppId><CreateTime>1413192760</CreateTime>` +
        `<InfoType><![CDATA[unauthorized]]></InfoType><AuthorizerAppid><![CDATA[wxfedcba9876543210]]></AuthorizerAppid></xml>`
    ))
    assert.isTrue(event._tag === "UnauthorizedEvent" && event.authorizerAppId === "wxfedcba9876543210")
  })

  it("passes any other InfoType through with its fields", () => {
    const event = right(PushEvent.fromXml(
      `<xml><AppId><![CDATA[wx0123456789abcdef]]></AppId><CreateTime>1</CreateTime>` +
        `<InfoType><![CDATA[notify_third_fasteregister]]></InfoType><status>0</status><info><name><![CDATA[shop]]></name></info></xml>`
    ))
    assert.strictEqual(event._tag, "OtherEvent")
    assert.strictEqual(event.infoType, "notify_third_fasteregister")
    assert.deepStrictEqual(event._tag === "OtherEvent" && Redacted.value(event.fields).info, { name: "shop" })
  })

  const malformed: ReadonlyArray<readonly [string, string, string]> = [
    ["not XML", "hello", "MalformedXml"],
    ["XML that is not closed properly", "<xml><InfoType>x</Info></xml>", "MalformedXml"],
    ["no <xml> root", "<root><InfoType>x</InfoType></root>", "MalformedXml"],
    ["a document type (entity expansion)", `<!DOCTYPE x [<!ENTITY a "AAAA">]><xml><InfoType>&a;</InfoType></xml>`, "MalformedXml"],
    ["no InfoType", "<xml><AppId>wx1</AppId></xml>", "UnexpectedShape"],
    ["a ticket push without its ticket", "<xml><AppId>wx1</AppId><CreateTime>1</CreateTime><InfoType>component_verify_ticket</InfoType></xml>", "UnexpectedShape"],
    ["a CreateTime that is not a number", "<xml><AppId>wx1</AppId><CreateTime>soon</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wx2</AuthorizerAppid></xml>", "UnexpectedShape"],
    ["a field given twice", "<xml><AppId>wx1</AppId><CreateTime>1</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wx2</AuthorizerAppid><AuthorizerAppid>wx3</AuthorizerAppid></xml>", "UnexpectedShape"]
  ]
  for (const [name, xml, expected] of malformed) {
    it(`rejects ${name} with ${expected}`, () => {
      assert.match(reason(PushEvent.fromXml(xml)), new RegExp(`^${expected}`))
    })
  }

  for (const name of ["__proto__", "constructor", "prototype"]) {
    it(`refuses an element named ${name} with an error, not an exception`, () => {
      assert.match(reason(PushEvent.fromXml(`<xml><${name}>1</${name}><InfoType>x</InfoType></xml>`)), /^MalformedXml/)
    })
  }

  for (const infoType of ["constructor", "toString", "__proto__"]) {
    it(`passes an InfoType of ${infoType} through as an OtherEvent`, () => {
      const event = right(PushEvent.fromXml(`<xml><AppId>wx1</AppId><InfoType>${infoType}</InfoType></xml>`))
      assert.strictEqual(event._tag, "OtherEvent")
    })
  }

  it("refuses a CreateTime beyond what a date can hold with an error, not an exception", () => {
    assert.match(reason(PushEvent.fromXml(authorizedXml("authorized").replace("1413192760", "9000000000000"))), /^UnexpectedShape/)
  })

  it("does not quote the document in a syntax error", () => {
    const result = reason(PushEvent.fromXml("<xml><T>ticket@@@SECRET</T x></xml>"))
    assert.match(result, /^MalformedXml/)
    assert.notInclude(result, "SECRET")
  })

  it("accepts an authorized push with an empty PreAuthCode: the authorization code matters more", () => {
    const event = right(PushEvent.fromXml(authorizedXml("authorized").replace("preauthcode@@@abc", "")))
    assert.strictEqual(event._tag, "AuthorizedEvent")
  })

  it("redacts the fields of an OtherEvent when it is printed", () => {
    const event = right(PushEvent.fromXml(
      `<xml><AppId>wx1</AppId><InfoType>notify_third_fasteregister</InfoType><auth_code>secret-auth-code</auth_code></xml>`
    ))
    assert.notInclude(String(event), "secret-auth-code")
    assert.notInclude(JSON.stringify(event), "secret-auth-code")
  })

  it("names the field at fault, never its value", () => {
    const result = reason(PushEvent.fromXml(authorizedXml("authorized").replace("1413196360", "later-secret")))
    assert.include(result, "AuthorizationCodeExpiredTime")
    assert.notInclude(result, "later-secret")
    assert.notInclude(result, "queryauthcode@@@")
  })
})

describe("PushEvent.toXml", () => {
  it("writes what fromXml reads, strings in CDATA and numbers bare", () => {
    for (const xml of [authorizedXml("authorized"), authorizedXml("updateauthorized")]) {
      const event = right(PushEvent.fromXml(xml))
      const written = PushEvent.toXml(event)
      assert.include(written, "<CreateTime>1413192760</CreateTime>")
      assert.include(written, "<AuthorizationCode><![CDATA[queryauthcode@@@secret-code]]></AuthorizationCode>")
      assert.deepStrictEqual(right(PushEvent.fromXml(written)), event)
    }
  })
})
