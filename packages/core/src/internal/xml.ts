/**
 * The flat XML documents WeChat sends (`<xml><Field>value</Field>…</xml>`),
 * read into a record of strings. Values stay strings (CDATA verbatim, plain
 * text trimmed): Schema decides what is a number.
 *
 * A document type is refused before parsing: WeChat never sends one, and the
 * envelope of a push is read before its signature can be checked, so its
 * entities would be an attacker's (entity expansion, "billion laughs").
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
  if (valid !== true) return Either.left(`not well-formed XML (${valid.err.msg})`)
  const document: unknown = parser.parse(text)
  const root = typeof document === "object" && document !== null ? (document as Record<string, unknown>).xml : undefined
  return typeof root === "object" && root !== null && !Array.isArray(root)
    ? Either.right(root as Record<string, unknown>)
    : Either.left("no <xml> element with fields")
}
