import * as HttpClient from "@effect/platform/HttpClient"
import { assert } from "@effect/vitest"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Cause, Clock, Effect, Either, Exit, Layer, Logger, LogLevel, Redacted, Schedule, Tracer } from "effect"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as ComponentConfig from "../src/ComponentConfig.js"
import * as ComponentToken from "../src/ComponentToken.js"
import { parseFields } from "../src/internal/xml.js"
import * as MessageCrypto from "../src/MessageCrypto.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as TokenStore from "../src/TokenStore.js"
import * as WeChatClient from "../src/WeChatClient.js"

export const appId = "wx0123456789abcdef"
export const appSecret = "s3cr3t-app-secret-value"
export const ticketValue = "ticket@@@verify-ticket-value"
export const messageToken = "pushTokenValue42"
export const encodingAesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

/** Seals a payload as WeChat pushes it: the envelope, and the query with its signature. */
export const seal = (
  xml: string,
  options: { readonly timestamp?: string; readonly nonce?: string; readonly forAppId?: string; readonly key?: string } = {}
) => {
  const crypto = Either.getOrThrow(
    MessageCrypto.make({
      appId: options.forAppId ?? appId,
      token: Redacted.make(messageToken),
      encodingAesKey: Redacted.make(options.key ?? encodingAesKey)
    })
  )
  return signed(crypto.encrypt(xml, Buffer.alloc(16, 1)), options)
}

/** An envelope around any `Encrypt` value, correctly signed with the message token. */
export const signed = (encrypted: string, options: { readonly timestamp?: string; readonly nonce?: string } = {}) => {
  const crypto = Either.getOrThrow(
    MessageCrypto.make({ appId, token: Redacted.make(messageToken), encodingAesKey: Redacted.make(encodingAesKey) })
  )
  const timestamp = options.timestamp ?? "1700000000"
  const nonce = options.nonce ?? "1590219412"
  const query = new URLSearchParams({
    signature: "unused",
    timestamp,
    nonce,
    encrypt_type: "aes",
    msg_signature: crypto.sign(timestamp, nonce, encrypted)
  })
  return { query, body: `<xml><AppId><![CDATA[${appId}]]></AppId><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` }
}

/** AES-256-CBC of raw bytes with an EncodingAESKey, to craft broken plaintexts that are correctly encrypted. */
export const sealRaw = (plain: Buffer, key: string = encodingAesKey) => {
  const aesKey = Buffer.from(key + "=", "base64")
  const cipher = Crypto.createCipheriv("aes-256-cbc", aesKey, aesKey.subarray(0, 16)).setAutoPadding(false)
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64")
}

/** random ‖ length ‖ message ‖ appid, padded to whole 32-byte blocks with `padByte` (the right one by default). */
export const plaintext = (
  options: { readonly message?: string; readonly length?: number; readonly appId?: string; readonly padByte?: number }
) => {
  const body = Buffer.from(options.message ?? "<xml/>")
  const length = Buffer.alloc(4)
  length.writeUInt32BE(options.length ?? body.length)
  const unpadded = Buffer.concat([Buffer.alloc(16, 3), length, body, Buffer.from(options.appId ?? appId)])
  const pad = 32 - (unpadded.length % 32)
  return Buffer.concat([unpadded, Buffer.alloc(pad, options.padByte ?? pad)])
}

/** The payload of a verify-ticket push created at `createTime` (Unix seconds). */
export const ticketXml = (ticket: string, createTime: number) =>
  `<xml><AppId><![CDATA[${appId}]]></AppId><CreateTime>${createTime}</CreateTime>` +
  `<InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[${ticket}]]></ComponentVerifyTicket></xml>`

/** A request the stub received. */
export interface Received {
  readonly method: string
  readonly endpoint: string
  readonly url: URL
  readonly token: string | null
  readonly contentType: string | undefined
  readonly headers: Readonly<Record<string, unknown>>
  readonly rawBody: string
  readonly body: Record<string, unknown>
}

/** What the stub answers: JSON, a raw body with a status, a transport failure, or nothing ever. */
export type Reply =
  | { readonly json: unknown }
  | { readonly status: number; readonly text: string }
  | { readonly transport: string }
  | { readonly hang: true }

export type Handler = (request: Received, n: number) => Effect.Effect<Reply>

/**
 * A scripted WeChat. By default it issues tokens `token-1`, `token-2`, … and
 * pre-authorization codes `preauthcode@@@1`, … for the latest token; handlers
 * given per endpoint replace the default for that endpoint.
 */
