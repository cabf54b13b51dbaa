import { assert, describe, it } from "@effect/vitest"
import { Authorization, AuthorizationUrl, ComponentToken, PreAuthCode } from "@wxopen/core"
import { MockServer } from "@wxopen/mock-server"
import { Effect, Either, ManagedRuntime, Redacted } from "effect"
import { existsSync, mkdirSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import * as Environment from "../src/Environment.js"

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const output = fileURLToPath(new URL("../test-output/", import.meta.url))

describe("the authorization page in a browser", () => {
  it.live("an account is chosen and confirmed; the callback exchanges the code for that account", () =>
    Effect.gen(function*() {
      if (!existsSync(executablePath)) {
        // Never a silent skip: .ci/run installs Debian's chromium; a machine without it fails here, saying why.
        return yield* Effect.die(new Error(`no Chromium at ${executablePath}: apt-get install chromium (or set CHROMIUM_PATH)`))
      }
      const mock = yield* Effect.acquireRelease(Effect.promise(() => MockServer.start()), (m) => Effect.promise(() => m.close()))
      const target: Environment.Target = { _tag: "Mock", mock }
      const runtime = yield* Effect.acquireRelease(
        Effect.sync(() => ManagedRuntime.make(Environment.layer(target))),
        (runtime) => Effect.promise(() => runtime.dispose())
      )
      const ticket = yield* Environment.currentTicket(target)
      yield* Effect.promise(() => runtime.runPromise(ComponentToken.storeTicket(Either.getOrThrow(Either.fromOption(ticket, () => "no ticket")))))

      // The platform's side: the page WeChat sends the browser back to exchanges the code and shows the account.
      const callback = createServer((req, res) => {
        const authCode = new URL(req.url ?? "/", "http://x").searchParams.get("auth_code") ?? ""
        runtime.runPromise(Authorization.exchange(Redacted.make(authCode))).then(
          (authorization) => res.writeHead(200, { "content-type": "text/html" }).end(`<p id="authorizer">${authorization.authorizerAppId}</p>`),
          (error: unknown) => res.writeHead(500, { "content-type": "text/html" }).end(`<p id="error">${String(error)}</p>`)
        )
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void callback.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.async<void>((resume) => void callback.close(() => resume(Effect.void)))
      )
      const redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`

      const { code } = yield* Effect.promise(() => runtime.runPromise(PreAuthCode.create))
      const link = Either.getOrThrow(AuthorizationUrl.pc({
        componentAppId: mock.config.components[0]!.appId,
        preAuthCode: code,
        redirectUri,
        baseUrl: mock.url
      }))

      const browser = yield* Effect.acquireRelease(
        Effect.promise(() =>
          chromium.launch({
            executablePath,
            args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
          })
        ),
        (browser) => Effect.promise(() => browser.close())
      )
      const miniProgram = mock.config.authorizers.find((a) => a.type === "miniProgram")!
      const authorizer = yield* Effect.promise(async () => {
        const page = await browser.newPage()
        await page.goto(link)
        mkdirSync(output, { recursive: true })
        await page.screenshot({ path: `${output}authorization-page.png`, fullPage: true })
        await page.getByLabel(new RegExp(miniProgram.name)).check()
        await page.getByRole("button", { name: "授权" }).click()
        await page.waitForURL(/\/callback\?/)
        // The callback shows the account, or why the exchange failed: either way, no waiting for what is not there.
        await page.locator("#authorizer, #error").waitFor()
        const failure = await page.locator("#error").count()
        if (failure > 0) throw new Error(`the callback's exchange failed: ${await page.locator("#error").textContent()}`)
        return page.locator("#authorizer").textContent()
      })
      assert.strictEqual(authorizer, miniProgram.appId)
      assert.isTrue(existsSync(`${output}authorization-page.png`))
    }).pipe(Effect.scoped), 60_000)
})
