/**
 * WeChat's part of an authorization, as plain HTML: the page an
 * authorization link opens (`/cgi-bin/componentloginpage` on PC,
 * `/wxaopen/safe/bindcomponent` on mobile) lists the accounts the link allows,
 * and confirming one redirects to `redirect_uri` with `auth_code` and
 * `expires_in=3600`. A real `<form>` with labelled controls, so that browser
 * tests (and screen readers) can use it.
 */
import type { Authorizer } from "../MockConfig.js"
import type { CodeRecord, State } from "./WeChatState.js"

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const page = (title: string, body: string) =>
  `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}fieldset{border:1px solid #ccc;padding:1rem}label{display:block;margin:.5rem 0}button{margin-top:1rem;padding:.5rem 1.5rem;background:#07c160;color:#fff;border:0;border-radius:4px;font-size:1rem}.error{color:#c00}</style>
</head>
<body>
${body}
</body>
</html>
`

/** The parameters an authorization link carries. */
export interface Link {
  readonly componentAppId: string
  readonly preAuthCode: string
  readonly redirectUri: string
  readonly authType: string
  readonly bizAppId?: string
}

/** Reads a link's parameters (from the query string, or the confirming form). */
export const linkOf = (params: URLSearchParams): Link => {
  const bizAppId = params.get("biz_appid") ?? ""
  return {
    componentAppId: params.get("component_appid") ?? "",
    preAuthCode: params.get("pre_auth_code") ?? "",
    redirectUri: params.get("redirect_uri") ?? "",
    authType: params.get("auth_type") ?? "3",
    ...(bizAppId === "" ? {} : { bizAppId })
  }
}

/**
 * Why a link cannot be used, as WeChat's page would say it; `undefined` when it can. `code` is the pre-authorization
 * code the link names, if the mock holds it.
 */
export const problemOf = (link: Link, state: State, code: CodeRecord | undefined, now: number): string | undefined => {
  if (!state.components.some((c) => c.appId === link.componentAppId)) return "第三方平台不存在 (invalid component_appid)"
  if (code === undefined || code.componentAppId !== link.componentAppId) return "预授权码无效 (invalid pre_auth_code)"
  if (code.usedAt !== undefined) return "预授权码已使用 (pre_auth_code already used: create a new one for each link)"
  if (code.expiresAt <= now) return "预授权码已过期 (pre_auth_code expired)"
  if (!/^https?:\/\/[^/?#\s]/i.test(link.redirectUri) || redirectTo(link.redirectUri, "") === undefined) {
    return "回调地址无效 (redirect_uri must be an absolute http(s) URL)"
  }
  return undefined
}

/** The accounts a link allows: `biz_appid` pins one and wins over `auth_type`. */
export const accountsFor = (link: Link, authorizers: ReadonlyArray<Authorizer>): ReadonlyArray<Authorizer> => {
  if (link.bizAppId !== undefined) return authorizers.filter((a) => a.appId === link.bizAppId)
  const types = link.authType === "1" ? ["officialAccount"] : link.authType === "2" ? ["miniProgram"] : ["officialAccount", "miniProgram"]
  return authorizers.filter((a) => types.includes(a.type))
}

/** The error page. */
export const errorPage = (problem: string): string =>
  page("授权失败 · Authorization failed", `<main><h1>授权失败 · Authorization failed</h1><p class="error" role="alert">${escape(problem)}</p></main>`)

/** The page that lists the accounts and asks for a confirmation. */
export const confirmPage = (link: Link, accounts: ReadonlyArray<Authorizer>, action: string): string => {
  const hidden = Object.entries({
    component_appid: link.componentAppId,
    pre_auth_code: link.preAuthCode,
    redirect_uri: link.redirectUri,
    auth_type: link.authType,
    ...(link.bizAppId === undefined ? {} : { biz_appid: link.bizAppId })
  }).map(([name, value]) => `<input type="hidden" name="${name}" value="${escape(value)}">`).join("\n")
  if (accounts.length === 0) return errorPage("没有可授权的账号 (no account can authorize with this auth_type / biz_appid)")
  const choices = accounts.map((a, i) =>
    `<label><input type="radio" name="authorizer_appid" value="${escape(a.appId)}"${i === 0 ? " checked" : ""}> ` +
    `${escape(a.name)} (${a.type === "officialAccount" ? "公众号 official account" : "小程序 mini program"}, ${escape(a.appId)})</label>`
  ).join("\n")
  return page(
    "授权给第三方平台 · Authorize a third-party platform",
    `<main>
<h1>授权给第三方平台 · Authorize a third-party platform</h1>
<p>第三方平台 <strong>${escape(link.componentAppId)}</strong> 请求管理你的账号。<br>The platform asks to manage your account.</p>
<form method="post" action="${escape(action)}">
${hidden}
<fieldset>
<legend>选择要授权的账号 · Choose the account to authorize</legend>
${choices}
</fieldset>
<button type="submit">授权 · Authorize</button>
</form>
</main>`
  )
}

/**
 * Where the browser goes after a confirmation: `redirect_uri` with `auth_code`
 * and `expires_in` appended to its query (kept as it was), its fragment kept
 * whole; as WHATWG URL writes it, so always ASCII and safe in a header.
 * `undefined` when `redirect_uri` is not a URL.
 */
export const redirectTo = (redirectUri: string, authorizationCode: string): string | undefined => {
  let url: URL
  try {
    url = new URL(redirectUri)
  } catch {
    return undefined
  }
  const query = `auth_code=${encodeURIComponent(authorizationCode)}&expires_in=3600`
  url.search = url.search === "" ? `?${query}` : `${url.search}&${query}`
  return url.href
}
