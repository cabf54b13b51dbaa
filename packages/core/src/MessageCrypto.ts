/**
 * WeChat's message encryption (WXBizMsgCrypt), both ways: decrypt and verify
 * what WeChat pushes, encrypt and sign pushes of your own (the mock server
 * and tests do).
 *
 * - `AESKey = base64(EncodingAESKey + "=")`, 32 bytes; AES-256-CBC with the
 *   first 16 bytes of the key as IV, and PKCS#7 padding to 32-byte blocks.
 * - Plaintext: 16 random bytes, the message length (4 bytes, big-endian), the
 *   message in UTF-8, then the appid it is meant for, which must be ours.
 * - `msg_signature = sha1(sort([token, timestamp, nonce, Encrypt]).join(""))`,
 *   compared in constant time.
 *
 * Every failure is a `MessageCryptoError` with a `reason`, returned in an
 * `Either`, never thrown. No error detail quotes decrypted bytes.
 *
 * @example
 * ```ts
 * import { Either, Redacted } from "effect"
 * import { MessageCrypto } from "@wxopen/core"
 *
 * const crypto = MessageCrypto.make({
 *   appId: "wx1234567890abcdef",
 *   token: Redacted.make("token"),
 *   encodingAesKey: Redacted.make("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
 * })
 * if (Either.isRight(crypto)) {
 *   const encrypted = crypto.right.encrypt("<xml>…</xml>")
 *   const signature = crypto.right.sign("1700000000", "nonce", encrypted)
 *   console.log(crypto.right.open({ signature, timestamp: "1700000000", nonce: "nonce", encrypted }))
 * }
 * ```
 *
 * @since 0.1.0
 */
import { Either, Redacted, Schema } from "effect"
import * as Crypto from "node:crypto"
import { isAppId } from "./AppId.js"

/**
 * Why a message could not be opened (or the key could not be used).
 *
 * @since 0.1.0
 * @category errors
 */
export class MessageCryptoError extends Schema.TaggedError<MessageCryptoError>()("MessageCryptoError", {
  reason: Schema.Literal(
    "BadEncodingAesKey",
    "BadSignature",
    "BadBase64",
    "BadCiphertext",
    "BadPadding",
    "BadLength",
    "WrongAppId"
  ),
  detail: Schema.String
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const advice = {
      BadEncodingAesKey: "copy the EncodingAESKey (43 letters and digits) from the Open Platform console",
      BadSignature: "the message was not signed with this component's token: forged, or the token is misconfigured",
      BadBase64: "the Encrypt field is not valid base64: the body was truncated or altered on the way",
      BadCiphertext: "the ciphertext is not whole 32-byte blocks: the body was truncated or altered on the way",
      BadPadding: "the padding is invalid: the EncodingAESKey is probably not this component's, or the message was altered",
      BadLength: "the length inside the message does not fit: the EncodingAESKey is probably wrong, or the message was altered",
      WrongAppId: "the message was encrypted for another appid: check WXOPEN_COMPONENT_APPID and the EncodingAESKey"
    }[this.reason]
    return `cannot open the WeChat message (${this.detail}): ${advice}`
  }
}

/**
 * Opens and seals the messages of one component.
 *
 * @since 0.1.0
 * @category models
 */
export interface MessageCrypto {
  /** The appid messages are meant for. */
  readonly appId: string
  /** The `msg_signature` of an encrypted message. */
  readonly sign: (timestamp: string, nonce: string, encrypted: string) => string
  /** Checks a `msg_signature`, in constant time. */
  readonly verify: (
    signature: string,
    timestamp: string,
    nonce: string,
    encrypted: string
  ) => Either.Either<void, MessageCryptoError>
  /** Decrypts an `Encrypt` field and checks that it is meant for {@link appId}. */
  readonly decrypt: (encrypted: string) => Either.Either<string, MessageCryptoError>
  /** {@link verify}, then {@link decrypt}. */
  readonly open: (message: {
    readonly signature: string
    readonly timestamp: string
    readonly nonce: string
    readonly encrypted: string
  }) => Either.Either<string, MessageCryptoError>
  /** Encrypts a message for {@link appId}; `random` (16 bytes) is for known-answer tests. */
  readonly encrypt: (message: string, random?: Uint8Array) => string
}

const block = 32
const fail = (reason: MessageCryptoError["reason"], detail: string) =>
  Either.left(new MessageCryptoError({ reason, detail }))

