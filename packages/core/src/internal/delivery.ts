/**
 * What the component's event URL (`ComponentPush`) and the accounts' message
 * URL (`AccountPush`) share: WeChat signs and encrypts both with the
 * component's message token and EncodingAESKey, so both are opened the same
 * way, in the same order (the query's parameters, the envelope's one
 * `Encrypt`, its signature, the decryption), and both bodies are read to the
 * same bound.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { ConfigError, Effect, Either, Option, Stream } from "effect"
import type { Settings } from "../ComponentConfig.js"
import * as MessageCrypto from "../MessageCrypto.js"
import { openEnvelope } from "./envelope.js"
import { maxLength } from "./xml.js"

/** One delivery from WeChat, as any HTTP framework sees it. */
export interface Delivery {
  /** The query string's parameters; `timestamp`, `nonce` and `msg_signature` are read. */
  readonly query: URLSearchParams | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The raw body, as received. */
  readonly body: string
}

/** A query parameter, from `URLSearchParams` or a framework's record (the first of repeated values). */
export const param = (query: Delivery["query"], name: string): string | undefined => {
  const value = query instanceof URLSearchParams ? query.get(name) : query[name]
  return (typeof value === "string" ? value : value?.[0]) ?? undefined
}

/** The component's crypto, from its configuration, or why the configuration cannot receive pushes. */
export const componentCrypto = (config: Settings): Effect.Effect<MessageCrypto.MessageCrypto, ConfigError.ConfigError> => {
  if (Option.isNone(config.messageToken) || Option.isNone(config.encodingAesKey)) {
    return Effect.fail(
      ConfigError.MissingData(
        ["messageToken"],
        "receiving pushes needs the message token and the EncodingAESKey (WXOPEN_COMPONENT_TOKEN, WXOPEN_COMPONENT_ENCODING_AES_KEY)"
      )
    )
  }
  return Either.mapLeft(
    MessageCrypto.make({ appId: config.appId, token: config.messageToken.value, encodingAesKey: config.encodingAesKey.value }),
    (error) => ConfigError.InvalidData(["encodingAesKey"], error.message)
  )
}

/**
 * The decrypted message of a delivery. The envelope is not parsed: its one Encrypt is found by a scan and its
 * signature checked before anything is decrypted or parsed, so that a forged body costs little however it is written.
 */
export const openDelivery = <E>(
  crypto: MessageCrypto.MessageCrypto,
  delivery: Delivery,
  refuse: (reason: "MissingParameter" | "MalformedEnvelope", detail: string) => E
): Either.Either<string, E | MessageCrypto.MessageCryptoError> => {
  const [timestamp, nonce, signature] = ["timestamp", "nonce", "msg_signature"].map((name) => param(delivery.query, name))
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    return Either.left(refuse("MissingParameter", "the query needs timestamp, nonce and msg_signature"))
  }
  return openEnvelope(crypto, { timestamp, nonce, signature }, delivery.body, (detail) => refuse("MalformedEnvelope", detail))
}

/**
 * The body up to `maxLength` bytes, or None past it. A declared length over the limit is refused without reading
 * (the HTTP server discards the body); a body of unknown length is read to its end and what is past the limit dropped,
 * never kept. Either way the client gets its answer, where stopping mid-body would close the connection under it.
 */
export const readBody = (request: HttpServerRequest.HttpServerRequest) => {
  const declared = request.headers["content-length"]
  if (declared !== undefined && Number(declared) > maxLength) return Effect.succeed(Option.none<string>())
  return request.stream.pipe(
    Stream.runFold({ chunks: [] as Array<Uint8Array>, bytes: 0 }, (read, chunk) => {
      read.bytes += chunk.length
      if (read.bytes <= maxLength) read.chunks.push(chunk)
      return read
    }),
    Effect.map(({ bytes, chunks }) =>
      bytes > maxLength ? Option.none<string>() : Option.some(Buffer.concat(chunks).toString("utf8"))
    )
  )
}
