/**
 * The answers the mock gives account calls by itself, once the token,
 * permission and quota checks have passed and no stub matched: a few
 * read-only APIs, in the shapes of WeChat's documentation.
 */
import type { Answer } from "./WeChatState.js"
import { error } from "./WeChatState.js"

interface BuiltIn {
  readonly method: "GET" | "POST"
  readonly answer: () => Answer
}

const builtIns: ReadonlyMap<string, BuiltIn> = new Map<string, BuiltIn>([
  // The documentation's sample addresses: a mock has no real ones to give.
  ["/cgi-bin/get_api_domain_ip", { method: "GET", answer: () => ({ ip_list: ["127.0.0.1", "127.0.0.2", "101.226.103.0/25"] }) }],
  ["/cgi-bin/get_current_selfmenu_info", {
    method: "GET",
    answer: () => ({
      is_menu_open: 1,
      selfmenu_info: {
        button: [
          { type: "click", name: "今日推荐", key: "TODAY_PICK" },
          {
            name: "菜单",
            sub_button: {
              list: [
                { type: "view", name: "门店", url: "https://www.example.com/stores" },
                { type: "miniprogram", name: "点单", url: "https://www.example.com/order", appid: "wxa1b2c3d4e5f60002", pagepath: "pages/index/index" }
              ]
            }
          },
          { type: "text", name: "联系我们", value: "每天 8:00–20:00" }
        ]
      }
    })
  }],
  ["/wxa/get_category", {
    method: "GET",
    answer: () => ({
      errcode: 0,
      errmsg: "ok",
      category_list: [{ first_class: "工具", second_class: "备忘录", first_id: 1, second_id: 2 }]
    })
  }]
])

/** The mock's own answer to `method path`: WeChat's 43001/43002 for the other method; `undefined` when it has none. */
export const builtIn = (method: string, path: string): Answer | undefined => {
  const found = builtIns.get(path)
  if (found === undefined) return undefined
  return found.method === method ? found.answer() : error(found.method === "GET" ? 43001 : 43002)
}

/** The answer to an account call that nothing answers: WeChat's 40066, saying what to do. */
export const noAnswer = (method: string, path: string): Answer =>
  error(
    40066,
    `invalid url: the wxopen mock has no stub for ${method} ${path} and no built-in answer; add one with POST /__admin/stubs`
  )
