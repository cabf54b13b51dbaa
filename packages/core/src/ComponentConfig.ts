/**
 * The third-party platform (component) that wxopen acts for: its appid and
 * secret, where WeChat's API lives (overridable, to talk to the wxopen mock),
 * how early tokens are refreshed, and the message token and EncodingAESKey
 * its pushes are signed and encrypted with.
 *
 * The options are checked when the layer is built, so a typo fails at start-up
 * with a `ConfigError`, not at the first merchant's authorization.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { ComponentConfig } from "@wxopen/core"
 *
 * // from WXOPEN_COMPONENT_APPID, WXOPEN_COMPONENT_APPSECRET and WXOPEN_API_BASE_URL
 * const FromEnv = ComponentConfig.layerConfig()
 *
 * // or given outright
 * const Given = ComponentConfig.layer({
 *   appId: "wx1234567890abcdef",
 *   appSecret: Redacted.make("...")
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import { describeInvalid, isAppId } from "./AppId.js"
import { aesKey } from "./MessageCrypto.js"

/**
 * WeChat's API base URL.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultApiBaseUrl = "https://api.weixin.qq.com"

/**
 * How much of a token's life must be left for it to be used; below this it is
 * refreshed. Five minutes, matching WeChat's grace period for a superseded token.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRefreshMargin: Duration.Duration = Duration.minutes(5)

/**
 * How long one HTTP request to WeChat may take before it counts as failed.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(10)

const maxRefreshMargin = Duration.hours(1)

/**
 * The component's settings, checked and with defaults applied.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** The component's appid (`component_appid`). */
  readonly appId: string
  /** The component's app secret (`component_appsecret`). */
  readonly appSecret: Redacted.Redacted<string>
  /** The API base URL, without a trailing slash. */
  readonly apiBaseUrl: string
  /** Refresh a token when less than this is left of its life. */
  readonly refreshMargin: Duration.Duration
  /** The timeout of one HTTP request. */
  readonly requestTimeout: Duration.Duration
  /** The token WeChat signs pushes with ("消息校验Token"); needed to receive pushes. */
  readonly messageToken: Option.Option<Redacted.Redacted<string>>
  /** The key WeChat encrypts pushes with ("消息加解密Key"), checked; needed to receive pushes. */
  readonly encodingAesKey: Option.Option<Redacted.Redacted<string>>
}

/**
 * What a user gives to build {@link Settings}; the optional fields have defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly appId: string
  readonly appSecret: Redacted.Redacted<string>
  /** Default {@link defaultApiBaseUrl}. */
  readonly apiBaseUrl?: string
  /** Default {@link defaultRefreshMargin}; at most one hour (a token lives two). */
  readonly refreshMargin?: Duration.DurationInput
  /** Default {@link defaultRequestTimeout}. */
  readonly requestTimeout?: Duration.DurationInput
  /** Needed, with {@link encodingAesKey}, by the push receiver. */
  readonly messageToken?: Redacted.Redacted<string>
  /** 43 letters and digits. Needed, with {@link messageToken}, by the push receiver. */
  readonly encodingAesKey?: Redacted.Redacted<string>
}

