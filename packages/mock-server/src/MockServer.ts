/**
 * The mock WeChat as an HTTP server. WeChat's endpoints
 * (`/cgi-bin/component/…`), an account's user logging in
 * (`/connect/oauth2/authorize`, `/sns/…`) and every other GET or POST outside
 * the admin API and the authorization pages, an account's call to an Official
 * Account or Mini Program API (`?access_token=`, answered by a stub, a
 * built-in answer or WeChat's 40066), are answered straight from `node:http`. json-server's
 * Express app carries the rest: the authorization pages
 * (`/cgi-bin/componentloginpage`, `/wxaopen/safe/bindcomponent`), the admin
 * API (`/__admin/…`), json-server's router showing the state, read only, under
 * `/__admin/state` and serving the stubs, a resource, under `/__admin/stubs`.
 *
 * Start it with {@link start} (a URL, an admin client and `close`), with the
 * scoped {@link layer} in an Effect test suite, or with the `wxopen-mock` CLI.
 *
 * @example
 * ```ts
 * import { MockServer } from "@wxopen/mock-server"
 *
 * const mock = await MockServer.start({ port: 0 })
 * await mock.admin.addFault({ endpoint: "api_create_preauthcode", times: 2, fault: { type: "errcode", errcode: -1 } })
 * await mock.close()
 * ```
 *
 * @since 0.1.0
 */
import { Context, Effect, Either, Layer, Schema } from "effect"
import type { ParseResult } from "effect"
import jsonServer from "json-server"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as AdminClient from "./AdminClient.js"
import * as Faults from "./Faults.js"
import * as Journal from "./Journal.js"
import * as MockConfig from "./MockConfig.js"
import * as AccountApi from "./internal/AccountApi.js"
import * as AccountMessages from "./internal/AccountMessages.js"
import * as Page from "./internal/AuthorizationPage.js"
import * as CustomerMessages from "./internal/CustomerMessages.js"
import * as Guard from "./internal/Guard.js"
import * as Pusher from "./internal/Pusher.js"
import * as ReleaseCheck from "./internal/ReleaseCheck.js"
import * as Rids from "./internal/Rids.js"
import * as UserLogin from "./internal/UserLogin.js"
import * as WeChatState from "./internal/WeChatState.js"

/**
 * How the mock is started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default 0: an ephemeral port. */
  readonly port?: number
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default {@link MockConfig.defaults}. */
  readonly config?: MockConfig.MockConfigInput
  /**
   * When set, every admin request must carry `authorization: Bearer <token>`
   * (the {@link RunningMock.admin} client sends it). WeChat's endpoints are
   * not affected.
   */
  readonly adminToken?: string
  /**
   * Host names the admin API answers for besides IP addresses and
   * `localhost` (a container's name, say): any other `Host` is refused, so
   * that a web page cannot reach the admin API through a name it controls.
   */
  readonly allowedHosts?: ReadonlyArray<string>
}

/**
 * A running mock.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningMock {
  /** The base URL: give it to `WXOPEN_API_BASE_URL`. */
  readonly url: string
  readonly admin: AdminClient.AdminClient
  /** The configuration in force, defaults applied. */
  readonly config: MockConfig.MockConfig
  readonly close: () => Promise<void>
}

/**
 * The largest request body read; a larger one is answered 47001.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBodyBytes = 1024 * 1024

/**
 * The most stubs the admin API holds; creating one more is refused.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxStubs = 1_000

/** The furthest the admin API moves the clock in one call: ten years. */
const maxAdvanceSeconds = 10 * 365 * 24 * 3600

// Work that runs on its own (pushes, ticks) must never turn into an unhandled rejection.
const background = (work: Promise<unknown>): void => void work.catch(() => {})

type Handler = (req: IncomingMessage & { params?: Record<string, string> }, res: ServerResponse, body: string) => Promise<void> | void

/** Reads a body, then calls `then` once, with `undefined` for a body too large or a request that failed. */
const readBody = (req: IncomingMessage, then: (body: string | undefined) => void): void => {
  const chunks: Array<Buffer> = []
  let size = 0
  let done = false
  const finish = (body: string | undefined) => {
    if (done) return
    done = true
    then(body)
  }
  req.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size <= maxBodyBytes) chunks.push(chunk)
  })
  req.on("end", () =>
    finish(size > maxBodyBytes ? undefined : chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"))
  )
  req.on("error", () => finish(undefined))
}

const send = (res: ServerResponse, status: number, body: string, type: string) => {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) })
  res.end(body)
}
const sendJson = (res: ServerResponse, body: unknown, status = 200) =>
  send(res, status, JSON.stringify(body), "application/json; charset=utf-8")

/** A request's path and query string (without `?`) as `new URL` reads them. */
const splitUrl = (raw: string): { readonly path: string; readonly search: string } => {
  // Appended rather than resolved: a path that starts with // would otherwise be read as a host.
  const url = new URL(`http://mock.invalid${raw.startsWith("/") ? "" : "/"}${raw}`)
  return { path: url.pathname, search: url.search.slice(1) }
}

