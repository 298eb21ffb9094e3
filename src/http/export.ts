import { t } from 'elysia'
import type { BodyEnd } from './answer'
import { remembering } from './remembered'

/**
 * Exports: a whole selection of a list, every page of it, streamed in one answer as CSV (RFC 4180)
 * or NDJSON, in memory bounded by one page. What a list route needs for it:
 * - which representation a request asks for: the `format` query parameter, or else its Accept
 *   header (RFC 9110 §12.5.1), JSON when it names neither;
 * - the encodings: CSV fields and records, NDJSON lines;
 * - the stream: pages read by keyset one at a time, each only once the client has taken the one
 *   before (a pull-based ReadableStream, no read-ahead), stopped when the client goes away;
 * - the answer's headers: Content-Disposition (RFC 6266 with an RFC 8187 `filename*`), no-store.
 *
 * Not through the response cache: an export is as large as the selection, so it is neither kept
 * nor compressed (compression.ts compresses kept bodies once; a stream would be compressed per
 * request, on the event loop), and it carries no ETag, since its pages are read at different
 * moments rather than from one data version.
 */

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]
/** How a list answers: today's JSON page, or an export of the whole selection. */
export type Representation = 'json' | ExportFormat

/** The media type each representation is negotiated under. */
export const MEDIA_TYPES = {
  json: 'application/json',
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
} as const satisfies Record<Representation, string>

/**
 * Content-Type of each export. CSV is UTF-8 without a byte order mark: RFC 4180 and RFC 7111 do
 * not ask for one, the charset parameter says it, and programs that read CSV (pandas, Python's csv,
 * R, DuckDB, awk) would otherwise find U+FEFF glued to the first column's name. Spreadsheets that
 * guess an encoding read it through their import dialogue (Excel: Data › From Text/CSV).
 */
export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson',
} as const satisfies Record<ExportFormat, string>

/**
 * The `format` query parameter, for clients that cannot set Accept (a link in a browser). Without
 * a default: an absent `format` leaves the choice to Accept (t.UnionEnum defaults to its first value).
 */
export const FormatParam = t.UnionEnum(['json', 'csv', 'ndjson'], {
  default: undefined,
  description:
    'json (the default): one page. csv or ndjson: the whole selection, every page, in one streamed download (Content-Disposition names the file); the Accept header text/csv or application/x-ndjson asks for the same. Given, it wins over Accept.',
  examples: ['json'],
  error: 'format must be json, csv or ndjson',
})