/**
 * The AES key an EncodingAESKey stands for, once it is checked: 43 letters
 * and digits.
 *
 * @since 0.1.0
 * @category parsing
 */
export const aesKey = (
  encodingAesKey: Redacted.Redacted<string>
): Either.Either<Redacted.Redacted<Uint8Array>, MessageCryptoError> => {
  const value = Redacted.value(encodingAesKey)
  if (!/^[a-zA-Z0-9]{43}$/.test(value)) {
    return fail("BadEncodingAesKey", `expected 43 letters and digits, got ${value.length} characters`)
  }
  return Either.right(Redacted.make(Buffer.from(value + "=", "base64")))
}

/**
 * The crypto of one component, once its EncodingAESKey is checked.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly appId: string
  readonly token: Redacted.Redacted<string>
  readonly encodingAesKey: Redacted.Redacted<string>
}): Either.Either<MessageCrypto, MessageCryptoError> =>
  Either.map(aesKey(options.encodingAesKey), (redactedKey) => {
    const key = Redacted.value(redactedKey)
    const iv = key.subarray(0, 16)
    const appId = Buffer.from(options.appId, "utf8")

    const sign: MessageCrypto["sign"] = (timestamp, nonce, encrypted) =>
      Crypto.createHash("sha1")
        .update([Redacted.value(options.token), timestamp, nonce, encrypted].sort().join(""))
        .digest("hex")

    const verify: MessageCrypto["verify"] = (signature, timestamp, nonce, encrypted) => {
      const expected = Buffer.from(sign(timestamp, nonce, encrypted), "utf8")
      const given = Buffer.from(signature.toLowerCase(), "utf8")
      return given.length === expected.length && Crypto.timingSafeEqual(given, expected)
        ? Either.void
        : fail("BadSignature", "msg_signature does not match")
    }

    const decrypt: MessageCrypto["decrypt"] = (encrypted) => {
      if (encrypted.length === 0 || encrypted.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encrypted)) {
        return fail("BadBase64", `${encrypted.length} characters that are not whole base64`)
      }
      const ciphertext = Buffer.from(encrypted, "base64")
      if (ciphertext.length % block !== 0) {
        return fail("BadCiphertext", `${ciphertext.length} bytes`)
      }
      const decipher = Crypto.createDecipheriv("aes-256-cbc", key, iv).setAutoPadding(false)
      const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()])
      const pad = plain[plain.length - 1]!
      if (pad < 1 || pad > block || plain.subarray(plain.length - pad).some((byte) => byte !== pad)) {
        return fail("BadPadding", `padding byte ${pad}`)
      }
      const content = plain.subarray(16, plain.length - pad)
      if (content.length < 4) return fail("BadLength", "no room for the length field")
      const length = content.readUInt32BE(0)
      if (4 + length > content.length) {
        return fail("BadLength", `length field ${length} exceeds the ${content.length - 4} bytes that follow`)
      }
      const receiver = content.subarray(4 + length)
      if (!receiver.equals(appId)) {
        // The appid found is shown only when it looks like one: tampered bytes here could be part of the message.
        const found = receiver.toString("utf8")
        return fail(
          "WrongAppId",
          isAppId(found)
            ? `meant for ${found}, not ${options.appId}`
            : `meant for a ${receiver.length}-byte receiver, not ${options.appId}`
        )
      }
      return Either.right(content.subarray(4, 4 + length).toString("utf8"))
    }

    const encrypt: MessageCrypto["encrypt"] = (message, random = Crypto.randomBytes(16)) => {
      const body = Buffer.from(message, "utf8")
      const length = Buffer.alloc(4)
      length.writeUInt32BE(body.length, 0)
      const unpadded = Buffer.concat([random.subarray(0, 16), length, body, appId])
      const pad = block - (unpadded.length % block)
      const cipher = Crypto.createCipheriv("aes-256-cbc", key, iv).setAutoPadding(false)
      const plain = Buffer.concat([unpadded, Buffer.alloc(pad, pad)])
      return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64")
    }

    return {
      appId: options.appId,
      sign,
      verify,
      decrypt,
      open: ({ encrypted, nonce, signature, timestamp }) =>
        Either.flatMap(verify(signature, timestamp, nonce, encrypted), () => decrypt(encrypted)),
      encrypt
    }
  })