export const makeStub = (handlers: Partial<Record<string, Handler>> = {}) => {
  const requests: Array<Received> = []
  let tokens = 0
  let codes = 0
  const count = (endpoint: string) => requests.filter((r) => r.endpoint === endpoint).length

  const defaults: Record<string, Handler> = {
    api_component_token: () => Effect.succeed({ json: { component_access_token: `token-${++tokens}`, expires_in: 7200 } }),
    api_create_preauthcode: (request) =>
      Effect.succeed(
        request.token === `token-${tokens}`
          ? { json: { pre_auth_code: `preauthcode@@@${++codes}`, expires_in: 1800 } }
          : { json: { errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest rid: 0000-1111-2222" } }
      )
  }

  const client = HttpClient.make((request: HttpClientRequest.HttpClientRequest, url: URL) =>
    Effect.gen(function*() {
      const rawBody = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
      const endpoint = url.pathname.split("/").pop() ?? ""
      const received: Received = {
        method: request.method,
        endpoint,
        url,
        token: url.searchParams.get("component_access_token"),
        contentType: request.body._tag === "Uint8Array" ? request.body.contentType : undefined,
        headers: request.headers,
        rawBody,
        body: rawBody === "" ? {} : JSON.parse(rawBody)
      }
      requests.push(received)
      const handler = handlers[endpoint] ?? defaults[endpoint]
      const reply: Reply = handler === undefined
        ? { status: 404, text: "<html>not found</html>" }
        : yield* handler(received, count(endpoint))
      if ("hang" in reply) return yield* Effect.never
      if ("transport" in reply) {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          // Like a real connection error whose text echoes the URL, token and all.
          cause: new Error(`${reply.transport} while requesting ${url.toString()}`)
        })
      }
      const [status, text] = "json" in reply ? [200, JSON.stringify(reply.json)] : [reply.status, reply.text]
      return HttpClientResponse.fromWeb(request, new Response(text, { status }))
    })
  )

  return {
    requests,
    count,
    issuedTokens: () => tokens,
    /** Answers as this stub would, for a stub that delegates to another. */
    handle: (endpoint: string, request: Received) => (handlers[endpoint] ?? defaults[endpoint])!(request, count(endpoint)),
    layer: Layer.succeed(HttpClient.HttpClient, client)
  }
}

export type Stub = ReturnType<typeof makeStub>

/** The client over a stub (or any HttpClient layer), with the test component's configuration, the given policy and client options. */
export const clientLayer = (
  http: { readonly layer: Layer.Layer<HttpClient.HttpClient> },
  options: Partial<ComponentConfig.Options> = {},
  policy: RetryPolicy.Policy = RetryPolicy.defaultPolicy,
  client: WeChatClient.Options = {}
) =>
  WeChatClient.layer(client).pipe(
    Layer.provideMerge(
      ComponentConfig.layer({
        appId,
        appSecret: Redacted.make(appSecret),
        messageToken: Redacted.make(messageToken),
        encodingAesKey: Redacted.make(encodingAesKey),
        ...options
      })
    ),
    Layer.provide(RetryPolicy.layer(policy)),
    Layer.provideMerge(http.layer),
    Layer.orDie
  )

/** Everything `PreAuthCode.create` needs, over a stub, a memory store, the given options, retry policy and client options. */
export const makeLayer = (
  stub: Stub,
  options: Partial<ComponentConfig.Options> = {},
  policy: RetryPolicy.Policy = RetryPolicy.defaultPolicy,
  client: WeChatClient.Options = {}
) => ComponentToken.layer.pipe(Layer.provideMerge(Layer.merge(clientLayer(stub, options, policy, client), TokenStore.layerMemory)))

/** No retries at all, for tests that count single attempts. */
export const noRetries: RetryPolicy.Policy = Schedule.stop

/** Stores the verify ticket as created and received now. */
export const storeTicket = (value: string = ticketValue) =>
  Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    const now = yield* Clock.currentTimeMillis
    yield* store.setTicket(appId, { value: Redacted.make(value), createdAt: now, receivedAt: now })
  })

/** Stores the ticket, and an account's tokens (valid for 2 hours from the epoch, as TestClock starts), as authorized. */
export const storeAccount = (authorizerAppId: string, accessToken: string) =>
  Effect.gen(function*() {
    yield* storeTicket()
    const store = yield* TokenStore.TokenStore
    yield* store.setAuthorizer(appId, authorizerAppId, {
      accessToken: Redacted.make(accessToken),
      expiresAt: 7_200_000,
      refreshToken: Redacted.make("rt"),
      authorizedAt: 0
    })
  })

/** Lets forked fibers run until they block (on the clock, a deferred, …). */
export const settle = Effect.repeatN(Effect.yieldNow(), 50)

/**
 * A WeChat stand-in on a real loopback socket, for the HttpClient stacks
 * themselves: it checks the transport conventions (POST, JSON body, token in
 * the query string) and answers like WeChat.
 */
