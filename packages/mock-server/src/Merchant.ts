/**
 * The merchant's administrator, played over HTTP: opens an authorization
 * link on the mock, picks an account and confirms, as a person would in a
 * browser. For tests and scripts that need an authorization code without one.
 *
 * @example
 * ```ts
 * import { Merchant } from "@wxopen/mock-server"
 *
 * const authorize = async (link: string) => {
 *   const outcome = await Merchant.authorize(link)
 *   if (outcome._tag === "Redirected") return outcome.location.searchParams.get("auth_code")
 *   throw new Error(outcome.problem)
 * }
 * ```
 *
 * @since 0.1.0
 */

/**
 * Where the confirmation led: back to `redirect_uri` (with `auth_code`), or
 * an error page and what it says.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Redirected"; readonly location: URL }
  | { readonly _tag: "Refused"; readonly problem: string }

const unescapeHtml = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: "\"", "#39": "'" })[name]!)

const problemOf = (page: string) =>
  unescapeHtml(/role="alert">([^<]*)</.exec(page)?.[1] ?? "the page is not the mock's authorization page")

/**
 * Opens `link`, chooses `authorizerAppId` (the first account offered when not
 * given), and confirms; answers where the browser was sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const authorize = async (link: string, authorizerAppId?: string): Promise<Outcome> => {
  const page = await fetch(link).then((response) => response.text())
  const action = /<form method="post" action="([^"]+)">/.exec(page)?.[1]
  const offered = [...page.matchAll(/name="authorizer_appid" value="([^"]+)"/g)].map((m) => unescapeHtml(m[1]!))
  if (action === undefined || offered.length === 0) return { _tag: "Refused", problem: problemOf(page) }
  const form = new URLSearchParams(
    [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, unescapeHtml(m[2]!)])
  )
  form.set("authorizer_appid", authorizerAppId ?? offered[0]!)
  const response = await fetch(new URL(unescapeHtml(action), link), { method: "POST", body: form, redirect: "manual" })
  const location = response.headers.get("location")
  return location === null
    ? { _tag: "Refused", problem: problemOf(await response.text()) }
    : { _tag: "Redirected", location: new URL(location) }
}
