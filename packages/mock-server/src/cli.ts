/**
 * `wxopen-mock`: runs the mock WeChat from the command line.
 *
 * ```sh
 * wxopen-mock --port 0 --host 127.0.0.1 --config mock.json
 * ```
 *
 * The first line on stdout is `listening on http://HOST:PORT`; then the
 * credentials of each component, the authorizers, and the `WXOPEN_*`
 * settings (a verify ticket among them) that point a program at the first
 * component, as `export` lines. A bad configuration file is reported field
 * by field on stderr, with exit code 2.
 *
 * @since 0.1.0
 */
import { Either } from "effect"
import { readFile } from "node:fs/promises"
import { parseArgs } from "node:util"
import * as MockConfig from "./MockConfig.js"
import * as MockServer from "./MockServer.js"

const usage = `usage: wxopen-mock [-p PORT] [--host HOST] [-c FILE] [--allowed-host NAME ...]
  -p, --port          port to listen on (default 4100; 0 picks a free one)
      --host          address to listen on (default 127.0.0.1; any other than this machine's warns)
  -c, --config        JSON configuration file (components, authorizers, quotas); documented defaults without it
      --allowed-host  a host name the admin API answers for, besides IP addresses and localhost (repeatable)
  -h, --help          this text
The admin API requires a token when WXOPEN_MOCK_ADMIN_TOKEN is set (16 to 256 printable characters).`

const fail = (message: string): never => {
  process.stderr.write(`wxopen-mock: ${message}\n`)
  process.exit(2)
}

// A value as a POSIX shell word: as it is when it is safe, single-quoted otherwise.
const shellWord = (value: string) => /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`

const main = async () => {
  // `npm run mock -- --port 0` drops its `--`; pnpm passes it on: either way, what follows it is ours.
  const args = process.argv.slice(2)
  if (args[0] === "--") args.shift()
  let values: { port?: string; host?: string; config?: string; "allowed-host"?: Array<string>; help?: boolean }
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string", short: "p" },
        host: { type: "string" },
        config: { type: "string", short: "c" },
        "allowed-host": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" }
      }
    }).values
  } catch (error) {
    return fail(`${(error as Error).message}\n${usage}`)
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    return
  }
  const port = Number(values.port ?? "4100")
  if (!/^\d{1,5}$/.test(values.port ?? "4100") || port > 65535) fail(`--port must be 0 to 65535, got ${values.port}`)
  let config: MockConfig.MockConfigInput = MockConfig.defaults
  if (values.config !== undefined) {
    let text = ""
    try {
      text = await readFile(values.config, "utf8")
    } catch (error) {
      fail(`cannot read ${values.config}: ${(error as Error).message}`)
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (error) {
      fail(`${values.config} is not JSON: ${(error as Error).message}`)
    }
    config = Either.match(MockConfig.decode(json), {
      onLeft: (error) => fail(`${values.config} is not a valid configuration:\n${error}`),
      onRight: () => json as MockConfig.MockConfigInput
    })
  }
  // From the environment, not the command line, where any user of the machine could read it.
  const adminToken = process.env["WXOPEN_MOCK_ADMIN_TOKEN"] || undefined
  const mock = await MockServer.start({
    port,
    host: values.host ?? "127.0.0.1",
    config,
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(values["allowed-host"] === undefined ? {} : { allowedHosts: values["allowed-host"] })
  })
  const lines = [`listening on ${mock.url}`]
  if (adminToken !== undefined) lines.push(`admin token: ${adminToken} (send authorization: Bearer <token> to /__admin)`)
  for (const c of mock.config.components) {
    lines.push(
      `component ${c.appId}: appSecret=${c.appSecret} token=${c.token} encodingAesKey=${c.encodingAesKey}` +
        (c.pushUrl === undefined ? " (no pushUrl: read tickets from GET /__admin/components/" + c.appId + "/ticket)" : ` pushUrl=${c.pushUrl}`)
    )
  }
  for (const a of mock.config.authorizers) lines.push(`authorizer ${a.appId}: ${a.name} (${a.type})`)
  // What a program of the user's needs to talk to this mock as its first component, ready to paste into a shell.
  const first = mock.config.components[0]!
  const { ticket } = await mock.admin.ticket(first.appId)
  lines.push(
    `# wxopen's settings for component ${first.appId} on this mock (the ticket is valid for 12 hours):`,
    `export WXOPEN_API_BASE_URL=${shellWord(mock.url)}`,
    `export WXOPEN_COMPONENT_APPID=${shellWord(first.appId)}`,
    `export WXOPEN_COMPONENT_APPSECRET=${shellWord(first.appSecret)}`,
    `export WXOPEN_COMPONENT_TOKEN=${shellWord(first.token)}`,
    `export WXOPEN_COMPONENT_ENCODING_AES_KEY=${shellWord(first.encodingAesKey)}`,
    `export WXOPEN_COMPONENT_VERIFY_TICKET=${shellWord(ticket)}`
  )
  process.stdout.write(lines.join("\n") + "\n")
  const stop = () => void mock.close().then(() => process.exit(0))
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
}

void main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))
