import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck, Redacted } from "effect"
import { readFileSync } from "node:fs"
import * as MessageCrypto from "../src/MessageCrypto.js"
import { plaintext, sealRaw } from "./utils.js"

const vector = JSON.parse(
  readFileSync(new URL("./fixtures/official-doc-push.json", import.meta.url), "utf8")
) as {
  readonly token: string
  readonly encodingAesKey: string
  readonly componentAppId: string
  readonly pushUrl: string
  readonly encrypt: string
  readonly computed: { readonly msg: string; readonly random16: string }
  readonly reply: {
    readonly random16: string
    readonly plaintext: string
    readonly timestamp: string
    readonly nonce: string
    readonly encrypt: string
    readonly msg_signature: string
  }
}

const make = (appId = vector.componentAppId, encodingAesKey = vector.encodingAesKey) =>
  Either.getOrThrow(
    MessageCrypto.make({ appId, token: Redacted.make(vector.token), encodingAesKey: Redacted.make(encodingAesKey) })
  )
const crypto = make()

const reason = <A>(result: Either.Either<A, MessageCrypto.MessageCryptoError>) =>
  Either.match(result, { onLeft: (error) => error.reason, onRight: () => "ok" })

const craft = (options: Parameters<typeof plaintext>[0]) =>
  sealRaw(plaintext({ appId: vector.componentAppId, ...options }), vector.encodingAesKey)

describe("MessageCrypto, WeChat's published sample", () => {
  const query = new URL(vector.pushUrl).searchParams

  it("the msg_signature of the push matches", () => {
    const signature = crypto.sign(query.get("timestamp")!, query.get("nonce")!, vector.encrypt)
    assert.strictEqual(signature, query.get("msg_signature"))
    assert.strictEqual(reason(crypto.verify(query.get("msg_signature")!, query.get("timestamp")!, query.get("nonce")!, vector.encrypt)), "ok")
  })

  it("the push decrypts to the documented message", () => {
    assert.deepStrictEqual(crypto.decrypt(vector.encrypt), Either.right(vector.computed.msg))
  })

  it("the push encrypts back to the same ciphertext with its random prefix", () => {
    assert.strictEqual(crypto.encrypt(vector.computed.msg, Buffer.from(vector.computed.random16)), vector.encrypt)
  })

  it("the reply encrypts and signs exactly as documented", () => {
    const { encrypt, msg_signature, nonce, plaintext, random16, timestamp } = vector.reply
    assert.strictEqual(crypto.encrypt(plaintext, Buffer.from(random16)), encrypt)
    assert.strictEqual(crypto.sign(timestamp, nonce, encrypt), msg_signature)
  })
})

describe("MessageCrypto round trips", () => {
  const lengths = [0, 1, 31, 32, 33, 4096 + 7]
  for (const length of lengths) {
    it(`a ${length}-byte message`, () => {
      const message = "x".repeat(length)
      assert.deepStrictEqual(crypto.decrypt(crypto.encrypt(message)), Either.right(message))
    })
  }

  it("a message that needs a whole 32-byte block of padding", () => {
    // 16 random + 4 length + 26 + 18 appid = 64 bytes: padded with 32 bytes of 32.
    const message = "y".repeat(26)
    const encrypted = crypto.encrypt(message)
    assert.strictEqual(Buffer.from(encrypted, "base64").length, 96)
    assert.deepStrictEqual(crypto.decrypt(encrypted), Either.right(message))
  })

  it("multi-byte UTF-8, across block boundaries", () => {
    for (const message of ["授权", "票据🎫".repeat(11), `<xml><Text><![CDATA[${"微信".repeat(2000)}]]></Text></xml>`]) {
      assert.deepStrictEqual(crypto.decrypt(crypto.encrypt(message)), Either.right(message))
    }
  })

  it.prop("decrypt(encrypt(m)) = m for any string", [FastCheck.string({ unit: "binary", maxLength: 300 })], ([message]) => {
    assert.deepStrictEqual(crypto.decrypt(crypto.encrypt(message)), Either.right(message))
  })

  it.prop("open(sign(encrypt(m))) = m", [FastCheck.string(), FastCheck.integer({ min: 0 }), FastCheck.hexaString()], ([message, time, nonce]) => {
    const encrypted = crypto.encrypt(message)
    const timestamp = String(time)
    const signature = crypto.sign(timestamp, nonce, encrypted)
    assert.deepStrictEqual(crypto.open({ signature, timestamp, nonce, encrypted }), Either.right(message))
  })
})

