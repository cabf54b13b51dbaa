/**
 * A `TokenStore` on Redis: every instance of a platform shares one verify
 * ticket, one component token, the authorizers' tokens, and the refresh
 * leases, so that one instance at a time fetches a token and the others use it.
 *
 * - Keys are `{prefix}:{componentAppId}:…`; the ticket is never part of a
 *   token's key. The ticket expires 12 hours after WeChat created it, the
 *   component token at its WeChat expiry; an authorizer's record (its refresh
 *   token) does not expire.
 * - Every write is one Lua script, atomic in Redis: an older ticket, token or
 *   authorization never replaces a newer one, a refresh is stored only over
 *   the refresh token it used, deletions compare first.
 * - Concurrent reads of one key in one process share one `GET`: a burst of
 *   callers costs Redis one command, not one each. A write drops the key's read
 *   in flight, so a read started after a write sees it.
 * - A lease is `SET NX PX` with a random owner. Its holder renews it (a script
 *   that extends it only while the holder still owns it) every third of its
 *   TTL for as long as it works, and releases it when done (a script compares,
 *   so a holder never releases its successor's). A release that fails (Redis
 *   unreachable) is tried again in the background until it goes through or the
 *   lease has lapsed: a Redis that comes back with the lease (AOF, a replica)
 *   frees it as soon as it answers. So the TTL only bounds how long the others
 *   wait on a holder that is gone: waiters poll the lease's remaining time and
 *   take over once it is released or lapses.
 * - Redis down or frozen: every command fails at once (no offline queue) or
 *   within the command timeout (`commandTimeout`, 2 seconds by default, for a
 *   client of yours too), as a `TokenStoreError`, taking and releasing leases
 *   included; ioredis reconnects by itself, and the store works again without
 *   a restart. The timeout is what stops a Redis that holds the connection open
 *   without answering (frozen, paused, cut off by the network) from hanging
 *   every caller. It is measured by the process's timers, so an event loop
 *   starved for longer than it (long synchronous work) fails the commands
 *   whose answers are already waiting to be read: raise it for such a process.
 *   A client you give should have its offline queue off too.
 * - Any Redis from version 5 (the scripts use Redis 2.6 commands only). Use a
 *   `noeviction` or `volatile-*` eviction policy: `allkeys-*` could evict
 *   refresh tokens.
 * - A Redis Cluster as well as one Redis: every command and every script
 *   touches one key, so no key needs a hash tag and the keys are the same on
 *   both. `listAuthorizers` runs its SCAN on every master of the cluster.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ComponentToken } from "@wxopen/core"
 * import { RedisTokenStore } from "@wxopen/redis-store"
 *
 * const Shared = ComponentToken.layer.pipe(Layer.provide(RedisTokenStore.layer({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.1.0
 */
import { TokenStore } from "@wxopen/core"
import {
  Clock,
  Config,
  ConfigError,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  FiberId,
  Layer,
  Option,
  Redacted,
  Schedule,
  Schema
} from "effect"
import { Cluster, Redis } from "ioredis"
import * as Crypto from "node:crypto"

/**
 * An ioredis client the store works on: one Redis, or a Redis Cluster.
 *
 * @since 0.1.0
 * @category models
 */
export type Client = Redis | Cluster

/**
 * How a store reaches Redis: a client you own (a `Redis` or a `Cluster`; it is
 * not closed with the layer), a URL, or the URLs of some of a Redis Cluster's
 * nodes (a client the layer opens and closes). Every node of a cluster is
 * reached with the user and password of the first URL that has them: the
 * others are found through the cluster.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = (
  | { readonly client: Client }
  | { readonly url: Redacted.Redacted<string> | string }
  | { readonly cluster: ReadonlyArray<Redacted.Redacted<string> | string> }
) & {
  /** Prefix of every key; default `wxopen`. */
  readonly prefix?: string
  /**
   * How long one command may take before it fails with a `TokenStoreError`;
   * default 2 seconds. It bounds a wait on a Redis that keeps the connection
   * open but does not answer. A process whose event loop is starved for longer
   * (long synchronous work) fails commands on it even though Redis answered.
   */
  readonly commandTimeout?: Duration.DurationInput
}