export const startFakeWeChat = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly received: Array<Received>; readonly server: Http.Server }>((resume) => {
    const received: Array<Received> = []
    let codes = 0
    const server = Http.createServer((req, res) => {
      let raw = ""
      req.setEncoding("utf8")
      req.on("data", (chunk: string) => raw += chunk)
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        const endpoint = url.pathname.split("/").pop() ?? ""
        let body: Record<string, unknown> = {}
        try {
          body = JSON.parse(raw)
        } catch {
          // answered below as WeChat does
        }
        received.push({ method: req.method ?? "", endpoint, url, token: url.searchParams.get("component_access_token"), contentType: req.headers["content-type"], headers: req.headers, rawBody: raw, body })
        const answer = req.method !== "POST" || !req.headers["content-type"]?.startsWith("application/json")
          ? { errcode: 47001, errmsg: "data format error rid: 1-2-3" }
          : endpoint === "api_component_token" && body.component_appsecret === appSecret
          ? { component_access_token: "token-over-http", expires_in: 7200 }
          : endpoint === "api_create_preauthcode" && url.searchParams.get("component_access_token") === "token-over-http"
          ? { pre_auth_code: `preauthcode@@@http-${++codes}`, expires_in: 1800 }
          : { errcode: 40001, errmsg: "invalid credential rid: 1-2-3" }
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify(answer))
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, received, server }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
)

/** A span as {@link recordingTracer} keeps it. */
export interface RecordedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  exit?: Exit.Exit<unknown, unknown>
}

/**
 * A tracer that keeps every span it is asked for, with its attributes and exit; `onEnd` and `onEvent` see each
 * span as it ends and each event as it is added.
 */
export const recordingTracer = (hooks: {
  readonly onEnd?: (span: RecordedSpan) => void
  readonly onEvent?: (name: string, attributes: Record<string, unknown>) => void
} = {}) => {
  const spans: Array<RecordedSpan> = []
  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const recorded: RecordedSpan = { name, attributes: new Map() }
      spans.push(recorded)
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      return {
        _tag: "Span",
        name,
        spanId: String(spans.length),
        traceId: "trace",
        parent,
        context,
        get status() {
          return status
        },
        attributes: recorded.attributes,
        links,
        sampled: true,
        kind,
        end(endTime, exit) {
          status = { _tag: "Ended", startTime, endTime, exit }
          recorded.exit = exit
          hooks.onEnd?.(recorded)
        },
        attribute: (key, value) => void recorded.attributes.set(key, value),
        event: (eventName, _time, attributes) => hooks.onEvent?.(eventName, attributes ?? {}),
        addLinks: () => {}
      }
    },
    context: (f) => f()
  })
  return { spans, layer: Layer.setTracer(tracer) }
}

/** Every text that reaches a log line, a span (name, attributes, events, exit) or an error, and the spans themselves. */
export const makeCapture = () => {
  const texts: Array<string> = []
  const logger = Logger.make(({ annotations, cause, message }) => {
    texts.push(JSON.stringify(message), Cause.pretty(cause))
    for (const [key, value] of annotations) texts.push(`${key}=${JSON.stringify(value)}`)
  })
  const tracing = recordingTracer({
    onEnd: ({ attributes, exit, name }) => {
      texts.push(name, ...[...attributes].map(([k, v]) => `${k}=${String(v)}`))
      if (exit !== undefined && Exit.isFailure(exit)) texts.push(Cause.pretty(exit.cause))
    },
    onEvent: (name, attributes) => texts.push(name, JSON.stringify(attributes))
  })
  const layer = Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, logger),
    Logger.minimumLogLevel(LogLevel.All),
    tracing.layer
  )
  return { texts, spans: tracing.spans, layer }
}

/** An account that authorized the test component. */
export const account = "wxfedcba9876543210"

/** An account's message as WeChat sends it: sealed for the component, in an envelope with ToUserName. */
export const sealMessage = (xml: string, options: Parameters<typeof seal>[1] = {}) => {
  const sealed = seal(xml, options)
  return { query: sealed.query, body: sealed.body.replace(/<AppId>.*?<\/AppId>/, "<ToUserName><![CDATA[gh_account]]></ToUserName>") }
}

/** A user's text message to the account. */
export const textXml = (content: string) =>
  `<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[o-user-1]]></FromUserName>` +
  `<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content>` +
  `<MsgId>1</MsgId></xml>`

/** An event of the account. */
export const eventXml = (event: string) =>
  `<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[o-user-1]]></FromUserName>` +
  `<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event></xml>`

/** The test component's crypto. */
export const componentCrypto = Either.getOrThrow(
  MessageCrypto.make({ appId, token: Redacted.make(messageToken), encodingAesKey: Redacted.make(encodingAesKey) })
)

/** A reply envelope opened as WeChat would: the signature over its own timestamp and nonce, then decrypted and read. */
export const openReply = (body: string) => {
  const envelope = Either.getOrThrow(parseFields(body)) as Record<string, string>
  assert.deepStrictEqual(Object.keys(envelope), ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"])
  const plain = componentCrypto.open({
    signature: envelope.MsgSignature!,
    timestamp: envelope.TimeStamp!,
    nonce: envelope.Nonce!,
    encrypted: envelope.Encrypt!
  })
  return { envelope, reply: Either.getOrThrow(parseFields(Either.getOrThrow(plain))) as Record<string, any> }
}