const decodes = (path: string) => {
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

/** A WeChat call's answer: an HTTP status (200 but for a stub's) and a JSON body. */
interface Reply {
  readonly status: number
  readonly body: unknown
}

// The customer-service API: the mock keeps what accounts send through it.
const customerSendPath = "/cgi-bin/message/custom/send"

// Paths under /sns/ take a user's OAuth token or a component token, not an account's: no account check applies there.
const isAccountCall = (path: string) => !path.startsWith("/sns/")

const decodeWith = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })
  return (input: unknown): Either.Either<A, string> =>
    Either.mapLeft(decode(input), (error: ParseResult.ParseError) => MockConfig.formatIssues(error))
}
const decodeStub = decodeWith(MockConfig.StubInput)
const decodeStubChanges = decodeWith(MockConfig.StubChanges)

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// The component secrets the state view hides unless asked with this header and value.
const revealHeader = "x-wxopen-reveal"

/** The state as the admin API shows it: each component's secrets replaced by `***`. */
const hideSecrets = (data: unknown): unknown => {
  if (Array.isArray(data)) return data.map(hideSecrets)
  if (typeof data !== "object" || data === null) return data
  if ("appSecret" in data) return { ...data, appSecret: "***", token: "***", encodingAesKey: "***" }
  return "components" in data ? { ...data, components: hideSecrets(data.components) } : data
}

// json-server's own query parameters the state view takes, with what their values must look like.
const stateOptions: Record<string, RegExp> = {
  _page: /^\d{1,6}$/,
  _limit: /^\d{1,6}$/,
  _start: /^\d{1,6}$/,
  _end: /^\d{1,6}$/,
  _sort: /^[A-Za-z][A-Za-z0-9]{0,63}$/,
  _order: /^(?:asc|desc)$/
}

// Full-text search, JSONP, and the fields the view hides: a filter on them would tell a secret one guess at a time.
const unfiltered = new Set(["q", "callback", "appSecret", "token", "encodingAesKey"])

/**
 * The state view's query, or why it is refused: exact filters on a field
 * (`componentAppId=wx…`) and paging and sorting only. json-server's other
 * filters build regular expressions (`_like`) and walk deep paths from the
 * query string; one request could hold the process.
 */
const stateQuery = (search: string): Record<string, string> | { readonly refused: string } => {
  const query: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(search)) {
    const option = stateOptions[key]
    if (option === undefined && (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key) || unfiltered.has(key))) {
      return { refused: `query parameter ${JSON.stringify(key.slice(0, 64))} is not accepted: filter on a field, exact values, with _page, _limit, _start, _end, _sort and _order` }
    }
    if (option !== undefined && !option.test(value)) return { refused: `${key} does not take ${JSON.stringify(value.slice(0, 64))}` }
    if (key in query) return { refused: `query parameter ${key} is given twice` }
    query[key] = value
  }
  return query
}

// json-server's routers answer an error with its stack trace: these answer it without, as a failed request.
const withoutStackTraces = (router: { readonly stack: Array<{ handle: (...args: Array<never>) => void }> }) => {
  for (const layer of router.stack) {
    if (layer.handle.length === 4) {
      layer.handle = (_error: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) =>
        sendJson(res, { error: "the request could not be served: check its body and query" }, 400)
    }
  }
}

// json-server's `/db` route answers the whole state itself, past `render` (and so past the hiding of secrets, under
// any spelling Express matches: `/db/`, `/DB`): the mock answers `/db`, and this route goes.
const withoutDbRoute = (router: { stack: Array<{ readonly route?: { readonly path?: unknown } }> }) => {
  router.stack = router.stack.filter((layer) => layer.route?.path !== "/db")
}

// json-server's router answers through its `render`, which its types do not show.
const renderWith = (router: object, render: (req: IncomingMessage, res: ServerResponse, data: unknown) => void) =>
  Object.assign(router, {
    render: (req: IncomingMessage, res: ServerResponse & { readonly locals: Record<string, unknown> }) => render(req, res, res.locals["data"])
  })

