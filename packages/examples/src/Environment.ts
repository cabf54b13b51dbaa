/**
 * Where the examples run. By default against wxopen's embedded mock WeChat,
 * started here on a free port; with `WXOPEN_COMPONENT_APPID` set, against
 * the real WeChat, configured from the `WXOPEN_*` variables (the verify
 * ticket, which WeChat pushes to your platform's public URL, comes from
 * `WXOPEN_COMPONENT_VERIFY_TICKET`).
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { AuthorizerToken, ComponentConfig, ComponentToken, TokenStore, WeChatClient } from "@wxopen/core"
import { MockServer } from "@wxopen/mock-server"
import { Config, Console, Effect, Layer, Option, Redacted } from "effect"

/**
 * The embedded mock, or the real WeChat.
 *
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "Mock"; readonly mock: MockServer.RunningMock }
  | { readonly _tag: "WeChat"; readonly ticket: Option.Option<Redacted.Redacted<string>> }

/**
 * Starts the embedded mock unless `WXOPEN_COMPONENT_APPID` is set; the mock is
 * closed with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const target = Effect.gen(function*() {
  const appId = yield* Config.option(Config.string("WXOPEN_COMPONENT_APPID"))
  if (Option.isSome(appId)) {
    return { _tag: "WeChat", ticket: yield* Config.option(ComponentToken.ticketConfig) } as Target
  }
  const mock = yield* Effect.acquireRelease(
    Effect.promise(() => MockServer.start({ port: 0 })),
    (mock) => Effect.promise(() => mock.close())
  )
  return { _tag: "Mock", mock } as Target
})

/**
 * wxopen's services for the target: configuration, a memory store, the
 * client, the component and authorizer token services, and an HTTP client
 * (`NodeHttpClient.layerUndici` by default, the cheapest on Node).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (target: Target, client: Layer.Layer<HttpClient> = NodeHttpClient.layerUndici) => {
  const config = target._tag === "WeChat"
    ? ComponentConfig.layerConfig()
    : (() => {
      const component = target.mock.config.components[0]!
      return ComponentConfig.layer({
        appId: component.appId,
        appSecret: Redacted.make(component.appSecret),
        apiBaseUrl: target.mock.url,
        messageToken: Redacted.make(component.token),
        encodingAesKey: Redacted.make(component.encodingAesKey)
      })
    })()
  return AuthorizerToken.layer.pipe(
    Layer.provideMerge(ComponentToken.layer),
    Layer.provideMerge(WeChatClient.layer()),
    Layer.provideMerge(config),
    Layer.provideMerge(TokenStore.layerMemory),
    Layer.provideMerge(client)
  )
}

/**
 * The verify ticket a receiver would have stored: the mock's current one, or
 * the one given for the real WeChat.
 *
 * @since 0.1.0
 * @category constructors
 */
export const currentTicket = (target: Target): Effect.Effect<Option.Option<Redacted.Redacted<string>>> =>
  target._tag === "WeChat"
    ? Effect.succeed(target.ticket)
    : Effect.promise(() => target.mock.admin.ticket(target.mock.config.components[0]!.appId)).pipe(
      Effect.map(({ ticket }) => Option.some(Redacted.make(ticket)))
    )

let step = 0

/**
 * Prints the first step of a script: which WeChat it talks to.
 *
 * @since 0.1.0
 * @category printing
 */
export const announce = (target: Target) =>
  done("WeChat", target._tag === "Mock" ? `the embedded mock at ${target.mock.url}` : "the real WeChat (WXOPEN_* is set)")

/**
 * Prints one step of a script: `✔ 3. what: detail`.
 *
 * @since 0.1.0
 * @category printing
 */
export const done = (what: string, detail: string) => Console.log(`✔ ${++step}. ${what}: ${detail}`)

/**
 * Prints a step a script could not run here, and why.
 *
 * @since 0.1.0
 * @category printing
 */
export const skipped = (what: string, why: string) => Console.log(`- ${++step}. ${what}: skipped (${why})`)

/**
 * A secret as the examples print it: never its value.
 *
 * @since 0.1.0
 * @category printing
 */
export const masked = (secret: Redacted.Redacted<string>) => `<redacted, ${Redacted.value(secret).length} characters>`
