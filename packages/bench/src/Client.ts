/**
 * Client runs, in a process of their own: `node dist/Client.js STACK[,STACK…]
 * URL --concurrency N[,N…] --calls N [--warmup N]` prints a JSON array of
 * {@link Stats.Run}, one per stack and concurrency, each run after a warm-up
 * of its own at that concurrency (`--warmup` calls, by default a tenth of the
 * calls and at least 500), not counted. A full run gives each process one
 * stack and one concurrency; a smoke run gives it several, to start fewer
 * processes. With `--memory` it makes the calls of the first stack at the
 * first concurrency and prints the process's RSS and heap (after a full GC,
 * with `--expose-gc`) after every tenth of them instead.
 *
 * The stacks, all POSTing `{"component_appid": …}` to
 * `URL/cgi-bin/component/api_create_preauthcode?component_access_token=…` and
 * reading the answer, on the HttpClient their name ends with
 * (`FetchHttpClient.layer` or `NodeHttpClient.layerUndici`):
 * - `wxopen-*`: `PreAuthCode.create` with a warm token;
 * - `bare-*`: the user's own call, the baseline of wxopen on the same client:
 *   `HttpClient.execute` of the same request, the body read with
 *   `response.json`, under `Effect.timeout` of wxopen's request timeout, and
 *   with HttpClient's tracing switched off as wxopen switches it off for its
 *   own requests. What wxopen costs beyond it is what wxopen adds.
 *
 * Every stack is run as Effect programs run: each of the concurrent workers
 * is a fiber making its calls one after the other. A process runs stacks of
 * one client only: a `*-fetch` process never loads `@effect/platform-node`,
 * whose undici would take over the global `fetch`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { ComponentConfig, PreAuthCode, TokenStore } from "@wxopen/core"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { parseArgs } from "node:util"
import * as Stats from "./Stats.js"
import * as Wxopen from "./Wxopen.js"

const appId = "wx0c0ffee000000001"
const token = `42_${"t".repeat(120)}`

// The bare call's timeout is wxopen's: the same duration, passed to both.
const requestTimeout = ComponentConfig.defaultRequestTimeout

/** A stack ready to be measured. */
interface Stack {
  readonly measure: (options: Options) => Promise<Stats.Run>
  readonly dispose: () => Promise<void>
}

interface Options {
  readonly stack: string
  readonly calls: number
  readonly concurrency: number
}

/**
 * Runs `calls` calls of `call`, `concurrency` at a time, and measures them:
 * each worker a fiber making its calls one after the other.
 */
const measure = <A, E, R>(
  runtime: ManagedRuntime.ManagedRuntime<R, unknown>,
  call: Effect.Effect<A, E, R>,
  options: Options
): Promise<Stats.Run> => {
  const { calls, concurrency } = options
  const latencies = new Float64Array(calls)
  let next = 0
  const worker = Effect.gen(function*() {
    while (next < calls) {
      const index = next++
      const started = performance.now()
      yield* call
      latencies[index] = performance.now() - started
    }
  })
  return runtime.runPromise(
    Effect.gen(function*() {
      const cpu = process.cpuUsage()
      const began = performance.now()
      yield* Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      return Stats.run(options, latencies, (performance.now() - began) / 1000, process.cpuUsage(cpu))
    })
  )
}

const stackOf = async <A, E, R>(runtime: ManagedRuntime.ManagedRuntime<R, unknown>, call: Effect.Effect<A, E, R>): Promise<Stack> => {
  // Every layer built before the first call.
  await runtime.runPromise(Effect.void)
  return { measure: (options) => measure(runtime, call, options), dispose: () => runtime.dispose() }
}

