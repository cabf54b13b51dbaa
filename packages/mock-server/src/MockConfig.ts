/**
 * What the mock WeChat knows: the components (third-party platforms) it
 * serves, the accounts that can authorize them, quotas and lifetimes. Read
 * from a JSON file by the CLI, given in code to `start`, or the documented
 * {@link defaults}.
 *
 * @since 0.1.0
 */
import { Either, ParseResult, Schema } from "effect"

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
  "api_start_push_ticket"
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
  pushUrl: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/, { message: () => "an absolute http(s) URL" })), {
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
 * An account that can authorize a component.
 *
 * @since 0.1.0
 * @category models
 */
export const Authorizer = Schema.Struct({
  appId: AppId,
  name: Schema.NonEmptyString,
  type: Schema.Literal("officialAccount", "miniProgram")
})

/**
 * @since 0.1.0
 * @category models
 */
export type Authorizer = typeof Authorizer.Type

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
  })
})

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