describe("MessageCrypto rejections", () => {
  const encrypted = crypto.encrypt("<xml><ComponentVerifyTicket>t</ComponentVerifyTicket></xml>")
  const signature = crypto.sign("1700000000", "42", encrypted)

  it("a tampered signature", () => {
    const tampered = (signature[0] === "a" ? "b" : "a") + signature.slice(1)
    assert.strictEqual(reason(crypto.open({ signature: tampered, timestamp: "1700000000", nonce: "42", encrypted })), "BadSignature")
    assert.strictEqual(reason(crypto.open({ signature: signature.slice(0, 39), timestamp: "1700000000", nonce: "42", encrypted })), "BadSignature")
  })

  it("a signature over another timestamp (a replayed message with a new one)", () => {
    assert.strictEqual(reason(crypto.open({ signature, timestamp: "1700000001", nonce: "42", encrypted })), "BadSignature")
  })

  it("a tampered ciphertext: its signature no longer matches, and its padding breaks", () => {
    const bytes = Buffer.from(encrypted, "base64")
    bytes[bytes.length - 17]! ^= 0x01 // flips the last plaintext byte, the padding length
    const tampered = bytes.toString("base64")
    assert.strictEqual(reason(crypto.open({ signature, timestamp: "1700000000", nonce: "42", encrypted: tampered })), "BadSignature")
    assert.strictEqual(reason(crypto.decrypt(tampered)), "BadPadding")
  })

  it("truncated base64", () => {
    assert.strictEqual(reason(crypto.decrypt(encrypted.slice(0, -3))), "BadBase64")
    assert.strictEqual(reason(crypto.decrypt("")), "BadBase64")
    assert.strictEqual(reason(crypto.decrypt("not base64!")), "BadBase64")
  })

  it("base64 that is not whole blocks", () => {
    assert.strictEqual(reason(crypto.decrypt(encrypted.slice(0, 24))), "BadCiphertext")
  })

  it("a padding byte of 0", () => {
    assert.strictEqual(reason(crypto.decrypt(craft({ padByte: 0 }))), "BadPadding")
  })

  it("a padding byte above 32", () => {
    assert.strictEqual(reason(crypto.decrypt(craft({ padByte: 33 }))), "BadPadding")
  })

  it("padding bytes that disagree", () => {
    const plain = plaintext({ appId: vector.componentAppId })
    plain[plain.length - 2] = plain[plain.length - 1]! + 1
    assert.strictEqual(reason(crypto.decrypt(sealRaw(plain, vector.encodingAesKey))), "BadPadding")
  })

  it("a length field larger than the buffer", () => {
    assert.strictEqual(reason(crypto.decrypt(craft({ length: 10_000 }))), "BadLength")
  })

  it("a wrong trailing appid, named when it looks like one", () => {
    const other = make("wxaaaaaaaaaaaaaaaa")
    const result = crypto.decrypt(other.encrypt("<xml/>"))
    assert.strictEqual(reason(result), "WrongAppId")
    assert.include(Either.getLeft(result).pipe((o) => o._tag === "Some" ? o.value.message : ""), "wxaaaaaaaaaaaaaaaa")
  })

  it("a wrong trailing appid that is not one is not quoted", () => {
    const result = crypto.decrypt(craft({ message: "<xml/>", appId: "ticket@@@secret-ish" }))
    assert.strictEqual(reason(result), "WrongAppId")
    assert.notInclude(Either.getLeft(result).pipe((o) => o._tag === "Some" ? o.value.message : ""), "ticket@@@")
  })

  it("an EncodingAESKey that is not 43 letters and digits, without quoting it", () => {
    for (const key of ["A".repeat(42), "A".repeat(44), "A".repeat(42) + "+", ""]) {
      const result = MessageCrypto.make({ appId: "wx1", token: Redacted.make("t"), encodingAesKey: Redacted.make(key) })
      assert.strictEqual(reason(result), "BadEncodingAesKey")
    }
    const result = MessageCrypto.aesKey(Redacted.make("SECRETKEY"))
    assert.notInclude(Either.getLeft(result).pipe((o) => o._tag === "Some" ? o.value.message : ""), "SECRETKEY")
  })
})
