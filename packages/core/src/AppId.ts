/**
 * The form of a WeChat appid, a component's or an account's: `wx` followed by
 * 16 lowercase hexadecimal characters (`wx1234567890abcdef`), as WeChat
 * issues them. wxopen checks an appid where it enters (the component's
 * configuration, the functions that take an account's appid), so that a typo
 * fails at once with a message that shows the expected form, not as an
 * unknown account or a WeChat error later.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AppId } from "@wxopen/core"
 *
 * AppId.isAppId("wx1234567890abcdef") // true
 * AppId.describeInvalid("not-an-appid")
 * // 'invalid appid "not-an-appid": expected "wx" followed by 16 lowercase hexadecimal characters, like wx1234567890abcdef'
 * Schema.decodeUnknownEither(AppId.AppId)("wx1234567890abcdef")
 * ```
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * An appid as WeChat writes it.
 *
 * @since 0.1.0
 * @category constants
 */
export const pattern: RegExp = /^wx[0-9a-f]{16}$/

/**
 * An appid of the expected form, shown in error messages.
 *
 * @since 0.1.0
 * @category constants
 */
export const example = "wx1234567890abcdef"

/**
 * Whether `input` is an appid of WeChat's form.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isAppId = (input: unknown): input is string => typeof input === "string" && pattern.test(input)

/**
 * What is wrong with `input`, quoted (at most 40 characters of it) beside the
 * expected form.
 *
 * @since 0.1.0
 * @category errors
 */
export const describeInvalid = (input: string): string => {
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input
  return `invalid appid ${JSON.stringify(shown)}: expected "wx" followed by 16 lowercase hexadecimal characters, like ${example}`
}

/**
 * The schema of an appid: a string of WeChat's form, whose failure says what
 * the form is.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AppId: Schema.filter<typeof Schema.String> = Schema.String.pipe(
  Schema.filter((input) => pattern.test(input) || describeInvalid(input), {
    identifier: "AppId",
    description: `"wx" followed by 16 lowercase hexadecimal characters, like ${example}`
  })
)
