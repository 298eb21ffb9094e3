import { LRUCache } from 'lru-cache'
import { readVersion } from '../db/data-version'
import { type Sql, withDeadline } from '../db/database'

/**
 * Answers computed once per data version. The data only changes when the collector commits, and
 * every commit bumps the version in the database (table data_version). An answer is served for the
 * version of a read of data_version that started at most FRESHNESS_MS before the request arrived:
 *
 * - under load, reads run back to back and requests rarely wait for one;
 * - a collector that waits FRESHNESS_MS after its commit before it reports the commit done
 *   ("commit wait") knows that every request arriving afterwards, in any replica, sees it;
 * - in this process, the collector's commits also mark the last read as too old at once.
 *
 * Answers carry an ETag (version and key), and a matching If-None-Match gets a 304.
 */

/** How old (by its start) a version read may be and still be trusted; the collector's commit wait. */
export const FRESHNESS_MS = 50

export interface Computed {
  body: unknown
  headers?: Record<string, string>
}

interface Entry {
  version: string
  body: Uint8Array
  headers: Record<string, string>
}

export interface VersionGate {
  /** The version according to a read that started at most FRESHNESS_MS ago, or a new read. */
  current(): Promise<string>
  /** That version when it is already known, without waiting; null when a read is needed. */
  known(): string | null
  /** Forgets the last read: a write has just committed in this process. */
  invalidate(): void
}

export function versionGate(read: () => Promise<string>, freshnessMs = FRESHNESS_MS): VersionGate {
  let latest: { version: string; startedAt: number } | null = null
  let running: { promise: Promise<string>; startedAt: number } | null = null
  let generation = 0

  const start = (): Promise<string> => {
    const startedAt = performance.now()
    const started = generation
    const promise = read()
    running = { promise, startedAt }
    promise.then(
      (version) => {
        if (started === generation && (latest === null || latest.startedAt < startedAt)) latest = { version, startedAt }
      },
      () => {},
    )
    const clear = () => {
      if (running?.promise === promise) running = null
    }
    promise.then(clear, clear)
    return promise
  }

  const known = (): string | null => {
    const now = performance.now()
    if (latest === null || now - latest.startedAt > freshnessMs) return null
    // Fresh enough; start the next read early, so that one is always recent under load.
    if (running === null && now - latest.startedAt > freshnessMs / 2) start().catch(() => {})
    return latest.version
  }

  return {
    known,
    current() {
      const version = known()
      if (version !== null) return Promise.resolve(version)
      if (running !== null && performance.now() - running.startedAt <= freshnessMs) return running.promise
      return start()
    },
    invalidate() {
      generation++
      latest = null
      running = null
    },
  }
}

/** The cache key of a request: its route and its normalised parameters, in a fixed order. */
export const cacheKey = (route: string, params: Record<string, string | number | undefined>): string =>
  `${route}?${Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`)
    .join('&')}`

const matches = (ifNoneMatch: string | null, etag: string): boolean =>
  ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*') ?? false

/** The headers set for the response so far (Elysia's `set`): the answer carries them. */
export interface ResponseHeaders {
  headers: Record<string, string | number>
}

export interface ResponseCache {
  /** The answer: at once when it is kept for the current version, otherwise once computed. */
  respond(request: Request, set: ResponseHeaders, key: string, compute: () => Promise<Computed>): Response | Promise<Response>
  /** A write committed in this process: the next request reads the version again. */
  invalidate(): void
}

/**
 * @param budgetMs longest a request may take to get its answer (version read and computation
 *   together); past it, 503, even while a slow statement is still running.
 */
export function createResponseCache(sql: Sql, maxBytes: number, budgetMs: number): ResponseCache {
  const gate = versionGate(() => readVersion(sql))
  const entries = new LRUCache<string, Entry>({
    maxSize: Math.max(1, maxBytes),
    sizeCalculation: (entry, key) => entry.body.byteLength + key.length * 2 + 256,
  })
  // One computation per key and version, however many requests ask for it at once.
  const computing = new Map<string, Promise<Entry>>()

  async function entryFor(key: string, version: string, compute: () => Promise<Computed>): Promise<Entry> {
    const cached = entries.get(key)
    if (cached?.version === version) return cached
    const id = `${version} ${key}`
    let pending = computing.get(id)
    if (pending === undefined) {
      pending = compute()
        .then(({ body, headers }) => {
          const entry = { version, body: Buffer.from(JSON.stringify(body)), headers: headers ?? {} }
          if (maxBytes > 0) entries.set(key, entry)
          return entry
        })
        .finally(() => computing.delete(id))
      computing.set(id, pending)
    }
    return pending
  }

  /**
   * The headers already set (the request id, say) go into the Response built here, and leave `set`:
   * a Response returned with headers still pending is copied by Elysia into a new one, body and all.
   */
  const headersFrom = (set: ResponseHeaders, own: Record<string, string>): Record<string, string> => {
    const headers = { ...set.headers, ...own } as Record<string, string>
    set.headers = {}
    return headers
  }

  const etagOf = (version: string, key: string) => `"${version}-${Bun.hash(key).toString(36)}"`

  const clientHolds = (request: Request, etag: string) => matches(request.headers.get('if-none-match'), etag)

  /** The kept answer, or a 304 without a body when `entry` is null (the client holds it already). */
  function reply(set: ResponseHeaders, etag: string, entry: Entry | null): Response {
    const validators = { etag, 'cache-control': 'no-cache' }
    if (entry === null) return new Response(null, { status: 304, headers: headersFrom(set, validators) })
    const headers = headersFrom(set, { 'content-type': 'application/json; charset=utf-8', ...entry.headers, ...validators })
    return new Response(entry.body, { headers })
  }

  async function answer(
    request: Request,
    set: ResponseHeaders,
    key: string,
    compute: () => Promise<Computed>,
  ): Promise<Response> {
    const version = await gate.current()
    const etag = etagOf(version, key)
    return reply(set, etag, clientHolds(request, etag) ? null : await entryFor(key, version, compute))
  }

  return {
    respond(request, set, key, compute) {
      // Kept for a version known to be fresh: nothing to wait for, so no deadline to arm.
      const version = gate.known()
      const kept = version === null ? undefined : entries.get(key)
      if (kept !== undefined && kept.version === version) {
        const etag = etagOf(version, key)
        return reply(set, etag, clientHolds(request, etag) ? null : kept)
      }
      return withDeadline(answer(request, set, key, compute), budgetMs)
    },
    invalidate: () => gate.invalidate(),
  }
}
