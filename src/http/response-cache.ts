import { LRUCache } from 'lru-cache'
import { withDeadline } from '../domain/deadline'
import { UnavailableError } from '../domain/unavailable'
import { type Choice, CODINGS, type Coding, chosenCoding, compress, MIN_COMPRESSED_BYTES } from './compression'

/**
 * Answers computed once per data version (the protocol is in db/data-version.ts: which version a
 * request may trust, and the collector's commit wait). Answers carry an ETag (version and key), and a
 * matching If-None-Match gets a 304.
 *
 * An answer of 1 KB or more is also sent compressed to a client that accepts it (compression.ts
 * negotiates): a kept answer keeps each compressed variant once the first request needs it, until
 * its version is replaced, so a request for a kept variant does no compression work. Every
 * representation has its own strong ETag (RFC 9110 §8.8.3: a plain and a gzip answer differ in their
 * bytes), and If-None-Match is compared with the ETag of the representation the request would get.
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

/** One representation of an answer: its bytes and every header it is sent with (its ETag among them). */
interface Representation {
  body: Uint8Array
  etag: string
  headers: Record<string, string>
}

interface Entry {
  version: string
  key: string
  plain: Representation
  /** Compressed variants, added as requests first need them; shared by every copy of the entry (see keep). */
  encoded: Partial<Record<Coding, Representation>>
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

/** Every answer of the cache may come compressed, plain and 304 answers included: caches must key on it. */
const VARY = 'Accept-Encoding'

/** The headers set for the response so far (Elysia's `set`): the answer carries them. */
export interface ResponseHeaders {
  headers: Record<string, string | number>
}

export interface CacheStats {
  /** Bytes counted against the budget: answers, their compressed variants and their keys. */
  bytes: number
  /** Compressions made since start, per coding (each kept variant is made once per version). */
  compressions: Record<Coding, number>
}

export interface ResponseCache {
  /** The answer: at once when it is kept for the current version, otherwise once computed. */
  respond(request: Request, set: ResponseHeaders, key: string, compute: () => Promise<Computed>): Response | Promise<Response>
  /** A write committed in this process: the next request reads the version again. */
  invalidate(): void
  stats(): CacheStats
}

const etagOf = (version: string, key: string) => `"${version}-${Bun.hash(key).toString(36)}"`

/** The ETag of a coding's representation: the plain one's with the coding's name inside the quotes. */
const withCoding = (etag: string, coding: Choice) => (coding === 'identity' ? etag : `${etag.slice(0, -1)}-${coding}"`)

const sizeOf = (entry: Entry) => {
  let bytes = entry.plain.body.byteLength + entry.key.length * 2 + 256
  for (const variant of Object.values(entry.encoded)) bytes += variant.body.byteLength + 128
  return bytes
}

/**
 * @param budgetMs longest a request may take to get its answer (version read and computation
 *   together); past it, 503, even while a slow statement is still running.
 */
export function createResponseCache(gate: Versions, maxBytes: number, budgetMs: number): ResponseCache {
  const entries = new LRUCache<string, Entry>({ maxSize: Math.max(1, maxBytes), sizeCalculation: sizeOf })
  // One computation per key and version, however many requests ask for it at once; one compression likewise.
  const computing = new Map<string, Promise<Entry>>()
  const compressing = new Map<string, Promise<Representation>>()
  const compressions = Object.fromEntries(CODINGS.map((coding) => [coding, 0])) as Record<Coding, number>

  async function entryFor(key: string, version: string, compute: () => Promise<Computed>): Promise<Entry> {
    const cached = entries.get(key)
    if (cached?.version === version) return cached
    const id = `${version} ${key}`
    let pending = computing.get(id)
    if (pending === undefined) {
      pending = compute()
        .then(({ body, headers }) => {
          const etag = etagOf(version, key)
          const plain = {
            body: Buffer.from(JSON.stringify(body)),
            etag,
            headers: {
              'content-type': 'application/json; charset=utf-8',
              ...headers,
              etag,
              'cache-control': 'no-cache',
              vary: VARY,
            },
          }
          const entry: Entry = { version, key, plain, encoded: {} }
          if (maxBytes > 0) entries.set(key, entry)
          return entry
        })
        .finally(() => computing.delete(id))
      computing.set(id, pending)
    }
    return pending
  }

  /**
   * Counts a new variant against the budget. lru-cache sizes an entry only when it is set with
   * another object than the one it holds, so the entry goes back in as a copy (sharing `encoded`);
   * unless the key now holds another version, or nothing (evicted, or the cache is off).
   */
  function keep(entry: Entry) {
    const current = entries.peek(entry.key)
    if (current !== undefined && current.encoded === entry.encoded) entries.set(entry.key, { ...current })
  }

  function compressed(entry: Entry, coding: Coding): Promise<Representation> {
    const id = `${entry.version} ${coding} ${entry.key}`
    let pending = compressing.get(id)
    if (pending === undefined) {
      pending = compress(coding, entry.plain.body)
        .then((body) => {
          compressions[coding]++
          const etag = withCoding(entry.plain.etag, coding)
          const variant = { body, etag, headers: { ...entry.plain.headers, 'content-encoding': coding, etag } }
          entry.encoded[coding] = variant
          keep(entry)
          return variant
        })
        // Compressing bytes of our own does not fail short of running out of memory; if it does, plain.
        .catch(() => entry.plain)
        .finally(() => compressing.delete(id))
      compressing.set(id, pending)
    }
    return pending
  }

  /** The representation a request choosing `choice` gets: small answers are always plain. */
  function representation(entry: Entry, choice: Choice): Representation | Promise<Representation> {
    if (choice === 'identity' || entry.plain.body.byteLength < MIN_COMPRESSED_BYTES) return entry.plain
    return entry.encoded[choice] ?? compressed(entry, choice)
  }

  /**
   * The headers already set (the request id, say) go into the Response built here, and leave `set`:
   * a Response returned with headers still pending is copied by Elysia into a new one, body and all.
   * A Vary already set (CORS sets Origin) keeps its fields, and gains ours.
   */
  const headersFrom = (set: ResponseHeaders, own: Record<string, string>): Record<string, string> => {
    const headers = { ...set.headers, ...own } as Record<string, string>
    const vary = set.headers.vary
    if (vary !== undefined) headers.vary = vary === '*' ? '*' : `${vary}, ${VARY}`
    set.headers = {}
    return headers
  }

  const clientHolds = (request: Request, etag: string) => matches(request.headers.get('if-none-match'), etag)

  const choiceOf = (request: Request) => chosenCoding(request.headers.get('accept-encoding'))

  const notModified = (set: ResponseHeaders, etag: string) =>
    new Response(null, { status: 304, headers: headersFrom(set, { etag, 'cache-control': 'no-cache', vary: VARY }) })

  /** The representation, or a 304 without a body when the client holds it already. */
  const reply = (request: Request, set: ResponseHeaders, chosen: Representation): Response =>
    clientHolds(request, chosen.etag)
      ? notModified(set, chosen.etag)
      : new Response(chosen.body, { headers: headersFrom(set, chosen.headers) })

  /**
   * The kept entry's representation for this request: at once when it is ready (no compression work
   * on this path), a 304 when the client holds the one that is not ready yet, or once compressed.
   */
  function fromEntry(request: Request, set: ResponseHeaders, entry: Entry, choice: Choice): Response | Promise<Response> {
    const chosen = representation(entry, choice)
    if (!(chosen instanceof Promise)) return reply(request, set, chosen)
    const etag = withCoding(entry.plain.etag, choice)
    if (clientHolds(request, etag)) return notModified(set, etag)
    return chosen.then((variant) => reply(request, set, variant))
  }

  async function answer(
    request: Request,
    set: ResponseHeaders,
    key: string,
    compute: () => Promise<Computed>,
  ): Promise<Response> {
    const version = await gate.current()
    const choice = choiceOf(request)
    // The client holds what it would get: no computation. (A small answer is plain whatever the
    // choice; a client holding its plain ETag is answered 304 once its size is known, below.)
    const etag = withCoding(etagOf(version, key), choice)
    if (clientHolds(request, etag)) return notModified(set, etag)
    return fromEntry(request, set, await entryFor(key, version, compute), choice)
  }

  return {
    respond(request, set, key, compute) {
      // Kept for a version known to be fresh: nothing to wait for, so no deadline to arm.
      const version = gate.known()
      const kept = version === null ? undefined : entries.get(key)
      if (kept !== undefined && kept.version === version) return fromEntry(request, set, kept, choiceOf(request))
      return withDeadline(
        answer(request, set, key, compute),
        budgetMs,
        () => new UnavailableError(`the database is unavailable (no answer within ${budgetMs} ms); retry later`),
      )
    },
    invalidate: () => gate.invalidate(),
    stats: () => ({ bytes: entries.calculatedSize, compressions: { ...compressions } }),
  }
}