/**
 * The component's settings as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class ComponentConfig extends Context.Tag("@wxopen/core/ComponentConfig")<ComponentConfig, Settings>() {}

const invalid = (path: string, message: string) => ConfigError.InvalidData([path], message)

const checkBaseUrl = (input: string): Either.Either<string, ConfigError.ConfigError> => {
  // Quoted in errors without any user:password@ it may carry.
  const shown = `"${input.replace(/\/\/[^/?#]*@/, "//<credentials>@")}"`
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(invalid("apiBaseUrl", `${shown} is not an absolute URL (expected e.g. ${defaultApiBaseUrl})`))
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(invalid("apiBaseUrl", `${shown} must use http or https`))
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    return Either.left(invalid("apiBaseUrl", `"${url.origin}${url.pathname}" must not carry credentials, a query or a fragment`))
  }
  return Either.right(url.href.replace(/\/+$/, ""))
}

/**
 * Checks the options and applies the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Settings, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    const appId = options.appId.trim()
    if (!isAppId(appId)) return yield* Effect.fail(invalid("appId", `the component's ${describeInvalid(appId)}`))
    if (Redacted.value(options.appSecret).trim() === "") {
      return yield* Effect.fail(invalid("appSecret", "the component app secret is empty"))
    }
    const apiBaseUrl = yield* checkBaseUrl(options.apiBaseUrl ?? defaultApiBaseUrl)
    const refreshMargin = Duration.decode(options.refreshMargin ?? defaultRefreshMargin)
    if (!Duration.isFinite(refreshMargin) || Duration.greaterThan(refreshMargin, maxRefreshMargin)) {
      return yield* Effect.fail(
        invalid("refreshMargin", "the refresh margin must be at most one hour, or every call would fetch a new token")
      )
    }
    const requestTimeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
    if (!Duration.isFinite(requestTimeout) || Duration.isZero(requestTimeout)) {
      return yield* Effect.fail(invalid("requestTimeout", "the request timeout must be finite and positive"))
    }
    const messageToken = Option.fromNullable(options.messageToken)
    const encodingAesKey = Option.fromNullable(options.encodingAesKey)
    if (Option.isSome(messageToken) !== Option.isSome(encodingAesKey)) {
      return yield* Effect.fail(
        invalid(
          Option.isSome(messageToken) ? "encodingAesKey" : "messageToken",
          "the message token and the EncodingAESKey go together: give both to receive pushes, or neither"
        )
      )
    }
    if (Option.isSome(messageToken) && !/^[a-zA-Z0-9]{3,32}$/.test(Redacted.value(messageToken.value))) {
      return yield* Effect.fail(
        invalid("messageToken", "the message token must be 3 to 32 letters and digits, as the Open Platform console requires")
      )
    }
    if (Option.isSome(encodingAesKey)) {
      yield* Effect.mapError(aesKey(encodingAesKey.value), (error) => invalid("encodingAesKey", error.message))
    }
    return { appId, appSecret: options.appSecret, apiBaseUrl, refreshMargin, requestTimeout, messageToken, encodingAesKey }
  })

/**
 * A layer from options given in code.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ComponentConfig, ConfigError.ConfigError> =>
  Layer.effect(ComponentConfig, make(options))

/**
 * A secret read from the environment (the `WXOPEN_*` secrets, a Redis URL
 * with a password). `Config.redacted` redacts its errors too, so a missing
 * variable would be reported as `"<redacted>"`: this one names the variable
 * and what it holds.
 *
 * @since 0.1.0
 * @category config
 */
export const secret = (name: string, what: string): Config.Config<Redacted.Redacted<string>> =>
  Config.option(Config.redacted(name)).pipe(
    Config.mapOrFail(Option.match({
      onNone: () => Either.left(ConfigError.MissingData([name], `${name} is not set: it holds ${what}`)),
      onSome: Either.right
    }))
  )

/**
 * The options read from the environment: `WXOPEN_COMPONENT_APPID`,
 * `WXOPEN_COMPONENT_APPSECRET`, and optionally `WXOPEN_API_BASE_URL`,
 * `WXOPEN_TOKEN_REFRESH_MARGIN` and `WXOPEN_REQUEST_TIMEOUT` (durations such
 * as `5 minutes`), `WXOPEN_COMPONENT_TOKEN` and
 * `WXOPEN_COMPONENT_ENCODING_AES_KEY` (to receive pushes).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  appId: Config.string("WXOPEN_COMPONENT_APPID"),
  appSecret: secret("WXOPEN_COMPONENT_APPSECRET", "the component's AppSecret, from the Open Platform console"),
  apiBaseUrl: Config.string("WXOPEN_API_BASE_URL").pipe(Config.withDefault(defaultApiBaseUrl)),
  refreshMargin: Config.duration("WXOPEN_TOKEN_REFRESH_MARGIN").pipe(Config.withDefault(defaultRefreshMargin)),
  requestTimeout: Config.duration("WXOPEN_REQUEST_TIMEOUT").pipe(Config.withDefault(defaultRequestTimeout)),
  messageToken: Config.option(Config.redacted("WXOPEN_COMPONENT_TOKEN")),
  encodingAesKey: Config.option(Config.redacted("WXOPEN_COMPONENT_ENCODING_AES_KEY"))
}).pipe(
  Config.map(({ encodingAesKey, messageToken, ...rest }): Options => ({
    ...rest,
    ...Option.match(messageToken, { onNone: () => ({}), onSome: (value) => ({ messageToken: value }) }),
    ...Option.match(encodingAesKey, { onNone: () => ({}), onSome: (value) => ({ encodingAesKey: value }) })
  }))
)

/**
 * A layer from `Config`: by default {@link config}, read from the environment;
 * or a record of `Config`s, one per option.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<ComponentConfig, ConfigError.ConfigError> =>
  Layer.effect(ComponentConfig, Effect.flatMap(Config.unwrap(options), make))