const bare = async (url: string, client: Layer.Layer<HttpClient.HttpClient>): Promise<Stack> => {
  const runtime = ManagedRuntime.make(client)
  const httpClient = await runtime.runPromise(HttpClient.HttpClient)
  const call = Effect.suspend(() =>
    httpClient.execute(
      HttpClientRequest.post(`${url}/cgi-bin/component/api_create_preauthcode`).pipe(
        HttpClientRequest.bodyUnsafeJson({ component_appid: appId }),
        HttpClientRequest.setUrlParam("component_access_token", token)
      )
    )
  ).pipe(
    Effect.flatMap((response) => response.json),
    Effect.withTracerEnabled(false),
    Effect.timeout(requestTimeout)
  )
  return stackOf(runtime, call)
}

const wxopen = (url: string, client: Layer.Layer<HttpClient.HttpClient>): Promise<Stack> => {
  const warmToken = Effect.flatMap(TokenStore.TokenStore, (store) =>
    store.setComponentToken(appId, { value: Redacted.make(token), expiresAt: Date.now() + 7_200_000 }))
  const runtime = ManagedRuntime.make(Wxopen.layer({
    appId,
    appSecret: Redacted.make("bench-secret"),
    apiBaseUrl: url,
    requestTimeout,
    store: Layer.effectDiscard(warmToken).pipe(Layer.provideMerge(TokenStore.layerMemory)),
    client
  }))
  return stackOf(runtime, PreAuthCode.create)
}

// Imported only by the stacks that use them.
const fetchClient = async () => (await import("@effect/platform/FetchHttpClient")).layer
const undiciClient = async () => (await import("@effect/platform-node/NodeHttpClient")).layerUndici

const stacks: Record<string, (url: string) => Promise<Stack>> = {
  "bare-fetch": async (url) => bare(url, await fetchClient()),
  "wxopen-fetch": async (url) => wxopen(url, await fetchClient()),
  "bare-undici": async (url) => bare(url, await undiciClient()),
  "wxopen-undici": async (url) => wxopen(url, await undiciClient())
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    concurrency: { type: "string", default: "1" },
    calls: { type: "string", default: "1000" },
    warmup: { type: "string" },
    memory: { type: "boolean", default: false }
  }
})
const [names = "", url = ""] = positionals
const chosen = names.split(",")
const clientOf = (name: string) => name.slice(name.indexOf("-") + 1)
if (url === "" || chosen.some((name) => !(name in stacks)) || chosen.some((name) => clientOf(name) !== clientOf(chosen[0]!))) {
  console.error(
    "usage: Client.js STACK[,STACK…] URL --concurrency N[,N…] --calls N [--warmup N] [--memory]; " +
      `the stacks of one client, from ${Object.keys(stacks).join(", ")}`
  )
  process.exit(2)
}
const calls = Number(values.calls)
const concurrencies = values.concurrency.split(",").map(Number)
if (values.memory) {
  const stack = await stacks[chosen[0]!]!(url)
  const readings: Array<{ readonly calls: number; readonly rssMb: number; readonly heapUsedMb: number }> = []
  const step = Math.floor(calls / 10)
  for (let done = 0; done < calls; done += step) {
    await stack.measure({ stack: chosen[0]!, calls: step, concurrency: concurrencies[0]! })
    ;(globalThis as { gc?: () => void }).gc?.()
    const usage = process.memoryUsage()
    readings.push({ calls: done + step, rssMb: usage.rss / 1048576, heapUsedMb: usage.heapUsed / 1048576 })
  }
  console.log(JSON.stringify(readings))
} else {
  const warmup = values.warmup === undefined ? Math.max(500, Math.floor(calls / 10)) : Number(values.warmup)
  const runs: Array<Stats.Run> = []
  for (const name of chosen) {
    const stack = await stacks[name]!(url)
    for (const concurrency of concurrencies) {
      if (warmup > 0) await stack.measure({ stack: name, calls: warmup, concurrency })
      runs.push(await stack.measure({ stack: name, calls, concurrency }))
    }
    await stack.dispose()
  }
  console.log(JSON.stringify(runs))
}
process.exit(0)
