/**
 * The servers the benchmarks load, each run in a process of its own (pinned to
 * a core where `taskset` exists) and started by {@link spawn}:
 *
 * - `minimal`: a bare `node:http` server answering every POST with a
 *   pre-authorization code, what the client benchmark calls, so that the
 *   server costs as little as possible and is not what is measured;
 * - `node-http`: the same, the floor of the machine for the mock benchmark;
 * - `json-server`: a json-server 0.17 app (`create()`) with the same route:
 *   the framework's own cost, the mock's baseline;
 * - `mock`: wxopen's mock WeChat (`MockServer.start`).
 *
 * Each prints one line, `listening <url> <milliseconds from start() to listening>`.
 * Imported rather than run, it starts nothing.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { pathToFileURL } from "node:url"

/**
 * The body a pre-authorization code answer has: `preauthcode@@@` and 86 characters, as WeChat's.
 *
 * @since 0.1.0
 * @category constants
 */
export const answer = JSON.stringify({ pre_auth_code: `preauthcode@@@${"x".repeat(86)}`, expires_in: 1800 })

const listen = (server: Http.Server): Promise<string> =>
  new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
  )

// Idle connections are kept for two minutes: with Node's default of 5 s, a client that is starved for a moment can
// send on a connection the server is closing ("other side closed"), and a bare call, which has no retry, fails.
const bare = (): Http.Server => {
  const server = Http.createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(answer) })
      res.end(answer)
    })
  })
  server.keepAliveTimeout = 120_000
  return server
}

/**
 * The servers by kind. Each loads its modules first and answers the function
 * that starts it (and answers its URL once it listens), so that a process of
 * a bare server does not load json-server or the mock, and so that timing the
 * start leaves the imports out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const servers: Readonly<Record<string, () => Promise<() => Promise<string>>>> = {
  minimal: async () => () => listen(bare()),
  "node-http": async () => () => listen(bare()),
  "json-server": async () => {
    const { default: jsonServer } = await import("json-server")
    return () => {
      const app = jsonServer.create()
      app.post("/cgi-bin/component/api_create_preauthcode", (req, res) => {
        req.resume()
        req.on("end", () => {
          res.setHeader("content-type", "application/json; charset=utf-8")
          res.end(answer)
        })
      })
      return listen(Http.createServer(app))
    }
  },
  mock: async () => {
    const { MockServer } = await import("@wxopen/mock-server")
    return async () => (await MockServer.start({ port: 0 })).url
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const kind = process.argv[2] ?? ""
  const load = servers[kind]
  if (load === undefined) {
    console.error(`unknown server "${kind}": one of ${Object.keys(servers).join(", ")}`)
    process.exit(2)
  }
  const start = await load()
  const began = performance.now()
  start().then((url) => console.log(`listening ${url} ${(performance.now() - began).toFixed(1)}`))
}
