/**
 * What the mock WeChat knows: the components (third-party platforms) it
 * serves, the accounts that can authorize them, quotas and lifetimes. Read
 * from a JSON file by the CLI, given in code to `start`, or the documented
 * {@link defaults}.
 *
 * @since 0.1.0
 */
import { Either, ParseResult, Schema } from "effect"
import * as Guard from "./internal/Guard.js"

const AppId = Schema.String.pipe(Schema.pattern(/^wx[0-9a-f]{16}$/, { message: () => "an appid is wx and 16 hex digits" }))

/**
 * The WeChat endpoints the mock serves, by the last segment of their path
 * (under `/cgi-bin/component/`).
 *
 * @since 0.1.0
 * @category models
 */
export const Endpoint = Schema.Literal(
  "api_component_token",
  "api_create_preauthcode",
  "api_query_auth",
  "api_authorizer_token",
  "api_start_push_ticket",
  "api_get_authorizer_info",
  "api_get_authorizer_list"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Endpoint = typeof Endpoint.Type

/**
 * The daily quotas that apply unless the configuration overrides them.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultQuotas: Readonly<Partial<Record<Endpoint, number>>> = {
  api_component_token: 10_000,
  api_start_push_ticket: 1_000
}

/**
 * A component's `messageUrl` for one account: `$APPID$` replaced by its appid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const messageUrlFor = (messageUrl: string, authorizerAppId: string): string => messageUrl.replaceAll("$APPID$", authorizerAppId)

/**
 * A component the mock serves.
 *
 * @since 0.1.0
 * @category models
 */
export const Component = Schema.Struct({
  appId: AppId,
  appSecret: Schema.NonEmptyString,
  /** The message token pushes are signed with. */
  token: Schema.String.pipe(Schema.pattern(/^[a-zA-Z0-9]{3,32}$/, { message: () => "3 to 32 letters and digits" })),
  encodingAesKey: Schema.String.pipe(Schema.pattern(/^[a-zA-Z0-9]{43}$/, { message: () => "43 letters and digits" })),
  /** Where verify tickets and authorization events are pushed. */
  pushUrl: Schema.optionalWith(Schema.String.pipe(Schema.pattern(Guard.destinationPattern, { message: () => Guard.destinationShape })), {
    exact: true
  }),
  /**
   * Where the messages and events of the component's authorized accounts are
   * pushed (WeChat's "消息与事件接收URL"): `$APPID$` stands for the account's
   * appid. On this machine, or on a host in `pushHosts`, as `pushUrl`.
   */
  messageUrl: Schema.optionalWith(Schema.String.pipe(Schema.pattern(Guard.destinationPattern, { message: () => Guard.destinationShape })), {
    exact: true
  }),
  /** Caller IPs allowed; any when absent. */
  ipWhitelist: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  /** Endpoints answered 48001 (API not granted). */
  deniedApis: Schema.optionalWith(Schema.Array(Endpoint), { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type Component = typeof Component.Type

/**
 * The permission sets (`funcscope_category` ids) an account grants when its
 * fixture names none: for an official account 1 message management, 2 user
 * management, 3 account service, 4 web service, 7 mass messages and
 * notifications, 11 material management, 15 menu management, 24 open platform
 * account management; for a mini program 17 mini program codes, 18 development
 * and data analysis, 19 customer service messages, 25 open platform account
 * management, 30 basic information, 31 verification name check.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPermissions: Readonly<Record<"officialAccount" | "miniProgram", ReadonlyArray<number>>> = {
  officialAccount: [1, 2, 3, 4, 7, 11, 15, 24],
  miniProgram: [17, 18, 19, 25, 30, 31]
}

/**
 * An account that can authorize a component, and what
 * `api_get_authorizer_info` says of it. Every field but `appId`, `name` and
 * `type` is optional; {@link withDefaults} fills them in.
 *
 * @since 0.1.0
 * @category models
 */
export const Authorizer = Schema.Struct({
  appId: AppId,
  name: Schema.NonEmptyString,
  type: Schema.Literal("officialAccount", "miniProgram"),
  /** The permission sets granted when it authorizes; {@link defaultPermissions} by type. */
  permissions: Schema.optionalWith(Schema.Array(Schema.Int.pipe(Schema.positive())), { exact: true }),
  /** `service_type_info.id`: 0 subscription account, 1 one upgraded from an old account, 2 service account; a mini program's is 0. Default 0 (2 would read as a service account). */
  serviceType: Schema.optionalWith(
    Schema.Literal(0, 1, 2).annotations({ message: () => ({ message: "0, 1 or 2", override: true }) }),
    { exact: true }
  ),
  /**
   * `verify_type_info.id`: -1 unverified, 0 WeChat verified, 1 Sina Weibo, 2
   * Tencent Weibo, 3 qualification verified but not the name, 4 that and Sina
   * Weibo, 5 that and Tencent Weibo. Default 0.
   */
  verifyType: Schema.optionalWith(
    Schema.Literal(-1, 0, 1, 2, 3, 4, 5).annotations({ message: () => ({ message: "an integer from -1 to 5", override: true }) }),
    { exact: true }
  ),
  /** `principal_name`, the entity behind the account. Default: the name and " Ltd.". */
  principalName: Schema.optionalWith(Schema.NonEmptyString, { exact: true }),
  /** `user_name`, the original id. Default: `gh_` and the appid's last 12 hex digits. */
  userName: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^gh_[0-9a-f]{12}$/, { message: () => "gh_ and 12 hex digits" })),
    { exact: true }
  ),
  /** `alias`, the WeChat id the account set; default "" (WeChat says it may be empty). */
  alias: Schema.optionalWith(Schema.String, { exact: true }),
  /** `api_get_authorizer_list` leaves out this account's `refresh_token`, as WeChat is reported to do. Default false. */
  listedWithoutRefreshToken: Schema.optionalWith(Schema.Boolean, { exact: true })
}).pipe(
  Schema.filter((a) =>
    a.type === "miniProgram" && a.serviceType !== undefined && a.serviceType !== 0
      ? { path: ["serviceType"], message: "a mini program's serviceType is 0" }
      : undefined
  )
)

/**
 * @since 0.1.0
 * @category models
 */
export type Authorizer = typeof Authorizer.Type

/**
 * An authorizer with every optional field filled in with its default.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizerProfile = Authorizer & {
  readonly permissions: ReadonlyArray<number>
  readonly serviceType: 0 | 1 | 2
  readonly verifyType: -1 | 0 | 1 | 2 | 3 | 4 | 5
  readonly principalName: string
  readonly userName: string
  readonly alias: string
  readonly listedWithoutRefreshToken: boolean
}

/**
 * An authorizer with the documented defaults of the fields it leaves out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const withDefaults = (authorizer: Authorizer): AuthorizerProfile => ({
  ...authorizer,
  permissions: authorizer.permissions ?? defaultPermissions[authorizer.type],
  serviceType: authorizer.serviceType ?? 0,
  verifyType: authorizer.verifyType ?? 0,
  principalName: authorizer.principalName ?? `${authorizer.name} Ltd.`,
  userName: authorizer.userName ?? `gh_${authorizer.appId.slice(-12)}`,
  alias: authorizer.alias ?? "",
  listedWithoutRefreshToken: authorizer.listedWithoutRefreshToken ?? false
})

/**
 * The daily calls an account may make to one API path when `apiQuotas` does
 * not name it.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultApiQuota = 100_000

/**
 * A path an account calls the mock on: it starts with `/`, carries no query
 * string, and is none of the mock's own (`/cgi-bin/component/…`, the
 * authorization pages, `/__admin…`).
 *
 * @since 0.1.0
 * @category models
 */
export const AccountPath = Schema.String.pipe(
  Schema.filter((path) =>
    /^\/[^\s?#]{0,999}$/.test(path) &&
      !/^\/(cgi-bin\/component\/|cgi-bin\/componentloginpage$|wxaopen\/safe\/bindcomponent$|__admin(\/|$))/.test(path) ||
    "a path of an account API: /…, no query string, not /cgi-bin/component/…, an authorization page or /__admin"
  )
)

// Any JSON value: a stub's body must be there, even if it is null.
const Json = Schema.Union(
  Schema.Null,
  Schema.Boolean,
  Schema.Number,
  Schema.String,
  Schema.Array(Schema.Unknown),
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

const stubFields = {
  method: Schema.Literal("GET", "POST").annotations({ message: () => ({ message: "GET or POST", override: true }) }),
  path: AccountPath,
  status: Schema.Int.pipe(Schema.between(200, 599)),
  body: Json
}

/**
 * A stub as it is written: the account call it answers (`method`, `path`)
 * and the answer (`status`, default 200, and a JSON `body`).
 *
 * @since 0.1.0
 * @category models
 */
export const StubInput = Schema.Struct({
  ...stubFields,
  status: Schema.optionalWith(stubFields.status, { default: () => 200, exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type StubInput = typeof StubInput.Encoded

/**
 * The fields of a stub a `PATCH` changes.
 *
 * @since 0.1.0
 * @category models
 */
export const StubChanges = Schema.partialWith(Schema.Struct(stubFields), { exact: true })

/**
 * @since 0.1.0
 * @category models
 */
export type StubChanges = typeof StubChanges.Type

/**
 * A stub as the admin API holds it, with its id.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stub extends Readonly<typeof StubInput.Type> {
  readonly id: number
}

/**
 * The whole configuration file.
 *
 * @since 0.1.0
 * @category models
 */
export const MockConfig = Schema.Struct({
  components: Schema.NonEmptyArray(Component),
  authorizers: Schema.optionalWith(Schema.Array(Authorizer), { default: () => [], exact: true }),
  /** Daily calls allowed per component and endpoint, over {@link defaultQuotas}; 45009 past it. */
  quotas: Schema.optionalWith(
    Schema.partialWith(Schema.Record({ key: Endpoint, value: Schema.Int.pipe(Schema.nonNegative()) }), { exact: true }),
    { default: () => ({}), exact: true }
  ),
  /**
   * Daily calls an account may make to one API path (`"/cgi-bin/user/info"`);
   * {@link defaultApiQuota} for a path not named; 45009 past it.
   */
  apiQuotas: Schema.optionalWith(
    Schema.Record({ key: AccountPath, value: Schema.Int.pipe(Schema.nonNegative()) }),
    { default: () => ({}), exact: true }
  ),
  /** The stubs the mock starts with, and gets back on reset. */
  stubs: Schema.optionalWith(Schema.Array(StubInput), { default: () => [], exact: true }),
  /** How many requests the journal keeps. */
  journalLimit: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 1_000, exact: true }),
  /**
   * How many pre-authorization codes the mock holds (used or not, all
   * components together); the oldest goes past it, so that a load test cannot
   * grow the mock's memory without bound.
   */
  maxLivePreAuthCodes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 100_000, exact: true }),
  /** Real-time delays between the attempts at a push that did not get `success`. */
  pushRetryDelaysMs: Schema.optionalWith(Schema.Array(Schema.Int.pipe(Schema.nonNegative())), {
    default: () => [1_000, 2_000, 4_000],
    exact: true
  }),
  /**
   * Host names pushes may go to besides this machine (`localhost`,
   * 127.0.0.1, `[::1]`): a receiver in another container, say. A `pushUrl`
   * anywhere else is refused.
   */
  pushHosts: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [], exact: true })
}).pipe(Schema.filter((config) =>
  config.components.flatMap((component, i) =>
    (["pushUrl", "messageUrl"] as const).flatMap((field) => {
      const url = component[field]
      const refused = url === undefined ? undefined : Guard.pushRefusal(messageUrlFor(url, component.appId), config.pushHosts)
      return refused === undefined ? [] : [{ path: ["components", i, field], message: refused }]
    })
  )
))

/**
 * @since 0.1.0
 * @category models
 */
export type MockConfig = typeof MockConfig.Type

/**
 * The configuration as written in a file (defaults still to apply).
 *
 * @since 0.1.0
 * @category models
 */
export type MockConfigInput = typeof MockConfig.Encoded

/**
 * The configuration the mock runs with when given none: one component, an
 * official account and a mini program.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: MockConfigInput = {
  components: [{
    appId: "wx0c0ffee000000001",
    appSecret: "wxopen-mock-app-secret",
    token: "wxopenMockToken",
    encodingAesKey: "wxopenMockEncodingAesKey0123456789abcdefghi"
  }],
  authorizers: [
    { appId: "wxa1b2c3d4e5f60001", name: "Mock Coffee", type: "officialAccount" },
    { appId: "wxa1b2c3d4e5f60002", name: "Mock Coffee Mini", type: "miniProgram" }
  ]
}

/**
 * Checks a configuration and applies its defaults; an error names each field
 * at fault.
 *
 * @since 0.1.0
 * @category parsing
 */
export const decode = (input: unknown): Either.Either<MockConfig, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(MockConfig, { errors: "all", onExcessProperty: "error" })(input), formatIssues)

/**
 * A decoding error as one line per field at fault: `path.to.field: what is wrong`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => `${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${issue.message}`)
    .join("\n")