// The mock's request handler (`dispatch`) and the pieces behind it, not listening yet.
const makeApp = (config: MockConfig.MockConfig, policy: Guard.AdminPolicy) => {
  let offsetMs = 0
  const clock = { now: () => Date.now() + offsetMs }
  const state = WeChatState.make(config, clock)
  const faults = Faults.make()
  const journal = Journal.make(config.journalLimit)
  const rids = Rids.make(clock)
  const pusher = Pusher.make({ config, state, clock })
  const userLogin = UserLogin.make(state, clock)
  const messages = AccountMessages.make({ config, state, clock })
  const customerMessages = CustomerMessages.make(clock)
  const releaseCheck = ReleaseCheck.make({ state, messages, customerMessages })
  const router = jsonServer.router(state.state as unknown as object)
  // json-server answers through `render` (JSONP when asked): here, JSON only, and the secrets hidden unless asked for.
  renderWith(router, (req, res, data) => sendJson(res, req.headers[revealHeader] === "secrets" ? data : hideSecrets(data), res.statusCode))
  const initialStubs = () => ({ stubs: config.stubs.map((stub, i) => ({ id: i + 1, ...stub })) })
  // The stubs are a json-server resource: its router lists, reads, creates, changes and deletes them.
  const stubs = jsonServer.router(initialStubs())
  renderWith(stubs, (_req, res, data) => sendJson(res, data, res.statusCode))
  withoutStackTraces(router)
  withoutDbRoute(router)
  withoutStackTraces(stubs)
  /** The newest stub for `method path`. */
  const findStub = (method: string, path: string): MockConfig.Stub | undefined => {
    const held = (stubs.db.getState() as { stubs: Array<MockConfig.Stub> }).stubs
    for (let i = held.length - 1; i >= 0; i--) {
      if (held[i]!.path === path && held[i]!.method === method) return held[i]
    }
    return undefined
  }
  const app = jsonServer.create()
  // No query parser: json-server's routers, the only readers of `req.query`, get flat queries, checked first.
  app.set("query parser", false)

  const tick = () => {
    state.prune()
    userLogin.prune()
    return Promise.all(pusher.tick())
  }
  const delays = new Set<NodeJS.Timeout>()
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer)
        resolve()
      }, ms).unref()
      delays.add(timer)
    })

  /**
   * Answers one WeChat call, a component endpoint's or an account's: a fault
   * when a rule for `endpoint` fires, else `answer`; the call is journaled
   * under `endpoint`.
   */
  const serve = (
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
    call: {
      readonly endpoint: string
      readonly path: string
      readonly query: Readonly<Record<string, string>>
      /** Whose call this is (an appid), for its rid; read once answered. */
      readonly owner: (json: unknown) => string | undefined
    },
    answer: (json: unknown, fault: Faults.Fault | undefined) => Reply
  ) => {
    const at = clock.now()
    const started = performance.now()
    const method = req.method ?? ""
    const json = body === "" ? undefined : parseJson(body)
    // Kept whole up to 4 KiB: past that, only its length, so that the journal's memory stays bounded in bytes too.
    // The customer-service API's text may carry an authorization code (the release check's `<code>_from_api`).
    const kept = json === undefined || body.length > 4096
      ? { characters: body.length }
      : call.path === customerSendPath
      ? CustomerMessages.maskAuthCodes(json)
      : json
    const record = (status: number, errcode: number | undefined, fault: string | undefined) =>
      journal.record({ at, method, path: call.path, endpoint: call.endpoint, query: call.query, body: kept, status, errcode, fault })
    // An error's rid, with what the mock received and answered, masked now: rid/get shows it for 7 days.
    const keepRid = (reply: Reply) => {
      const rid = Rids.ridOf(reply.body)
      if (rid === undefined) return
      rids.record(rid, {
        at,
        costMs: Math.round(performance.now() - started),
        url: Rids.maskedUrl(call.path, call.query),
        requestBody: Rids.bodyText(body, Journal.mask(kept)),
        responseBody: Rids.bodyText("-", Rids.maskAnswer(reply.body)),
        clientIp: ipOf(req)(),
        owner: call.owner(json),
        path: call.path
      })
    }
    const respond = (fire: Faults.Fault | undefined) => {
      if (fire?.type === "reset") {
        record(0, undefined, "reset")
        req.socket.resetAndDestroy()
        return
      }
      if (fire?.type === "status") {
        record(fire.status, undefined, "status")
        return send(res, fire.status, fire.body ?? `<html><body><h1>${fire.status}</h1><p>nginx</p></body></html>`, "text/html")
      }
      if (fire?.type === "empty") {
        record(200, undefined, "empty")
        return send(res, 200, "", "application/json; charset=utf-8")
      }
      if (fire?.type === "malformed") {
        record(200, undefined, "malformed")
        return send(res, 200, `{"errcode": 0, "errmsg": ok`, "application/json; charset=utf-8")
      }
      const reply = fire?.type === "errcode" ? { status: 200, body: WeChatState.error(fire.errcode, fire.errmsg) } : answer(json, fire)
      const text = JSON.stringify(reply.body)
      const errcode = typeof reply.body === "object" && reply.body !== null ? (reply.body as { errcode?: unknown }).errcode : undefined
      record(reply.status, typeof errcode === "number" && errcode !== 0 ? errcode : undefined, fire?.type)
      keepRid(reply)
      if (fire?.type === "truncated") {
        // The length of the whole answer is announced, half of it is sent, and the connection ends.
        res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) })
        res.write(text.slice(0, Math.floor(text.length / 2)), () => req.socket.destroy())
        return
      }
      send(res, reply.status, text, "application/json; charset=utf-8")
    }
    const fault = faults.take(call.endpoint)
    if (fault?.type !== "delay") return respond(fault)
    // A delay answers as if there were no fault, once it is over.
    return wait(fault.ms ?? (fault.minMs ?? 0) + Math.random() * ((fault.maxMs ?? fault.minMs ?? 0) - (fault.minMs ?? 0)))
      .then(() => respond(undefined))
  }

  const ipOf = (req: IncomingMessage) => () => (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "")

  const wechat: Handler = (req, res, body) => {
    const { path, search } = splitUrl(req.url ?? "/")
    // As Express answered it when it routed these paths: a malformed percent-escape is a bad request.
    if (!decodes(path)) return sendJson(res, WeChatState.error(47001), 400)
    // Only /cgi-bin/component/NAME is an endpoint: a deeper path is not.
    // (and clear_quota/v2, the quota reset with the app secret).
    const endpoint = /^\/cgi-bin\/component\/([^/]+|clear_quota\/v2)$/.exec(path)?.[1] ?? ""
    const query = Object.fromEntries(new URLSearchParams(search))
    const owner = (json: unknown) =>
      state.callOwner(query.component_access_token, (json as { component_appid?: unknown } | undefined)?.component_appid)
    serve(req, res, body, { endpoint, path, query, owner }, (json, fault) => {
      const answer = state.answer({
        endpoint,
        method: req.method ?? "",
        query,
        json,
        contentType: () => String(req.headers["content-type"] ?? ""),
        ip: ipOf(req)
      })
      if (fault === undefined && endpoint === "api_start_push_ticket" && answer.errcode === 0) {
        background(pusher.pushTicket((json as { component_appid: string }).component_appid))
      }
      return { status: 200, body: answer }
    })
  }

  // The diagnostics APIs: each takes a component's token or an account's, as `access_token`.
  const diagnostics: Record<string, (owner: WeChatState.Owner, json: Record<string, unknown>) => WeChatState.Answer> = {
    "/cgi-bin/openapi/rid/get": (owner, json) => rids.lookup(owner, json.rid),
    "/cgi-bin/openapi/quota/get": (owner, json) => state.quotaOf(owner, json.cgi_path),
    // The token's owner resets its own counters, and names itself.
    "/cgi-bin/clear_quota": (owner, json) =>
      json.appid === undefined || json.appid === ""
        ? WeChatState.error(41002)
        : json.appid !== owner.appId
        ? WeChatState.error(40013)
        : state.clearQuota(owner.appId)
  }

  // An account's call to any other API: checked as WeChat checks it, then a stub, a built-in answer, or 40066.
  const accountApi: Handler = (req, res, body) => {
    const method = req.method ?? ""
    const { path, search } = splitUrl(req.url ?? "/")
    const query = Object.fromEntries(new URLSearchParams(search))
    const owner = () => state.callOwner(query.access_token, undefined)
    serve(req, res, body, { endpoint: path, path, query, owner }, (json) => {
      const diagnosis = diagnostics[path]
      if (diagnosis !== undefined) {
        if (method !== "POST") return { status: 200, body: WeChatState.error(43002) }
        const checked = state.tokenOwner(query.access_token)
        if ("refused" in checked) return { status: 200, body: checked.refused }
        if (typeof json !== "object" || json === null || Array.isArray(json)) return { status: 200, body: WeChatState.error(47001) }
        return { status: 200, body: diagnosis(checked.owner, json as Record<string, unknown>) }
      }
      const login = userLogin.answer(path, query)
      if (login !== undefined) return { status: 200, body: login }
      const checked = isAccountCall(path) ? state.accountCall({ path, query, ip: ipOf(req) }) : undefined
      if (checked !== undefined && "refused" in checked) return { status: 200, body: checked.refused }
      const stub = findStub(method, path)
      if (stub !== undefined) return { status: stub.status, body: stub.body }
      if (path === customerSendPath && checked !== undefined) {
        return {
          status: 200,
          body: method === "POST" ? customerMessages.send(checked.componentAppId, checked.account.appId, json) : WeChatState.error(43002)
        }
      }
      return { status: 200, body: AccountApi.builtIn(method, path) ?? AccountApi.noAnswer(method, path) }
    })
  }

  // The stubs' routes: each write checked with Schema, and only exact filters on method and path, before json-server's
  // router does the work (its other filters take regular expressions and deep paths from the query string).
  const stubRoutes: Handler = (req, res, body) => {
    const { path, search } = splitUrl(req.url ?? "/")
    const id = /^\/([^/]+)$/.exec(path)?.[1]
    if (path !== "/" && path !== "" && id === undefined) return sendJson(res, { error: "no such route" }, 404)
    const method = req.method ?? ""
    const allowed = id === undefined ? ["GET", "POST"] : ["GET", "PUT", "PATCH", "DELETE"]
    if (!allowed.includes(method)) return sendJson(res, { error: `${method} is not accepted here: ${allowed.join(", ")}` }, 405)
    const params = new URLSearchParams(search)
    for (const key of new Set(params.keys())) {
      if (id !== undefined || method !== "GET" || (key !== "method" && key !== "path")) {
        return sendJson(res, { error: `query parameter ${key} is not accepted: GET /__admin/stubs filters on method and path, exact values` }, 400)
      }
      if (params.getAll(key).length > 1) return sendJson(res, { error: `query parameter ${key} is given twice` }, 400)
    }
    // The body is read already: json-server's body parser must see it done, or it reads a spent stream and fails.
    Object.assign(req, { body: {}, _body: true })
    if (method === "POST" || method === "PUT" || method === "PATCH") {
      const input = parseJson(body)
      const decoded = method === "PATCH" ? decodeStubChanges(input) : decodeStub(input)
      if (Either.isLeft(decoded)) return sendJson(res, { error: input === undefined ? "the body must be JSON" : decoded.left }, 400)
      if (method === "POST" && (stubs.db.getState() as { stubs: Array<unknown> }).stubs.length >= maxStubs) {
        return sendJson(res, { error: `at most ${maxStubs} stubs: delete some, or reset` }, 400)
      }
      Object.assign(req, { body: decoded.right })
    }
    // json-server's router would let this header turn a POST into another method.
    delete req.headers["x-http-method-override"]
    Object.assign(req, { query: Object.fromEntries(params), url: id === undefined ? "/stubs" : `/stubs/${id}` })
    stubs(req as never, res as never, () => sendJson(res, { error: "no such route" }, 404))
  }

  const admin: Record<string, Handler> = {
    "GET /health": (_, res) => sendJson(res, { ok: true }),
    "GET /clock": (_, res) => sendJson(res, { now: new Date(clock.now()).toISOString(), offsetMs }),
    "POST /clock": async (_, res, body) => {
      const seconds = (parseJson(body) as { advanceSeconds?: unknown } | undefined)?.advanceSeconds
      if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0 || seconds > maxAdvanceSeconds) {
        return sendJson(res, { error: `advanceSeconds must be a number from 0 to ${maxAdvanceSeconds} (ten years)` }, 400)
      }
      offsetMs += seconds * 1000
      await tick()
      sendJson(res, { now: new Date(clock.now()).toISOString(), offsetMs })
    },
    "GET /faults": (_, res) => sendJson(res, faults.list()),
    "POST /faults": (_, res, body) =>
      Either.match(Faults.decodeRule(parseJson(body)), {
        onLeft: (error) => sendJson(res, { error }, 400),
        onRight: (rule) => sendJson(res, faults.add(rule), 201)
      }),
    "DELETE /faults": (_, res) => {
      faults.clear()
      sendJson(res, { ok: true })
    },
    "DELETE /faults/:id": (req, res) =>
      faults.remove(Number(req.params?.id)) ? sendJson(res, { ok: true }) : sendJson(res, { error: "no such fault" }, 404),
    "GET /journal": (req, res) => {
      const params = new URL(req.url ?? "/", "http://mock.invalid").searchParams
      const number = (name: string) => params.has(name) ? Number(params.get(name)) : undefined
      const endpoint = params.get("endpoint") ?? undefined
      const errcode = number("errcode")
      const limit = number("limit")
      if (errcode !== undefined && !Number.isInteger(errcode)) return sendJson(res, { error: "errcode must be an integer" }, 400)
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) return sendJson(res, { error: "limit must be a positive integer" }, 400)
      sendJson(res, journal.query({
        ...(endpoint === undefined ? {} : { endpoint }),
        ...(errcode === undefined ? {} : { errcode }),
        ...(limit === undefined ? {} : { limit })
      }))
    },
    "DELETE /journal": (_, res) => {
      journal.clear()
      sendJson(res, { ok: true })
    },
    "POST /reset": async (_, res) => {
      offsetMs = 0
      router.db.setState(state.reset() as never)
      stubs.db.setState(initialStubs())
      faults.clear()
      journal.clear()
      rids.clear()
      pusher.reset()
      userLogin.reset()
      customerMessages.reset()
      await tick()
      sendJson(res, { ok: true })
    },
    "GET /components/:appId/ticket": (req, res) => {
      const ticket = state.currentTicket(req.params?.appId ?? "")
      return ticket === undefined ? sendJson(res, { error: "no ticket for this component" }, 404) : sendJson(res, ticket)
    },
    "POST /components/:appId/push-ticket": async (req, res) => {
      const pushed = await pusher.pushTicket(req.params?.appId ?? "")
      return pushed === undefined ? sendJson(res, { error: "unknown component" }, 404) : sendJson(res, pushed)
    },
    "PUT /components/:appId/push-url": (req, res, body) => {
      const pushUrl = (parseJson(body) as { pushUrl?: unknown } | undefined)?.pushUrl
      const found = state.state.components.find((c) => c.appId === req.params?.appId)
      if (found === undefined) return sendJson(res, { error: "unknown component" }, 404)
      if (typeof pushUrl !== "string") return sendJson(res, { error: `pushUrl must be ${Guard.destinationShape}` }, 400)
      const refused = Guard.destinationRefusal("pushUrl", pushUrl, config.pushHosts)
      if (refused !== undefined) return sendJson(res, { error: refused }, 400)
      ;(found as { pushUrl?: string }).pushUrl = pushUrl
      sendJson(res, { ok: true })
    },
    "GET /pushes": (_, res) => sendJson(res, pusher.list()),
    "PUT /components/:appId/message-url": (req, res, body) => {
      const messageUrl = (parseJson(body) as { messageUrl?: unknown } | undefined)?.messageUrl
      const found = state.state.components.find((c) => c.appId === req.params?.appId)
      if (found === undefined) return sendJson(res, { error: "unknown component" }, 404)
      if (typeof messageUrl !== "string") return sendJson(res, { error: `messageUrl must be ${Guard.destinationShape}` }, 400)
      const refused = Guard.destinationRefusal("messageUrl", MockConfig.messageUrlFor(messageUrl, found.appId), config.pushHosts)
      if (refused !== undefined) return sendJson(res, { error: refused }, 400)
      ;(found as { messageUrl?: string }).messageUrl = messageUrl
      sendJson(res, { ok: true })
    },
    "POST /components/:appId/messages": async (req, res, body) => {
      const options = parseJson(body) as { authorizerAppId?: unknown; message?: unknown } | undefined
      if (typeof options?.authorizerAppId !== "string") return sendJson(res, { error: "authorizerAppId is required" }, 400)
      const refused = AccountMessages.fieldsRefusal(options.message)
      if (refused !== undefined) return sendJson(res, { error: refused }, 400)
      const delivery = await messages.deliver(req.params?.appId ?? "", options.authorizerAppId, options.message as AccountMessages.Fields)
      return "refused" in delivery ? sendJson(res, { error: delivery.refused }, delivery.status) : sendJson(res, delivery)
    },
    "POST /components/:appId/release-check": async (req, res, body) => {
      const options = (body === "" ? {} : parseJson(body)) as { kind?: unknown; waitSeconds?: unknown } | undefined
      const kind = options?.kind ?? "officialAccount"
      const waitSeconds = options?.waitSeconds ?? 10
      if (kind !== "officialAccount" && kind !== "miniProgram") {
        return sendJson(res, { error: "kind must be officialAccount or miniProgram" }, 400)
      }
      if (typeof waitSeconds !== "number" || !(waitSeconds >= 0 && waitSeconds <= ReleaseCheck.maxWaitSeconds)) {
        return sendJson(res, { error: `waitSeconds must be a number from 0 to ${ReleaseCheck.maxWaitSeconds}` }, 400)
      }
      const report = await releaseCheck.run(req.params?.appId ?? "", { kind, waitSeconds })
      return "refused" in report ? sendJson(res, { error: report.refused }, report.status) : sendJson(res, report)
    },
    "GET /customer-messages": (req, res) => {
      const authorizerAppId = new URL(req.url ?? "/", "http://mock.invalid").searchParams.get("authorizerAppId") ?? undefined
      sendJson(res, customerMessages.list(authorizerAppId))
    },
    "POST /oauth-codes": (_, res, body) => {
      const issued = userLogin.issueOAuthCode((parseJson(body) ?? {}) as { componentAppId: unknown; authorizerAppId: unknown })
      return "error" in issued ? sendJson(res, issued, 400) : sendJson(res, issued, 201)
    },
    "POST /js-codes": (_, res, body) => {
      const issued = userLogin.issueJsCode((parseJson(body) ?? {}) as { componentAppId: unknown; authorizerAppId: unknown })
      return "error" in issued ? sendJson(res, issued, 400) : sendJson(res, issued, 201)
    },
    "POST /authorizations": async (_, res, body) => {
      const options = parseJson(body) as
        | { componentAppId?: unknown; authorizerAppId?: unknown; preAuthCode?: unknown; permissions?: unknown }
        | undefined
      if (typeof options?.componentAppId !== "string" || typeof options.authorizerAppId !== "string") {
        return sendJson(res, { error: "componentAppId and authorizerAppId are required" }, 400)
      }
      const permissions = options.permissions
      if (permissions !== undefined && !(Array.isArray(permissions) && permissions.every((id) => Number.isInteger(id) && id > 0))) {
        return sendJson(res, { error: "permissions must be an array of funcscope_category ids (positive integers)" }, 400)
      }
      const result = state.authorize({
        componentAppId: options.componentAppId,
        authorizerAppId: options.authorizerAppId,
        ...(typeof options.preAuthCode === "string" ? { preAuthCode: options.preAuthCode } : {}),
        ...(permissions === undefined ? {} : { permissions: permissions as Array<number> })
      })
      if ("error" in result) return sendJson(res, result, 400)
      const push = await pusher.pushAuthorization(options.componentAppId, options.authorizerAppId, result, options)
      sendJson(res, { ...result, push }, 201)
    },
    "DELETE /authorizations/:component/:authorizer": async (req, res) => {
      const [component, authorizer] = [req.params?.component ?? "", req.params?.authorizer ?? ""]
      if (!state.revoke(component, authorizer)) return sendJson(res, { error: "no such authorization" }, 404)
      const push = await pusher.pushUnauthorized(component, authorizer)
      sendJson(res, { ok: true, push })
    },
    "POST /authorizations/:component/:authorizer/invalidate-token": (req, res) =>
      state.invalidateToken(req.params?.component ?? "", req.params?.authorizer ?? "")
        ? sendJson(res, { ok: true })
        : sendJson(res, { error: "no such authorization" }, 404)
  }

  // Every route reads its own body, and nothing a request sends can throw out of a handler.
  const route = (handler: Handler) => (req: IncomingMessage, res: ServerResponse) =>
    readBody(req, (body) => {
      const failed = () => sendJson(res, WeChatState.error(-1), 500)
      if (body === undefined) return sendJson(res, WeChatState.error(47001))
      try {
        // Called directly rather than in a promise: most handlers answer at once, and a WeChat call pays for every tick.
        handler(req, res, body)?.catch(failed)
      } catch {
        failed()
      }
    })

  // WeChat's authorization pages, PC and mobile: the same page, the same confirmation.
  const showPage: Handler = (req, res) => {
    const url = new URL(req.url ?? "/", "http://mock.invalid")
    const link = Page.linkOf(url.searchParams)
    const problem = Page.problemOf(link, state.state, state.preAuthCode(link.preAuthCode), clock.now())
    const html = problem === undefined
      ? Page.confirmPage(link, Page.accountsFor(link, config.authorizers), url.pathname)
      : Page.errorPage(problem)
    send(res, 200, html, "text/html; charset=utf-8")
  }
  const confirm: Handler = async (_req, res, body) => {
    const form = new URLSearchParams(body)
    const link = Page.linkOf(form)
    const problem = Page.problemOf(link, state.state, state.preAuthCode(link.preAuthCode), clock.now())
    const authorizerAppId = form.get("authorizer_appid") ?? ""
    if (problem !== undefined) return send(res, 200, Page.errorPage(problem), "text/html; charset=utf-8")
    if (!Page.accountsFor(link, config.authorizers).some((a) => a.appId === authorizerAppId)) {
      return send(res, 200, Page.errorPage("该账号不能授权 (this account is not offered by the link)"), "text/html; charset=utf-8")
    }
    const result = state.authorize({ componentAppId: link.componentAppId, authorizerAppId, preAuthCode: link.preAuthCode })
    if ("error" in result) return send(res, 200, Page.errorPage(result.error), "text/html; charset=utf-8")
    await pusher.pushAuthorization(link.componentAppId, authorizerAppId, result, { preAuthCode: link.preAuthCode })
    res.writeHead(302, { location: Page.redirectTo(link.redirectUri, result.authorizationCode)!, "content-length": 0 })
    res.end()
  }
  // An Official Account's OAuth page, for a component: the user agrees at once, and the browser goes back with a code.
  const oauthPage: Handler = (req, res) => {
    const { search } = splitUrl(req.url ?? "/")
    const outcome = userLogin.authorize(new URLSearchParams(search))
    if ("problem" in outcome) {
      return send(res, 200, Page.errorPage(`${outcome.problem.code} ${outcome.problem.text}`), "text/html; charset=utf-8")
    }
    res.writeHead(302, { location: outcome.location, "content-length": 0 })
    res.end()
  }
  for (const path of ["/cgi-bin/componentloginpage", "/wxaopen/safe/bindcomponent"]) {
    app.get(path, route(showPage))
    app.post(path, route(confirm))
  }

  // Every admin request is checked before any route: its Host, its origin, its body's type, its token.
  app.use("/__admin", (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const refused = Guard.refusal(req, policy)
    if (refused === undefined) return next()
    if (refused.status === 401) res.setHeader("www-authenticate", "Bearer")
    sendJson(res, { error: refused.error }, refused.status)
  })
  for (const [key, handler] of Object.entries(admin)) {
    const [method, path] = key.split(" ") as [string, string]
    app[method.toLowerCase() as "get" | "post" | "put" | "delete"](`/__admin${path}`, route(handler))
  }
  app.use("/__admin/state", (req, res, next) => {
    if (req.method !== "GET") return sendJson(res, { error: "read only" }, 405)
    const { path, search } = splitUrl(req.url)
    const query = stateQuery(search)
    if ("refused" in query) return sendJson(res, { error: query.refused }, 400)
    // As Express matches a route: any case, a trailing slash.
    if (/^\/db\/?$/i.test(path)) return sendJson(res, req.headers[revealHeader] === "secrets" ? state.state : hideSecrets(state.state))
    req.query = query
    next()
  })
  app.use("/__admin/state", router)
  app.use("/__admin/stubs", route(stubRoutes))
  app.use((_req: IncomingMessage, res: ServerResponse) => sendJson(res, WeChatState.error(48001, "api not found"), 404))
  // What Express itself refuses (a malformed percent-escape in the path, say) is answered as WeChat would.
  app.use((_error: unknown, _req: IncomingMessage, res: ServerResponse, _next: unknown) => sendJson(res, WeChatState.error(47001), 400))

  // WeChat's calls skip Express, which costs more than the mock's own answer: it gives every request and response a
  // prototype of its own (Object.setPrototypeOf), and the garbage of that was most of a call's cost. Matched as
  // Express matched their routes before: case-insensitive, the pages with or without a trailing slash.
  const component = route(wechat)
  const account = route(accountApi)
  const oauth = route(oauthPage)
  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? "/"
    if (/^\/cgi-bin\/component\//i.test(url)) return component(req, res)
    if (req.method === "GET" && /^\/connect\/oauth2\/authorize\/?(?:[?#]|$)/.test(url)) return oauth(req, res)
    // Every other GET or POST outside the admin API and the authorization pages is an account's call.
    const accountCall = (req.method === "GET" || req.method === "POST") && !/^\/__admin(?:[/?]|$)/.test(url) &&
      !/^\/(?:cgi-bin\/componentloginpage|wxaopen\/safe\/bindcomponent)\/?(?:[?#]|$)/i.test(url)
    if (accountCall) return account(req, res)
    app(req, res)
  }

  const close = () => {
    for (const timer of delays) clearTimeout(timer)
    delays.clear()
    pusher.close()
    messages.close()
  }
  return { dispatch, pusher, tick, close }
}

/**
 * The mock could not start: an invalid configuration, or a port it could not
 * listen on.
 *
 * @since 0.1.0
 * @category errors
 */
export class MockStartError extends Schema.TaggedError<MockStartError>()("MockStartError", { detail: Schema.String }) {
  /** @since 0.1.0 */
  override get message(): string {
    return `the mock WeChat could not start: ${this.detail}`
  }
}

/**
 * Starts a mock; its first tickets are issued and pushed at once. Rejects
 * with a {@link MockStartError}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (options: Options = {}): Promise<RunningMock> => {
  const config = Either.getOrThrowWith(
    MockConfig.decode(options.config ?? MockConfig.defaults),
    (error) => new MockStartError({ detail: `invalid configuration:\n${error}` })
  )
  const policy: Guard.AdminPolicy = {
    token: options.adminToken,
    allowedHosts: new Set((options.allowedHosts ?? []).map((name) => name.toLowerCase()))
  }
  if (options.adminToken !== undefined && !/^[\x21-\x7e]{16,256}$/.test(options.adminToken)) {
    throw new MockStartError({ detail: "adminToken must be 16 to 256 printable characters without spaces" })
  }
  const { close, dispatch, tick } = makeApp(config, policy)
  const host = options.host ?? "127.0.0.1"
  if (!Guard.isLoopback(host)) {
    process.emitWarning(
      `the mock WeChat listens on ${host}, reachable from other machines: its admin API changes and shows its state ` +
        (options.adminToken === undefined ? "to anyone who can reach it; set an admin token (adminToken; WXOPEN_MOCK_ADMIN_TOKEN for wxopen-mock)" : "to anyone with its token"),
      { code: "WXOPEN_MOCK_EXPOSED" }
    )
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = createServer(dispatch)
    listening.on("error", (error) => reject(new MockStartError({ detail: error.message })))
    listening.listen(options.port ?? 0, host, () => resolve(listening))
  })
  // An upload that never ends is cut off rather than read for ever.
  server.requestTimeout = 30_000
  server.headersTimeout = 10_000
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
  background(tick())
  // Real time moves the mock's clock too: due tickets go out, and expired state goes, without a request.
  const timer = setInterval(() => background(tick()), 1_000).unref()
  return {
    url,
    admin: AdminClient.make(url, options.adminToken === undefined ? {} : { token: options.adminToken }),
    config,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer)
        close()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * A running mock as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class MockServer extends Context.Tag("@wxopen/mock-server/MockServer")<MockServer, RunningMock>() {}

/**
 * A fresh mock on an ephemeral port for the layer's lifetime (a test suite,
 * or a single test).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<MockServer, MockStartError> =>
  Layer.scoped(
    MockServer,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => start(options),
        catch: (error) => error instanceof MockStartError ? error : new MockStartError({ detail: String(error) })
      }),
      (mock) => Effect.promise(() => mock.close())
    )
  )
