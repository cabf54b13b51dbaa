/**
 * wxopen's services as every benchmark builds them: the one place a stack of
 * wxopen's layers is put together (`Client.ts`, `QuotaClient.ts` and through
 * it `QuotaBench.ts` and `QuotaWorker.ts` all call {@link layer}), so that a
 * change of what `PreAuthCode.create` needs is made here once.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform/HttpClient"
import { ComponentConfig, ComponentToken, type TokenStore, WeChatClient } from "@wxopen/core"
import { type ConfigError, type Duration, Layer, type Redacted } from "effect"

/**
 * What a stack is built from: the component's settings (the others left at
 * wxopen's defaults), the token store, and the user's HttpClient.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<StoreError, ClientError> {
  readonly appId: string
  readonly appSecret: Redacted.Redacted<string>
  readonly apiBaseUrl: string
  /** Default `ComponentConfig.defaultRequestTimeout`. */
  readonly requestTimeout?: Duration.DurationInput
  /** Needed, with {@link encodingAesKey}, by a push receiver. */
  readonly messageToken?: Redacted.Redacted<string>
  readonly encodingAesKey?: Redacted.Redacted<string>
  readonly store: Layer.Layer<TokenStore.TokenStore, StoreError>
  readonly client: Layer.Layer<HttpClient, ClientError>
}

/**
 * Every service a stack provides: what `PreAuthCode.create` and a push
 * receiver need, and the store and client they are built on.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | ComponentToken.ComponentToken
  | WeChatClient.WeChatClient
  | ComponentConfig.ComponentConfig
  | TokenStore.TokenStore
  | HttpClient

/**
 * wxopen's services on `store` and `client`, each built once.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <StoreError, ClientError>(
  options: Options<StoreError, ClientError>
): Layer.Layer<Services, StoreError | ClientError | ConfigError.ConfigError> =>
  ComponentToken.layer.pipe(
    Layer.provideMerge(WeChatClient.layer()),
    Layer.provideMerge(ComponentConfig.layer({
      appId: options.appId,
      appSecret: options.appSecret,
      apiBaseUrl: options.apiBaseUrl,
      ...(options.requestTimeout === undefined ? {} : { requestTimeout: options.requestTimeout }),
      ...(options.messageToken === undefined ? {} : { messageToken: options.messageToken }),
      ...(options.encodingAesKey === undefined ? {} : { encodingAesKey: options.encodingAesKey })
    })),
    Layer.provideMerge(options.store),
    Layer.provideMerge(options.client)
  )
