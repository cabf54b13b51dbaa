/**
 * The flat XML documents WeChat sends (`<xml><Field>value</Field>…</xml>`),
 * read into a record of strings. Values stay strings (CDATA verbatim, plain
 * text trimmed): Schema decides what is a number.
 *
 * The envelope of a push is read before its signature can be checked, so
 * everything here treats its input as an attacker's: a document type is
 * refused (entity expansion), the parser's own refusals (it throws on names
 * such as `__proto__`) become errors, and no error quotes the input, which
 * for a decrypted payload may hold a ticket.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser"
import { Either } from "effect"

const parser = new XMLParser({ parseTagValue: false, trimValues: true, ignoreAttributes: true })

/** The largest document read, in characters; pushes are a few hundred. */
export const maxLength = 64 * 1024

/** The fields under `<xml>`, or why there are none. */
export const parseFields = (text: string): Either.Either<Readonly<Record<string, unknown>>, string> => {
  if (text.length > maxLength) return Either.left(`${text.length} characters, more than the ${maxLength} allowed`)
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return Either.left("a document type declaration, which WeChat never sends")
  const valid = XMLValidator.validate(text)
  if (valid !== true) {
    return Either.left(`not well-formed XML (${valid.err.code} at line ${valid.err.line}, column ${valid.err.col})`)
  }
  let document: unknown
  try {
    document = parser.parse(text)
  } catch {
    return Either.left("XML the parser refuses (an element named like a JavaScript built-in, such as __proto__)")
  }
  const root = typeof document === "object" && document !== null ? (document as Record<string, unknown>).xml : undefined
  return typeof root === "object" && root !== null && !Array.isArray(root)
    ? Either.right(root as Record<string, unknown>)
    : Either.left("no <xml> element with fields")
}
