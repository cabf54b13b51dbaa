/**
 * Which account type an API belongs to, and which permission sets (权限集,
 * the `funcscope_category` ids of `func_info`) let a component call it for
 * an account. The mock answers an account call on a path of the other
 * account type with 48001, and one whose sets the account did not grant with
 * 61007 naming the set; a path not in {@link table} needs no set.
 *
 * The sets are WeChat's: each API page's "该接口所属的权限集 id" where it
 * gives one (any one of them allows the call, the first is the one a 61007
 * names), else the set lists of the third-party platform documentation
 * (公众号权限集, 小程序权限集).
 *
 * @example
 * ```ts
 * import { Permissions } from "@wxopen/mock-server"
 *
 * const check = Permissions.check("/cgi-bin/menu/create", "officialAccount", [1, 2])
 * // { _tag: "NotGranted", set: 15 }
 * ```
 *
 * @since 0.1.0
 */

/**
 * The two kinds of account that authorize a component.
 *
 * @since 0.1.0
 * @category models
 */
export type AccountType = "officialAccount" | "miniProgram"

/**
 * One API path, and for each account type it exists for, the permission
 * sets any one of which allows it (the first is the one a 61007 names).
 *
 * @since 0.1.0
 * @category models
 */
export interface Permission {
  readonly path: string
  /** What the API does, in a few words. */
  readonly what: string
  readonly officialAccount?: ReadonlyArray<number>
  readonly miniProgram?: ReadonlyArray<number>
}

/**
 * The APIs the mock checks, by path.
 *
 * @since 0.1.0
 * @category constants
 */
export const table: ReadonlyArray<Permission> = [
  { path: "/cgi-bin/message/custom/send", what: "send a customer service message", officialAccount: [1], miniProgram: [19] },
  { path: "/cgi-bin/user/info", what: "a follower's basic information", officialAccount: [2] },
  { path: "/cgi-bin/user/get", what: "the followers list", officialAccount: [2] },
  { path: "/cgi-bin/tags/get", what: "the user tags", officialAccount: [2] },
  { path: "/cgi-bin/qrcode/create", what: "a QR code with a scene value", officialAccount: [3] },
  { path: "/cgi-bin/message/template/send", what: "send a template message", officialAccount: [7] },
  { path: "/cgi-bin/message/mass/sendall", what: "mass-send to a tag or all followers", officialAccount: [7] },
  { path: "/cgi-bin/material/add_material", what: "add a permanent material", officialAccount: [11] },
  { path: "/cgi-bin/material/get_materialcount", what: "count the permanent materials", officialAccount: [11] },
  { path: "/cgi-bin/menu/create", what: "create the custom menu", officialAccount: [15] },
  { path: "/cgi-bin/menu/get", what: "the menu set through the API", officialAccount: [15] },
  { path: "/cgi-bin/menu/delete", what: "delete the custom menu", officialAccount: [15] },
  { path: "/cgi-bin/get_current_selfmenu_info", what: "the menu in use, however it was set", officialAccount: [15, 1, 3] },
  { path: "/cgi-bin/open/create", what: "create an open platform account and bind the account", officialAccount: [24], miniProgram: [25] },
  { path: "/cgi-bin/open/get", what: "the open platform account bound", officialAccount: [24], miniProgram: [25] },
  { path: "/wxa/getwxacode", what: "a mini program code (limited number)", miniProgram: [17, 58] },
  { path: "/wxa/getwxacodeunlimit", what: "a mini program code (unlimited number)", miniProgram: [17] },
  { path: "/wxa/commit", what: "upload a code version", miniProgram: [18] },
  { path: "/wxa/get_page", what: "the pages of the uploaded code", miniProgram: [18] },
  { path: "/wxa/get_category", what: "the categories a review can name", miniProgram: [18] },
  { path: "/wxa/submit_audit", what: "submit the code for review", miniProgram: [18] },
  { path: "/wxa/release", what: "release the reviewed code", miniProgram: [18] },
  { path: "/wxa/modify_domain", what: "set the server domains", miniProgram: [18] },
  { path: "/cgi-bin/wxopen/getcategory", what: "the categories set", miniProgram: [30, 61] }
]

const byPath: ReadonlyMap<string, Permission> = new Map(table.map((entry) => [entry.path, entry]))

/**
 * What the permission check says of a call.
 *
 * @since 0.1.0
 * @category models
 */
export type Check =
  | { readonly _tag: "Allowed" }
  | { readonly _tag: "WrongAccountType" }
  | { readonly _tag: "NotGranted"; readonly set: number }

const allowed: Check = { _tag: "Allowed" }
const wrongAccountType: Check = { _tag: "WrongAccountType" }

/**
 * Whether an account of `type` that granted `granted` may have `path` called
 * for it.
 *
 * @since 0.1.0
 * @category checks
 */
export const check = (path: string, type: AccountType, granted: ReadonlyArray<number>): Check => {
  const entry = byPath.get(path)
  if (entry === undefined) return allowed
  const sets = entry[type]
  if (sets === undefined) return wrongAccountType
  return sets.some((set) => granted.includes(set)) ? allowed : { _tag: "NotGranted", set: sets[0]! }
}