const ticketLifetimeMs = 12 * 3600 * 1000
// How often a waiter looks at a lease, and a failed release is tried again: short against a lease's TTL.
const leasePoll = 50
const releaseRetry = Duration.millis(250)

// Each script answers 1 when it wrote (or deleted), 0 when it did not. Only commands of Redis 2.6 (SET, PTTL,
// PEXPIREAT, Lua with cjson) are used, so any Redis from 5 on will do. Names are prefixed: a client of yours may
// define scripts of its own. Each touches its one key, KEYS[1], and nothing else: a Redis Cluster runs it on the
// node that holds the key.
const scripts = {
  // KEYS[1] record; ARGV: json, field ordering the records, its value, expiry (Unix ms; 0 for none)
  wxopenSetUnlessNewer: `
local current = redis.call('GET', KEYS[1])
if current and tonumber(cjson.decode(current)[ARGV[2]]) > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if tonumber(ARGV[4]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[4]) end
return 1`,
  // KEYS[1] record; ARGV: field, expected value; deletes when the field still holds it
  wxopenDeleteIfEqual: `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current)[ARGV[1]] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1`,
  // KEYS[1] record; ARGV: field, expected value, json; replaces (keeping the expiry) when the field still holds it
  wxopenReplaceIfEqual: `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current)[ARGV[1]] ~= ARGV[2] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
  // KEYS[1] record; ARGV: field, expected value; sets expiresAt to 0 in the stored record when the field still holds it
  wxopenExpireIfEqual: `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record[ARGV[1]] ~= ARGV[2] then return 0 end
record['expiresAt'] = 0
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], cjson.encode(record))
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
  // KEYS[1] record; ARGV: field, bound; deletes when the field is not above the bound
  wxopenDeleteIfNotAfter: `
local current = redis.call('GET', KEYS[1])
if not current or tonumber(cjson.decode(current)[ARGV[1]]) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1`,
  // KEYS[1] lease; ARGV: owner, time to live (ms); extends the lease only while the owner still holds it
  wxopenRenew: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  // KEYS[1] lease; ARGV[1] owner
  wxopenRelease: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`
}

type Scripted = Client & {
  readonly [K in keyof typeof scripts]: (key: string, ...args: Array<string>) => Promise<number>
}

const Ticket = Schema.Struct({ value: Schema.String, createdAt: Schema.Number, receivedAt: Schema.Number })
const Token = Schema.Struct({ value: Schema.String, expiresAt: Schema.Number })
const Authorizer = Schema.Struct({
  accessToken: Schema.String,
  expiresAt: Schema.Number,
  refreshToken: Schema.String,
  authorizedAt: Schema.Number
})

// A key as a SCAN pattern that matches it alone: the prefix is the user's, and may hold glob characters.
const globEscape = (key: string) => key.replace(/[*?[\]\\]/g, "\\$&")

/**
 * A store on a connected client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (client: Client, options: { readonly prefix?: string; readonly commandTimeout?: Duration.DurationInput } = {}): TokenStore.Service => {
  const redis = client as Scripted
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 1, lua })
  }
  // A SCAN sees the keys of one node: on a cluster, each master is scanned.
  const masters = (): ReadonlyArray<Redis> => client.isCluster ? (client as Cluster).nodes("master") : [client as Redis]
  const prefix = options.prefix ?? "wxopen"
  const timeout = Duration.decode(options.commandTimeout ?? Duration.seconds(2))
  const keys = {
    ticket: (c: string) => `${prefix}:${c}:ticket`,
    componentToken: (c: string) => `${prefix}:${c}:component_token`,
    authorizer: (c: string, a: string) => `${prefix}:${c}:authorizer:${a}`,
    lease: (key: string) => `${prefix}:lease:${key}`
  }

  // Interruptible, so that the timeout also holds in a fiber forked from an uninterruptible region (a lease's
  // commands, a shared read).
  const run = <A>(operation: string, command: () => Promise<A>) =>
    Effect.interruptible(Effect.tryPromise({
      try: command,
      catch: (error) =>
        new TokenStore.TokenStoreError({ operation, detail: error instanceof Error ? error.message : String(error) })
    })).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new TokenStore.TokenStoreError({ operation, detail: `Redis did not answer within ${Duration.format(timeout)}` })
      })
    )

  // Reads of a key in flight, shared by the callers that arrive meanwhile. The GET runs in a fiber of its own, so
  // that interrupting one caller leaves it to the others; the command timeout bounds it.
  const reads = new Map<string, Deferred.Deferred<string | null, TokenStore.TokenStoreError>>()
  const get = (operation: string, key: string) =>
    Effect.uninterruptibleMask((restore) => {
      const joined = reads.get(key)
      if (joined !== undefined) return restore(Deferred.await(joined))
      // Made and registered synchronously: no caller can slip in between the check and the registration.
      const deferred = Deferred.unsafeMake<string | null, TokenStore.TokenStoreError>(FiberId.none)
      reads.set(key, deferred)
      const shared = run(operation, () => redis.get(key)).pipe(
        Effect.onExit((exit) =>
          Effect.suspend(() => {
            // A write may have dropped this read, and a later one taken its place.
            if (reads.get(key) === deferred) reads.delete(key)
            return Deferred.done(deferred, exit)
          })
        )
      )
      return Effect.zipRight(Effect.forkDaemon(shared), restore(Deferred.await(deferred)))
    })

  // A stored value that is not what wxopen wrote is a TokenStoreError that names the key, never its content.
  const read = <A, I>(operation: string, key: string, schema: Schema.Schema<A, I>) =>
    Effect.flatMap(get(operation, key), (text) =>
      text === null
        ? Effect.succeedNone
        : Effect.mapError(
          Schema.decodeUnknown(Schema.parseJson(schema))(text),
          () => new TokenStore.TokenStoreError({ operation, detail: `${key} does not hold what wxopen stores there` })
        ).pipe(Effect.map(Option.some)))

  const asTicket = (t: typeof Ticket.Type): TokenStore.VerifyTicket => ({ ...t, value: Redacted.make(t.value) })
  const asToken = (t: typeof Token.Type): TokenStore.AccessToken => ({ ...t, value: Redacted.make(t.value) })
  const asAuthorizer = (t: typeof Authorizer.Type): TokenStore.AuthorizerTokens => ({
    ...t,
    accessToken: Redacted.make(t.accessToken),
    refreshToken: Redacted.make(t.refreshToken)
  })
  const authorizerJson = (t: TokenStore.AuthorizerTokens) =>
    JSON.stringify({
      accessToken: Redacted.value(t.accessToken),
      expiresAt: t.expiresAt,
      refreshToken: Redacted.value(t.refreshToken),
      authorizedAt: t.authorizedAt
    })
  // A read sent after a write on this connection sees it, since Redis answers in order: so a write drops the key's
  // read in flight, both when it is sent and when it is answered (a shared read that already has its answer may not
  // have left the map yet, and a script Redis had to load again is sent twice, after the reads that joined).
  const wrote = (operation: string, key: string, command: () => Promise<number>) =>
    Effect.suspend(() => {
      reads.delete(key)
      return Effect.map(run(operation, command), (n) => n === 1)
    }).pipe(Effect.ensuring(Effect.sync(() => reads.delete(key))))

  // The lease's commands run in fibers of their own: a holder that is interrupted still sends its release (a
  // finalizer of an interrupted fiber could not run an interruptible command), and the command timeout holds
  // while the holder waits for them uninterruptibly.
  const withLease = <A, E, R>(key: string, ttl: Duration.DurationInput, effect: Effect.Effect<A, E, R>) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const owner = Crypto.randomUUID()
        const lease = keys.lease(key)
        const ttlMs = Math.max(1, Math.ceil(Duration.toMillis(ttl)))
        const release = run("release a refresh lease", () => redis.wxopenRelease(lease, owner))
        // A release that failed, tried again until it goes through or the lease has lapsed by itself: a Redis that
        // comes back with the lease (AOF, a replica) must not keep it from the others for its whole TTL.
        const releaseAgain = (lapsesBy: () => number) =>
          Effect.zipRight(Effect.sleep(releaseRetry), release).pipe(
            Effect.retry({ while: () => Effect.map(Clock.currentTimeMillis, (now) => now < lapsesBy()) }),
            Effect.ignore
          )

        const take = yield* Effect.forkDaemon(run("take a refresh lease", () => redis.set(lease, owner, "PX", ttlMs, "NX")))
        const taken = yield* restore(Fiber.join(take)).pipe(
          // A take that failed (timed out) or was given up on may still land: release it behind, once the take has
          // been sent, on the same connection, so that Redis runs the release after it; tried again while a lease
          // taken then could still be alive.
          Effect.onError(() =>
            Effect.forkDaemon(
              Effect.flatMap(Fiber.await(take), (exit) =>
                Exit.isSuccess(exit) && exit.value === null
                  ? Effect.void
                  : Effect.flatMap(Clock.currentTimeMillis, (settled) => Effect.catchAll(release, () => releaseAgain(() => settled + ttlMs))))
            )
          )
        )
        if (taken !== "OK") return Option.none()

        // When the lease lapses at the latest if it is not renewed again. A renewal that failed may still have
        // landed (Redis ran it and the answer was lost), so every attempt counts, not only those answered.
        let lapsesBy = (yield* Clock.currentTimeMillis) + ttlMs
        const attempted = Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => lapsesBy = Math.max(lapsesBy, now + ttlMs)))
        // Every third of the TTL, counted from the last start: a slow renewal does not push the next one back. One
        // that fails is left to the next (the TTL has room for two), and never fails the effect.
        const renewer = yield* Effect.fork(
          run("renew a refresh lease", () => redis.wxopenRenew(lease, owner, String(ttlMs))).pipe(
            Effect.ignore,
            Effect.ensuring(attempted),
            Effect.schedule(Schedule.fixed(Duration.millis(ttlMs / 3))),
            Effect.interruptible
          )
        )
        const leave = Effect.gen(function*() {
          yield* Fiber.interrupt(renewer)
          const released = yield* Fiber.await(yield* Effect.forkDaemon(release))
          if (Exit.isFailure(released)) yield* Effect.forkDaemon(releaseAgain(() => lapsesBy))
        })
        return yield* restore(effect).pipe(Effect.map(Option.some), Effect.ensuring(leave))
      })
    )

  return {
    getTicket: (c) => Effect.map(read("read the verify ticket", keys.ticket(c), Ticket), Option.map(asTicket)),
    setTicket: (c, t) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        wrote("store the verify ticket", keys.ticket(c), () =>
          redis.wxopenSetUnlessNewer(
            keys.ticket(c),
            JSON.stringify({ value: Redacted.value(t.value), createdAt: t.createdAt, receivedAt: t.receivedAt }),
            "createdAt",
            String(t.createdAt),
            // At least a second ahead: a key must not expire before it is written.
            String(Math.max(Math.min(t.createdAt, t.receivedAt) + ticketLifetimeMs, now + 1000))
          ))),
    getComponentToken: (c) => Effect.map(read("read the component token", keys.componentToken(c), Token), Option.map(asToken)),
    setComponentToken: (c, t) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        wrote("store the component token", keys.componentToken(c), () =>
          redis.wxopenSetUnlessNewer(
            keys.componentToken(c),
            JSON.stringify({ value: Redacted.value(t.value), expiresAt: t.expiresAt }),
            "expiresAt",
            String(t.expiresAt),
            String(Math.max(t.expiresAt, now + 1000))
          ))),
    deleteComponentToken: (c, expected) =>
      wrote("invalidate the component token", keys.componentToken(c), () =>
        redis.wxopenDeleteIfEqual(keys.componentToken(c), "value", Redacted.value(expected))),
    getAuthorizer: (c, a) =>
      Effect.map(read("read an authorizer's tokens", keys.authorizer(c, a), Authorizer), Option.map(asAuthorizer)),
    // SCAN, a page at a time, each page under the command timeout: never a KEYS that blocks Redis. On a cluster,
    // every master is scanned (at once), and a cluster whose masters are not known yet fails rather than list none.
    listAuthorizers: (c) =>
      Effect.gen(function*() {
        const pattern = `${globEscape(keys.authorizer(c, ""))}*`
        const start = keys.authorizer(c, "").length
        const nodes = masters()
        if (nodes.length === 0) {
          return yield* new TokenStore.TokenStoreError({ operation: "list the authorizers", detail: "the Redis Cluster has no master known yet" })
        }
        const found = new Set<string>()
        yield* Effect.forEach(nodes, (node) =>
          Effect.gen(function*() {
            let cursor = "0"
            do {
              const [next, page] = yield* run("list the authorizers", () => node.scan(cursor, "MATCH", pattern, "COUNT", 1000))
              for (const key of page) found.add(key.slice(start))
              cursor = next
            } while (cursor !== "0")
          }), { concurrency: "unbounded", discard: true })
        return [...found]
      }),
    setAuthorizer: (c, a, t) =>
      wrote("store an authorizer's tokens", keys.authorizer(c, a), () =>
        redis.wxopenSetUnlessNewer(keys.authorizer(c, a), authorizerJson(t), "authorizedAt", String(t.authorizedAt), "0")),
    refreshAuthorizer: (c, a, t, expected) =>
      wrote("store an authorizer's refreshed tokens", keys.authorizer(c, a), () =>
        redis.wxopenReplaceIfEqual(keys.authorizer(c, a), "refreshToken", Redacted.value(expected), authorizerJson(t))),
    // In one script: a refresh or re-authorization landing in between is never overwritten.
    invalidateAuthorizer: (c, a, expected) =>
      wrote("invalidate an authorizer's access token", keys.authorizer(c, a), () =>
        redis.wxopenExpireIfEqual(keys.authorizer(c, a), "accessToken", Redacted.value(expected))),
    deleteAuthorizer: (c, a, revokedAt) =>
      wrote("forget an authorizer", keys.authorizer(c, a), () =>
        redis.wxopenDeleteIfNotAfter(keys.authorizer(c, a), "authorizedAt", String(revokedAt))),
    withLease,
    // -2: no lease. -1: a key without expiry, which wxopen never writes: waited on like a held lease, up to the
    // timeout, so that callers looping on it do not spin.
    awaitLease: (key, timeout) =>
      run("watch a refresh lease", () => redis.pttl(keys.lease(key))).pipe(
        Effect.flatMap((left) =>
          left === -2 ? Effect.succeed(false) : Effect.as(Effect.sleep(Duration.millis(left > 0 ? Math.min(left, leasePoll) : leasePoll)), true)
        ),
        Effect.repeat({ while: (held) => held }),
        Effect.timeoutOption(timeout),
        Effect.asVoid
      )
  }
}

// The first connection, awaited for a few seconds at most: if Redis is down at start, the store starts anyway and
// its commands fail (typed) until ioredis reconnects.
const ready = (client: Client) =>
  Effect.interruptible(Effect.async<void>((resume) => {
    if (client.status === "ready") return resume(Effect.void)
    const onReady = () => resume(Effect.void)
    client.once("ready", onReady)
    return Effect.sync(() => client.off("ready", onReady))
  })).pipe(Effect.timeout("5 seconds"), Effect.ignore)

// The user and password of the first URL that has them, for every node of a cluster: the nodes the client finds
// through the cluster are not in the URLs.
const credentials = (urls: ReadonlyArray<string>): { readonly username?: string; readonly password?: string } => {
  for (const url of urls) {
    if (!URL.canParse(url)) continue
    const { username, password } = new URL(url)
    if (username === "" && password === "") continue
    return {
      ...(username === "" ? {} : { username: decodeURIComponent(username) }),
      ...(password === "" ? {} : { password: decodeURIComponent(password) })
    }
  }
  return {}
}

// A client of the layer's own. Commands fail at once while Redis is down, rather than queue and hang.
const open = (
  options: ({ readonly url: Redacted.Redacted<string> | string } | { readonly cluster: ReadonlyArray<Redacted.Redacted<string> | string> }) & {
    readonly commandTimeout?: Duration.DurationInput
  }
): Client => {
  const commandTimeout = Duration.toMillis(Duration.decode(options.commandTimeout ?? Duration.seconds(2)))
  const reconnect = (attempt: number) => Math.min(attempt * 100, 2_000)
  if ("url" in options) {
    return new Redis(typeof options.url === "string" ? options.url : Redacted.value(options.url), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout,
      retryStrategy: reconnect
    })
  }
  const urls = options.cluster.map((url) => typeof url === "string" ? url : Redacted.value(url))
  return new Cluster(urls, {
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnect,
    redisOptions: { ...credentials(urls), maxRetriesPerRequest: 1, commandTimeout }
  })
}

/**
 * The store as a layer, from a client you own (a `Redis` or a `Cluster`), a
 * URL, or the URLs of a Redis Cluster's nodes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenStore.TokenStore> =>
  Layer.scoped(
    TokenStore.TokenStore,
    Effect.map(
      "client" in options
        ? Effect.succeed(options.client)
        : Effect.acquireRelease(
          Effect.sync(() => open(options)).pipe(
            // Reconnection attempts are ioredis's business; each command's failure is already a TokenStoreError.
            Effect.tap((client) => Effect.sync(() => client.on("error", () => {}))),
            Effect.tap(ready)
          ),
          (client) =>
            Effect.interruptible(Effect.tryPromise(() => client.quit())).pipe(
              Effect.timeout("2 seconds"),
              Effect.catchAll(() => Effect.sync(() => client.disconnect()))
            )
        ),
      (client) => make(client, options)
    )
  )

const urlHelp = "the Redis URL, redis://[user:password@]host:port[/db]"
const clusterHelp = "the URLs of some of a Redis Cluster's nodes, redis://[user:password@]host:port, separated by commas"

// One Redis (WXOPEN_REDIS_URL) or a cluster (WXOPEN_REDIS_CLUSTER_NODES), never both: which one is meant would be a
// guess.
type Target = { readonly url: Redacted.Redacted<string> } | { readonly cluster: ReadonlyArray<Redacted.Redacted<string>> }
const target: Config.Config<Target> = Config.all({
  url: Config.option(Config.redacted("WXOPEN_REDIS_URL")),
  cluster: Config.option(Config.redacted("WXOPEN_REDIS_CLUSTER_NODES"))
}).pipe(
  Config.mapOrFail(({ cluster, url }): Either.Either<Target, ConfigError.ConfigError> => {
    if (Option.isSome(url) && Option.isSome(cluster)) {
      return Either.left(
        ConfigError.InvalidData([], "WXOPEN_REDIS_URL and WXOPEN_REDIS_CLUSTER_NODES are both set: set the first for one Redis, the second for a Redis Cluster")
      )
    }
    if (Option.isSome(url)) return Either.right({ url: url.value })
    if (Option.isNone(cluster)) {
      return Either.left(
        ConfigError.MissingData(["WXOPEN_REDIS_URL"], `WXOPEN_REDIS_URL is not set: it holds ${urlHelp} (or set WXOPEN_REDIS_CLUSTER_NODES: ${clusterHelp})`)
      )
    }
    const nodes = Redacted.value(cluster.value).split(",").map((node) => node.trim()).filter((node) => node !== "")
    return nodes.length === 0
      ? Either.left(ConfigError.InvalidData(["WXOPEN_REDIS_CLUSTER_NODES"], `WXOPEN_REDIS_CLUSTER_NODES holds no URL: it holds ${clusterHelp}`))
      : Either.right({ cluster: nodes.map((node) => Redacted.make(node)) })
  })
)

/**
 * The store as a layer, from `WXOPEN_REDIS_URL` for one Redis or
 * `WXOPEN_REDIS_CLUSTER_NODES` (node URLs separated by commas) for a Redis
 * Cluster, and `WXOPEN_REDIS_PREFIX`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (): Layer.Layer<TokenStore.TokenStore, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({ target, prefix: Config.string("WXOPEN_REDIS_PREFIX").pipe(Config.withDefault("wxopen")) }),
      ({ prefix, target }) => layer({ ...target, prefix })
    )
  )
