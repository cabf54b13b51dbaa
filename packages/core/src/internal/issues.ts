import { ParseResult } from "effect"

/**
 * What a decode found wrong, by path and kind, never by value: the values are
 * WeChat's answers and pushes, and a token or a ticket could be among them.
 */
export const describeIssues = (error: ParseResult.ParseError, root: string): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const path = issue.path.length === 0 ? root : issue.path.map(String).join(".")
      return `${path}: ${issue._tag === "Missing" ? "missing" : "unexpected type or value"}`
    })
    .join("; ")