// A media range is type/subtype, either of them `*` (RFC 9110 §12.5.1); its names are tokens.
const MEDIA_RANGE = /^([!#$%&'*+.^_`|~0-9a-z-]+)\/([!#$%&'*+.^_`|~0-9a-z-]+)$/i
// qvalue (§12.4.2): 0 to 1 with at most three decimals.
const WEIGHT = /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i
const OWS = /^[ \t]+|[ \t]+$/g

/** In the order preferred when a client weighs several alike: JSON first, today's answer. */
const OFFERED: readonly Representation[] = ['json', 'csv', 'ndjson']

/**
 * The representation an Accept header asks for (null: no header).
 * - Each offered type takes the weight of the most specific range that matches it (type/subtype,
 *   then type/*, then * / *); a range named twice takes its lowest weight, so a refusal holds.
 * - Parameters other than q are not compared (`text/csv;header=present` is text/csv); a range or a
 *   weight that does not parse is left out, as if absent: a broken header never throws.
 * - The highest weight above 0 wins; ties go to JSON, then CSV, then NDJSON.
 * - When nothing offered is acceptable (`Accept: text/html`, or only refusals), JSON: §12.5.1 lets
 *   a server disregard the header rather than answer 406, and clients that send odd Accept headers
 *   keep working as before exports existed.
 */
export function negotiate(accept: string | null): Representation {
  if (accept === null) return 'json'
  // Specificity 3, 2, 1 for type/subtype, type/*, */*; per offered type, the best-matching weight.
  const best = OFFERED.map(() => ({ specificity: 0, weight: 0 }))
  for (const element of accept.split(',')) {
    const [rawRange, ...parameters] = element.split(';')
    const match = MEDIA_RANGE.exec(rawRange!.replace(OWS, ''))
    if (match === null) continue
    const type = match[1]!.toLowerCase()
    const subtype = match[2]!.toLowerCase()
    if (type === '*' && subtype !== '*') continue
    let weight = 1
    let valid = true
    for (const parameter of parameters) {
      const trimmed = parameter.replace(OWS, '')
      if (!/^q=/i.test(trimmed)) continue
      const q = WEIGHT.exec(trimmed)
      if (q === null) valid = false
      else weight = Number(q[1])
      // Anything after q is an accept-ext, not a media-type parameter: ignored as well.
      break
    }
    if (!valid) continue
    const specificity = type === '*' ? 1 : subtype === '*' ? 2 : 3
    OFFERED.forEach((representation, index) => {
      const [offeredType, offeredSubtype] = MEDIA_TYPES[representation].split('/')
      const matches = specificity === 1 || (type === offeredType && (specificity === 2 || subtype === offeredSubtype))
      const current = best[index]!
      if (!matches || specificity < current.specificity) return
      current.weight = specificity > current.specificity ? weight : Math.min(weight, current.weight)
      current.specificity = specificity
    })
  }
  let chosen: Representation = 'json'
  let chosenWeight = 0
  OFFERED.forEach((representation, index) => {
    if (best[index]!.weight > chosenWeight) {
      chosen = representation
      chosenWeight = best[index]!.weight
    }
  })
  return chosen
}

/** The JSON pages, answered from the cache in microseconds, do not pay for parsing Accept each time. */
const rememberedNegotiate = remembering(negotiate)

/** The representation a list request gets: its `format` parameter when given, else its Accept header. */
export function representationOf(format: Representation | undefined, accept: string | null): Representation {
  if (format !== undefined) return format
  return accept === null ? 'json' : rememberedNegotiate(accept)
}

/** A field is quoted when it holds a quote, a comma, CR or LF (RFC 4180 §2.6), its quotes doubled (§2.7). */
const NEEDS_QUOTES = /[",\r\n]/

/**
 * How CSV text fields are written. `safe` (the default): a text that begins with a character a
 * spreadsheet reads as the start of a formula (=, +, -, @, TAB or CR: OWASP's "CSV injection") gets
 * a leading apostrophe, which spreadsheets take as "this is text" and do not show; the author of a
 * post chooses its text, and whoever opens the export must not run it. `raw`: every field as stored,
 * for programs that read CSV as data.
 */
export const CSV_CELLS = ['safe', 'raw'] as const
export type CsvCells = (typeof CSV_CELLS)[number]

/** What starts a formula in Excel, LibreOffice and Google Sheets (OWASP, CSV Injection). */
const FORMULA_START = /^[=+\-@\t\r]/

export const CsvCellsParam = t.UnionEnum(CSV_CELLS, {
  default: 'safe',
  description:
    "CSV exports only. safe (the default): a text field that begins with =, +, -, @, TAB or CR is written after an apostrophe ('), so that a spreadsheet shows it as text instead of running it as a formula; raw: every field exactly as stored, for programs that read CSV as data. NDJSON is never changed.",
  examples: ['safe'],
  error: 'csv_cells must be safe or raw',
})

/** One CSV field; null and undefined are empty fields; text fields per `cells`, numbers as they are. */
export function csvField(value: string | number | null | undefined, cells: CsvCells = 'safe'): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'number' ? String(value) : cells === 'safe' && FORMULA_START.test(value) ? `'${value}` : value
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** One CSV record with its CRLF line end (RFC 4180 §2.1). */
export const csvRecord = (fields: readonly (string | number | null | undefined)[], cells: CsvCells = 'safe'): string =>
  `${fields.map((field) => csvField(field, cells)).join(',')}\r\n`

/** One NDJSON line: the value as JSON (which never holds a raw line feed) and `\n`. */
export const ndjsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`

/** Characters kept in the ASCII fallback name: nothing a shell, a quoted-string or a file system minds. */
const FALLBACK_UNSAFE = /[^A-Za-z0-9._+-]/g
/** Characters encodeURIComponent leaves that RFC 8187's attr-char does not allow. */
const NOT_ATTR_CHAR = /['()*]/g

/**
 * `attachment` with the file name (RFC 6266 §4.3): `filename` in ASCII for every client, and when
 * the name has other characters, `filename*` in UTF-8 (RFC 8187), which clients that know it prefer.
 * The fallback keeps letters' base forms where Unicode has them (`café` → `cafe`), `_` for the rest.
 */
export function contentDisposition(filename: string): string {
  // Per character, so that one made of marks alone (a variation selector) still leaves a `_`.
  const fallback = [...filename.normalize('NFC')]
    .map((c) => c.normalize('NFKD').replace(/\p{M}/gu, '') || '_')
    .join('')
    .replace(FALLBACK_UNSAFE, '_')
  if (fallback === filename) return `attachment; filename="${filename}"`
  const encoded = encodeURIComponent(filename).replace(NOT_ATTR_CHAR, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`
}

/** `<base>-<part>-<part>.<format>`, or `<base>-all.<format>` for an unfiltered selection. */
export const exportFilename = (base: string, parts: readonly string[], format: ExportFormat): string =>
  `${[base, ...(parts.length === 0 ? ['all'] : parts)].join('-')}.${format}`

/** How to read and write the selection, page by page. */
export interface ExportPlan<T> {
  /** Up to `size` items after the key `after` (null: from the start), in key order. */
  read(after: string | null, size: number): Promise<T[]>
  /** The key the next page starts after. */
  keyOf(item: T): string
  /** Where the export starts: after this key (a list's cursor), or from the start. */
  after: string | null
  /** Items per read; a shorter page is the last. */
  pageSize: number
  /** A page as the text sent for it. */
  encode(items: T[]): string
  /** Sent before the first page (CSV's header row). */
  preamble: string
  /** Aborted when the client goes away (request.signal): no page is read after it. */
  signal: AbortSignal
  /**
   * A read failed after the first page was sent: told once, with the items sent so far; the stream
   * then errors without a reason (Bun prints a stream's error reason on stderr, outside the log).
   * Absent: the stream errors with the error itself.
   */
  onError?(error: unknown, sent: number): void
  /** Told once, when the body ends: every page handed over ('complete'), or cut short ('cut'). */
  onEnd?(end: BodyEnd): void
}

const utf8 = new TextEncoder()

/**
 * Items encoded between two turns of the event loop. A page is encoded in slices of this many, each
 * followed by a yield, so that the requests waiting meanwhile (a probe, a cached
 * page) are answered between two slices rather than after a whole page of every export in flight.
 */
export const EXPORT_SLICE = 50

/** Lets the event loop run what is waiting (I/O callbacks, other requests) before going on. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Exports streamed at once, per process (EXPORT_CONCURRENCY); one more is refused, never queued. */
export interface ExportGate {
  /** A place, with the function that gives it back; null when every place is taken. */
  enter(): (() => void) | null
  readonly inFlight: number
}

export function createExportGate(limit: number): ExportGate {
  let inFlight = 0
  return {
    enter() {
      if (inFlight >= limit) return null
      inFlight++
      let released = false
      return () => {
        if (released) return
        released = true
        inFlight--
      }
    },
    get inFlight() {
      return inFlight
    },
  }
}

/**
 * The export as a stream of one chunk per page. The first page is read before this resolves, so a
 * database that cannot answer still gets its usual problem (a 503) instead of a truncated body;
 * after the first byte, a failure can only cut the body short (the chunked encoding never ends,
 * which clients report as an error). The next page is read when the consumer pulls (highWaterMark
 * 0: no page is read ahead), so a slow client holds one page in memory and no pooled connection.
 */
export async function openExport<T>(plan: ExportPlan<T>): Promise<ReadableStream<Uint8Array>> {
  const first = await plan.read(plan.after, plan.pageSize)
  let pending: T[] | null = first
  let after = first.length === 0 ? null : plan.keyOf(first[first.length - 1]!)
  let done = first.length < plan.pageSize
  let sent = 0
  let started = false
  // The client went away (the request's signal, or Bun cancelling the body): read nothing more.
  let stopped = plan.signal.aborted
  const stop = () => {
    stopped = true
  }
  plan.signal.addEventListener('abort', stop, { once: true })
  let ended = false
  const finish = (end: BodyEnd) => {
    plan.signal.removeEventListener('abort', stop)
    if (ended) return
    ended = true
    plan.onEnd?.(end)
  }
  const cut = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown = undefined) => {
    finish('cut')
    controller.error(error)
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Erroring a stream no longer readable (cancelled) does nothing; a reader still there sees it end.
        if (stopped) return cut(controller)
        let page: T[]
        if (pending !== null) {
          page = pending
          pending = null
        } else {
          try {
            page = await plan.read(after, plan.pageSize)
          } catch (error) {
            if (stopped) return cut(controller)
            if (plan.onError === undefined) return cut(controller, error)
            plan.onError(error, sent)
            return cut(controller)
          }
          // The client went away while the page was read: it is dropped.
          if (stopped) return cut(controller)
          done = page.length < plan.pageSize
          if (page.length > 0) after = plan.keyOf(page[page.length - 1]!)
        }
        for (let from = 0; from < page.length || !started; from += EXPORT_SLICE) {
          const text = (started ? '' : plan.preamble) + plan.encode(page.slice(from, from + EXPORT_SLICE))
          started = true
          if (text !== '') controller.enqueue(utf8.encode(text))
          if (from + EXPORT_SLICE < page.length) {
            await yieldToLoop()
            if (stopped) return cut(controller)
          }
        }
        sent += page.length
        if (done) {
          finish('complete')
          controller.close()
        }
      },
      cancel() {
        stop()
        finish('cut')
      },
    },
    { highWaterMark: 0 },
  )
}

/** The headers set for the response so far (Elysia's `set`): the request id, CORS. */
export interface SetHeaders {
  headers: Record<string, string | number>
}

/**
 * The export's Response. The headers already set go into it and leave `set` (as the response
 * cache does: Elysia would otherwise copy the Response to add them). It depends on Accept, so Vary
 * says so; it is not stored (no-store): it is large and carries no validator to revalidate with.
 */
export function exportResponse(
  stream: ReadableStream<Uint8Array>,
  format: ExportFormat,
  filename: string,
  set: SetHeaders,
): Response {
  const vary = set.headers.vary
  const headers = {
    ...set.headers,
    'content-type': CONTENT_TYPES[format],
    'content-disposition': contentDisposition(filename),
    'cache-control': 'no-store',
    vary: vary === undefined ? 'Accept' : vary === '*' ? '*' : `${vary}, Accept`,
  } as Record<string, string>
  set.headers = {}
  return new Response(stream, { headers })
}
