/**
 * How long a server takes to answer its first request, in a fresh process:
 * `node dist/Startup.js KIND` (`mock` or `node-http`) starts one, POSTs the
 * load's request to it over a new connection, and prints a {@link Startup} as
 * JSON.
 *
 * The clock starts when `start()` is called, after the modules are imported
 * (which a process pays once, however many mocks it starts). The request is
 * the one the load sends, without a token: the mock answers it 41001, having
 * gone through its whole WeChat path (body, state, journal), so the time
 * covers more than a bound socket.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import * as Server from "./Server.js"

/**
 * What one fresh process measured.
 *
 * @since 0.1.0
 * @category models
 */
export interface Startup {
  /** From `start()` to listening. */
  readonly listeningMs: number
  /** From `start()` to the end of the first answer. */
  readonly firstAnswerMs: number
  readonly status: number
  readonly body: string
}

// The request the load sends, as the mock's default component sends it, without its token.
const path = "/cgi-bin/component/api_create_preauthcode"

const body = JSON.stringify({ component_appid: "wx0c0ffee000000001" })

const post = (url: string): Promise<{ readonly status: number; readonly body: string }> =>
  new Promise((resolve, reject) => {
    const request = Http.request(`${url}${path}`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8").on("data", (chunk: string) => text += chunk)
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }))
    })
    request.on("error", reject)
    request.end(body)
  })

const kind = process.argv[2] ?? ""
const load = Server.servers[kind]
if (load === undefined || kind === "minimal" || kind === "json-server") {
  console.error(`unknown server "${kind}": mock or node-http`)
  process.exit(2)
}
const start = await load()
const began = performance.now()
const url = await start()
const listeningMs = performance.now() - began
const answered = await post(url)
const firstAnswerMs = performance.now() - began
const startup: Startup = { listeningMs, firstAnswerMs, status: answered.status, body: answered.body.slice(0, 200) }
console.log(JSON.stringify(startup))
// The server is not closed: the process ends here.
process.exit(0)
