/**
 * Opening WeChat's encrypted envelope (`<xml>…<Encrypt>…</Encrypt></xml>`)
 * in the order that keeps a forged body cheap: find the one `Encrypt` element
 * with a bounded scan of the raw body, check `msg_signature` over it, and only
 * then decrypt. Nothing here parses XML: the envelope is an attacker's until
 * its signature holds, and an XML parser's cost grows with what an attacker
 * writes (processing instructions, thousands of elements, deep nesting). What
 * is decrypted is parsed afterwards, by the caller, with `xml.ts`.
 *
 * The component's event URL uses it (`ComponentPush`), and so does the
 * accounts' message URL (`AccountPush`), which WeChat signs and encrypts the
 * same way (both through `delivery.ts`).
 */
import { Either } from "effect"
import type { MessageCrypto, MessageCryptoError } from "../MessageCrypto.js"
import { maxLength } from "./xml.js"

/** The query parameters an envelope is signed with. */
export interface Signed {
  readonly timestamp: string
  readonly nonce: string
  readonly signature: string
}

// `<Encrypt>`, `<Encrypt/>` or `<Encrypt attr…>`: every way an element of that name can open, so that a second one
// cannot hide behind another spelling.
const opening = /<Encrypt[\s/>]/g
const closing = /<\/Encrypt\s*>/g
// An XML declaration, which WeChat's samples leave out and an XML library may write: no markup inside, so bounded.
const declaration = /^<\?xml\s[^<>?]*\?>/
const rootEnd = /<\/xml\s*>$/
const cdataStart = "<![CDATA["
const cdataEnd = "]]>"

/**
 * The value of the envelope's single `Encrypt` element (CDATA verbatim, plain
 * text trimmed), or why there is none. Linear in the body's length, and the
 * body is at most {@link maxLength} characters. Takes what an XML writer may
 * add to WeChat's form: a declaration, white space around the CDATA and
 * before a closing tag's `>`.
 */
export const findEncrypt = (body: string): Either.Either<string, string> => {
  if (body.length > maxLength) return Either.left(`${body.length} characters, more than the ${maxLength} allowed`)
  const trimmed = body.trim().replace(declaration, "").trimStart()
  if (!trimmed.startsWith("<xml>") || !rootEnd.test(trimmed)) return Either.left("not an <xml> envelope")
  const found = trimmed.match(opening)?.length ?? 0
  if (found !== 1) return Either.left(found === 0 ? "no Encrypt element" : `${found} Encrypt elements, where WeChat sends one`)
  const start = trimmed.indexOf("<Encrypt>")
  if (start === -1) return Either.left("an Encrypt element with attributes or no content")
  closing.lastIndex = start
  const end = closing.exec(trimmed)?.index
  if (end === undefined) return Either.left("an Encrypt element that is not closed")
  const content = trimmed.slice(start + "<Encrypt>".length, end).trim()
  if (content.startsWith(cdataStart) && content.endsWith(cdataEnd)) {
    const value = content.slice(cdataStart.length, content.length - cdataEnd.length)
    return value.includes(cdataEnd) ? Either.left("an Encrypt element with more than one CDATA section") : Either.right(value)
  }
  return content.includes("<") || content.includes("&")
    ? Either.left("an Encrypt element with markup or entities in it")
    : Either.right(content)
}

/**
 * The decrypted message of an envelope: {@link findEncrypt}, then the
 * signature checked in constant time, then the decryption (whose appid must
 * be `crypto`'s). A body that fails the scan is refused with `malformed`'s
 * error, before any cryptography.
 */
export const openEnvelope = <E>(
  crypto: MessageCrypto,
  signed: Signed,
  body: string,
  malformed: (detail: string) => E
): Either.Either<string, E | MessageCryptoError> =>
  Either.flatMap(
    Either.mapLeft(findEncrypt(body), malformed),
    (encrypted) => crypto.open({ signature: signed.signature, timestamp: signed.timestamp, nonce: signed.nonce, encrypted })
  )
