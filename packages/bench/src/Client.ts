/**
 * One client run, in a process of its own: `node dist/Client.js STACK
 * CONCURRENCY CALLS URL` prints a {@link Stats.Run} as JSON. With a fifth
 * argument, `memory`, it makes CALLS calls and prints the process's RSS
 * (after a full GC, with `--expose-gc`) after every tenth of them instead.
 *
 * The stacks, all POSTing `{"component_appid": …}` to `URL` and reading a
 * pre-authorization code:
 * - `undici`: the baseline, a raw `undici.request` and `JSON.parse`;
 * - `wxopen-undici`: `PreAuthCode.create` with a warm token over
 *   `NodeHttpClient.layerUndici`;
 * - `wxopen-fetch`: the same over `FetchHttpClient.layer`;
 * - `wxopen-fast`: the same over wxopen's `UndiciHttpClient.layer()`.
 *
 * A tenth of the calls (at least 500) are made first to warm up and are not
 * counted.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type { HttpClient } from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { ComponentConfig, ComponentToken, PreAuthCode, TokenStore } from "@wxopen/core"
import * as UndiciHttpClient from "@wxopen/core/UndiciHttpClient"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as Undici from "undici"
import * as Stats from "./Stats.js"

const appId = "wx0c0ffee000000001"
const token = `42_${"t".repeat(120)}`

const raw = (url: string) => {
  const path = `/cgi-bin/component/api_create_preauthcode?component_access_token=${token}`
  const origin = new URL(url).origin
  return async () => {
    const response = await Undici.request(`${origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ component_appid: appId })
    })
    const answer = JSON.parse(await response.body.text()) as { pre_auth_code: string }
    if (response.statusCode !== 200 || typeof answer.pre_auth_code !== "string") throw new Error("unexpected answer")
    return answer
  }
}

const wxopen = async (url: string, client: Layer.Layer<HttpClient>) => {
  const warmToken = Effect.flatMap(TokenStore.TokenStore, (store) =>
    store.setComponentToken(appId, { value: Redacted.make(token), expiresAt: Date.now() + 7_200_000 }))
  const runtime = ManagedRuntime.make(
    ComponentToken.layer.pipe(
      Layer.provideMerge(ComponentConfig.layer({ appId, appSecret: Redacted.make("bench-secret"), apiBaseUrl: url })),
      Layer.provideMerge(Layer.effectDiscard(warmToken).pipe(Layer.provideMerge(TokenStore.layerMemory))),
      Layer.provideMerge(client)
    )
  )
  await runtime.runPromise(Effect.void)
  return { measure: (options: Options) => Stats.measureEffect(options, PreAuthCode.create, runtime) }
}

interface Options {
  readonly calls: number
  readonly concurrency: number
}

type Caller = (() => Promise<unknown>) | { readonly measure: (options: Options) => Promise<Stats.Run> }

const stacks: Record<string, (url: string) => Caller | Promise<Caller>> = {
  undici: raw,
  "wxopen-undici": (url) => wxopen(url, NodeHttpClient.layerUndici),
  "wxopen-fetch": (url) => wxopen(url, FetchHttpClient.layer),
  "wxopen-fast": (url) => wxopen(url, UndiciHttpClient.layer())
}

const [stack = "", concurrency = "1", calls = "1000", url = "", mode = "time"] = process.argv.slice(2)
const make = stacks[stack]
if (make === undefined) {
  console.error(`unknown stack "${stack}": one of ${Object.keys(stacks).join(", ")}`)
  process.exit(2)
}
const caller = await make(url)
const options = { calls: Number(calls), concurrency: Number(concurrency) }
// An Effect is run as Effect programs run it: each worker a fiber making its calls one after the other.
const measure = (options: Options) => typeof caller === "function" ? Stats.measure(options, caller) : caller.measure(options)
if (mode === "memory") {
  const rssMb: Array<{ readonly calls: number; readonly rssMb: number; readonly heapUsedMb: number }> = []
  const step = Math.floor(options.calls / 10)
  for (let done = 0; done < options.calls; done += step) {
    await measure({ calls: step, concurrency: options.concurrency })
    ;(globalThis as { gc?: () => void }).gc?.()
    const usage = process.memoryUsage()
    rssMb.push({ calls: done + step, rssMb: usage.rss / 1048576, heapUsedMb: usage.heapUsed / 1048576 })
  }
  console.log(JSON.stringify(rssMb))
} else {
  await measure({ ...options, calls: Math.max(500, Math.floor(options.calls / 10)) })
  console.log(JSON.stringify(await measure(options)))
}
process.exit(0)
