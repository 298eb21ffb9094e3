import { LRUCache } from 'lru-cache'
import { withDeadline } from '../domain/deadline'
import { UnavailableError } from '../domain/unavailable'

/**
 * Answers computed once per data version (the protocol is in db/data-version.ts: which version a
 * request may trust, and the collector's commit wait). Answers carry an ETag (version and key), and a
 * matching If-None-Match gets a 304.
 */

/** What the cache needs of the data version: the version a request may trust, and word of a local commit. */
export interface Versions {
  /** The version according to a read recent enough to trust, or a new read. */
  current(): Promise<string>
  /** That version when it is already known, without waiting; null when a read is needed. */
  known(): string | null
  /** Forgets the last read: a write has just committed in this process. */
  invalidate(): void
}

export interface Computed {
  body: unknown
  headers?: Record<string, string>
}

interface Entry {
  version: string
  body: Uint8Array
  headers: Record<string, string>
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
export function createResponseCache(gate: Versions, maxBytes: number, budgetMs: number): ResponseCache {
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
      return withDeadline(
        answer(request, set, key, compute),
        budgetMs,
        () => new UnavailableError(`the database is unavailable (no answer within ${budgetMs} ms); retry later`),
      )
    },
    invalidate: () => gate.invalidate(),
  }
}
