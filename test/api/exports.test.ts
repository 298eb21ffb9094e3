import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { seed } from '../../scripts/seed'
import { loadConfig } from '../../src/config'
import { DatabaseUnavailableError } from '../../src/db/errors'
import type { Database } from '../../src/db/sql'
import { type RunningApp, startApp } from '../support/app'
import { loadCoreData } from '../support/core-data'
import { parseCsv } from '../support/csv'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { insertHashtags, insertTweets, insertUsers } from '../support/fixtures'

/**
 * Exports of tweet lists over real HTTP, against the real app on a database of 50,000 seeded tweets
 * (51 pages of the export), the core data set and tweets whose text CSV must quote. What comes out is
 * compared with what plain SQL reads from the tables, with what the JSON pages show, and with what
 * a strict RFC 4180 parser reads. The app's pool is wrapped to count (and slow down, or fail) the
 * page reads, so that a client's disconnect or stall can be seen in the statements sent.
 */

const SEEDED = 50_000
const ALL = '/api/v1/resources/tweets/all'
const FILTERED = '/api/v1/resources/tweets'
const COLUMNS =
  'id,created_at,kind,lang,author_id,author_username,author_followers_count,hashtags,likes,retweets,replies,quotes,impressions,metrics_updated_at,text'

let database: TestDatabase
let app: RunningApp

/** What the wrapped pool does to the page reads of tweet lists (findTweets' statement). */
const probe = { pageReads: 0, delayMs: 0, failFrom: null as number | null }

function probed(db: Database): Database {
  return {
    ...db,
    rows: async (sql, params) => {
      if (sql.includes(') AS page')) {
        const read = ++probe.pageReads
        if (probe.delayMs > 0) await Bun.sleep(probe.delayMs)
        if (probe.failFrom !== null && read >= probe.failFrom) throw new DatabaseUnavailableError('connection lost (test)')
      }
      return db.rows(sql, params)
    },
  }
}

const AWKWARD_TEXTS = [
  'Quote "this", then a comma, #devops',
  'two\nlines #devops',
  'CRLF\r\ninside and a lone CR\r #devops',
  '  padded both ends  ',
  '=HYPERLINK("http://example.com") #devops',
  '+1 for #devops',
  '-2 points #devops',
  '@admin look #devops',
  '\tcmd|calc #devops',
  '\r=2+3 #devops',
  '"starts with a quote',
  'ends with a quote"',
  'tab\there; semicolon',
  '',
  '𝓒 emoji 😀 and CJK 可観測性 #devops',
]

beforeAll(async () => {
  database = await createTestDatabase()
  await seed(database.config, { tweets: SEEDED, users: 5_000, seed: 17 })
  await loadCoreData(database)
  await insertHashtags(database.admin, ['café'])
  await insertUsers(database.admin, [{ id: '777', username: 'quoting', name: 'Quote, "Unquote"', followers_count: 3 }])
  await insertTweets(
    database.admin,
    AWKWARD_TEXTS.map((text, i) => ({
      id: String(1_400_000_000_000_000_000n + BigInt(i)),
      hashtags: i % 3 === 0 ? ['devops', 'café'] : ['devops'],
      author_id: '777',
      lang: i % 2 === 0 ? 'en' : 'es',
      text,
      created_at: `2026-11-2${i % 8}T10:0${i}:00.000Z`,
      kind: 'original' as const,
      ...(i % 4 === 0
        ? {}
        : {
            metrics: {
              likes: i,
              retweets: 2 * i,
              replies: 0,
              quotes: 1,
              impressions: i % 4 === 1 ? null : 1000 + i,
              updated_at: '2026-11-29T00:00:00.000Z',
            },
          }),
    })),
  )
  app = startApp(probed(database.db))
}, 120_000)

afterAll(async () => {
  await app?.stop()
  await database?.drop()
})

const get = (path: string, headers: Record<string, string> = {}) => fetch(app.url + path, { headers })

/** The whole body as UTF-8, refusing bytes that are not UTF-8. */
const utf8 = async (response: Response) => new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer())

/** The JSON pages of a list from `path` (after the cursor `from`) to its end, each tweet as the JSON text the API sent. */
async function jsonWalk(path: string, from: string | null = null): Promise<string[]> {
  const tweets: string[] = []
  let cursor: string | null = from
  do {
    const separator = path.includes('?') ? '&' : '?'
    const response = await get(`${path}${separator}limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as { data: unknown[]; next_cursor: string | null }
    tweets.push(...body.data.map((tweet) => JSON.stringify(tweet)))
    cursor = body.next_cursor
  } while (cursor !== null)
  return tweets
}

const ndjsonLines = (text: string) => {
  expect(text.endsWith('\n') || text === '').toBe(true)
  return text === '' ? [] : text.slice(0, -1).split('\n')
}

const idsOf = (lines: string[]) => lines.map((line) => (JSON.parse(line) as { id: string }).id)

/** Every stored tweet as a CSV record, read with plain SQL: newest first, hashtags sorted, metrics or empty fields. */
async function recordsFromSql(): Promise<string[][]> {
  const [rows] = (await database.admin.query(
    `SELECT t.id, MIN(t.created_at) AS created_at, MIN(t.kind) AS kind, MIN(t.lang) AS lang, MIN(t.author_id) AS author_id,
            MIN(u.username) AS username, MIN(u.followers_count) AS followers, GROUP_CONCAT(t.hashtag SEPARATOR ' ') AS hashtags,
            MIN(m.likes) AS likes, MIN(m.retweets) AS retweets, MIN(m.replies) AS replies, MIN(m.quotes) AS quotes,
            MIN(m.impressions) AS impressions, MIN(m.updated_at) AS updated_at, MIN(t.text) AS text
       FROM tweets t JOIN users u ON u.id = t.author_id LEFT JOIN tweet_metrics m ON m.id = t.id
      GROUP BY t.id ORDER BY t.id DESC`,
  )) as any
  const iso = (datetime: string | null) => (datetime === null ? '' : `${datetime.replace(' ', 'T')}Z`)
  const text = (value: unknown) => (value === null ? '' : String(value))
  return (rows as Record<string, string | null>[]).map((row) => [
    row.id!,
    iso(row.created_at!),
    row.kind!,
    row.lang!,
    row.author_id!,
    row.username!,
    row.followers!,
    row.hashtags!.split(' ').sort().join(' '),
    text(row.likes),
    text(row.retweets),
    text(row.replies),
    text(row.quotes),
    text(row.impressions),
    iso(row.updated_at ?? null),
    row.text!,
  ])
}

/** A CSV cell as a spreadsheet-safe export writes it (OWASP CSV injection): after an apostrophe when it could start a formula. */
const spreadsheetSafe = (cell: string) => (/^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell)

describe('exports of the whole selection', () => {
  test('when /tweets/all is exported as CSV, then every stored tweet comes once, newest first, with every hashtag and the values the tables hold', async () => {
    const response = await get(`${ALL}?format=csv`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present')
    const text = await utf8(response)
    // No byte order mark: the first bytes are the first column's name.
    expect(text.startsWith('id,')).toBe(true)
    const [header, ...records] = parseCsv(text)
    expect(header!.join(',')).toBe(COLUMNS)
    // Safe to open in a spreadsheet by default: a text that would start a formula comes after an apostrophe.
    const expected = (await recordsFromSql()).map((record) => record.map(spreadsheetSafe))
    expect(expected.length).toBeGreaterThan(SEEDED)
    expect(records.length).toBe(expected.length)
    expect(records).toEqual(expected)
    // The awkward texts come back, quotes, commas and line ends included; formulas as text.
    const texts = new Set(records.map((record) => record[14]))
    for (const awkward of AWKWARD_TEXTS) expect(texts.has(spreadsheetSafe(awkward))).toBe(true)
    expect(texts.has(`'=HYPERLINK("http://example.com") #devops`)).toBe(true)
  }, 60_000)

  test('when csv_cells=raw is asked, then every field comes back exactly as stored, formulas included', async () => {
    const response = await get(`${ALL}?format=csv&csv_cells=raw`)
    expect(response.status).toBe(200)
    const [, ...records] = parseCsv(await utf8(response))
    expect(records).toEqual(await recordsFromSql())
    const texts = new Set(records.map((record) => record[14]))
    for (const awkward of AWKWARD_TEXTS) expect(texts.has(awkward)).toBe(true)
    // NDJSON is data for programs: never changed, whatever csv_cells says.
    const lines = (await utf8(await get(`${ALL}?format=ndjson&csv_cells=safe`))).trimEnd().split('\n')
    const ndjsonTexts = new Set(lines.map((line) => JSON.parse(line).text))
    for (const awkward of AWKWARD_TEXTS) expect(ndjsonTexts.has(awkward)).toBe(true)
  }, 60_000)

  test('when /tweets/all is exported as NDJSON, then its lines are the JSON pages’ tweet objects, byte for byte, page after page', async () => {
    const response = await get(ALL, { accept: 'application/x-ndjson' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/x-ndjson')
    const lines = ndjsonLines(await utf8(response))
    const pages = await jsonWalk(ALL)
    expect(pages.length).toBeGreaterThan(SEEDED)
    expect(lines).toEqual(pages)
  }, 60_000)

  test('when filters are given, then the export holds exactly the tweets the JSON pages list for them', async () => {
    const [[prolific]] = (await database.admin.query(
      'SELECT author_id FROM tweets GROUP BY author_id ORDER BY COUNT(DISTINCT id) DESC LIMIT 1',
    )) as any
    const queries = [
      `${FILTERED}?hash=devops&lang=en`,
      `${FILTERED}?hashtag=SRE`,
      `${FILTERED}?author_id=${prolific.author_id}`,
      `${FILTERED}?lang=ja&kind=original,quote`,
      `${FILTERED}?hash=observability&since=2026-11-24&until=2026-11-26T12:00:00Z`,
      `${ALL}?kind=reply`,
      `${ALL}?since=2026-11-27`,
      `${FILTERED}?hash=caf%C3%A9`,
    ]
    for (const path of queries) {
      const expected = await jsonWalk(path)
      const ndjson = ndjsonLines(await utf8(await get(`${path}&format=ndjson`)))
      expect({ path, lines: ndjson }).toEqual({ path, lines: expected })
      const csv = parseCsv(await utf8(await get(path, { accept: 'text/csv' })))
      expect({ path, ids: csv.slice(1).map((record) => record[0]) }).toEqual({ path, ids: idsOf(expected) })
    }
    // The filters do filter: these selections are neither empty nor everything.
    const sizes = await Promise.all(queries.slice(0, 3).map(async (path) => (await jsonWalk(path)).length))
    for (const size of sizes) expect(size).toBeGreaterThan(0)
    for (const size of sizes) expect(size).toBeLessThan(SEEDED)
  }, 60_000)

  test('when a cursor is given, then the export starts after it; limit sets no cap', async () => {
    const first = (await (await get(`${FILTERED}?hash=devops&limit=100`)).json()) as { next_cursor: string }
    const rest = await jsonWalk(`${FILTERED}?hash=devops`, first.next_cursor)
    const whole = await jsonWalk(`${FILTERED}?hash=devops`)
    expect(rest).toEqual(whole.slice(100))
    const exported = ndjsonLines(
      await utf8(await get(`${FILTERED}?hash=devops&limit=5&cursor=${first.next_cursor}&format=ndjson`)),
    )
    expect(exported).toEqual(rest)
    expect(exported.length).toBeGreaterThan(1000)
  }, 60_000)
})

describe('negotiation', () => {
  const cases: [string, Record<string, string>, 'json' | 'csv' | 'ndjson'][] = [
    [`${ALL}?limit=2`, {}, 'json'],
    [`${ALL}?limit=2`, { accept: '*/*' }, 'json'],
    [`${ALL}?limit=2`, { accept: 'application/json' }, 'json'],
    [`${ALL}?limit=2`, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }, 'json'],
    // Nothing offered matches: the JSON page, not 406.
    [`${ALL}?limit=2`, { accept: 'text/html' }, 'json'],
    [`${ALL}?limit=2`, { accept: 'image/png;q=0.5, application/xml' }, 'json'],
    [`${ALL}?since=2026-11-27T12:00:00Z`, { accept: 'text/csv' }, 'csv'],
    [`${ALL}?since=2026-11-27T12:00:00Z`, { accept: 'application/x-ndjson' }, 'ndjson'],
    [`${ALL}?since=2026-11-27T12:00:00Z`, { accept: 'text/csv;q=0.5, application/x-ndjson' }, 'ndjson'],
    [`${ALL}?since=2026-11-27T12:00:00Z`, { accept: 'application/json;q=0.4, text/csv;q=0.6' }, 'csv'],
    [`${ALL}?since=2026-11-27T12:00:00Z`, { accept: 'text/csv;q=0, */*' }, 'json'],
    // format wins over Accept.
    [`${ALL}?limit=2&format=json`, { accept: 'text/csv' }, 'json'],
    [`${ALL}?since=2026-11-27T12:00:00Z&format=csv`, { accept: 'application/x-ndjson' }, 'csv'],
    [`${FILTERED}?lang=en&since=2026-11-27T12:00:00Z&format=ndjson`, { accept: 'application/json' }, 'ndjson'],
  ]
  test.each(cases)('when %s is asked with %p, then it answers %s', async (path, headers, expected) => {
    const response = await get(path, headers)
    expect(response.status).toBe(200)
    const type = response.headers.get('content-type')!
    if (expected === 'json') {
      expect(type).toBe('application/json; charset=utf-8')
      expect(response.headers.get('etag')).not.toBeNull()
      expect(response.headers.get('content-disposition')).toBeNull()
      expect(((await response.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0)
    } else {
      expect(type).toBe(expected === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson')
      expect(response.headers.get('content-disposition')).toStartWith('attachment; filename="tweets-')
      const body = await utf8(response)
      if (expected === 'csv') expect(body.startsWith(`${COLUMNS}\r\n`)).toBe(true)
      else expect(JSON.parse(body.split('\n')[0]!).id).toMatch(/^\d+$/)
    }
  })

  test('when an export is asked with Accept-Encoding and an ETag of the page, then it is sent plain, whole, not stored and never 304', async () => {
    const page = await get(`${ALL}?since=2026-11-27T12:00:00Z`)
    const etag = page.headers.get('etag')!
    const before = probe.pageReads
    for (let i = 0; i < 2; i++) {
      const response = await get(`${ALL}?since=2026-11-27T12:00:00Z`, {
        accept: 'text/csv',
        'accept-encoding': 'gzip, br, zstd',
        'if-none-match': etag,
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-encoding')).toBeNull()
      expect(response.headers.get('etag')).toBeNull()
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('vary')).toBe('Accept')
      expect(response.headers.get('x-request-id')).not.toBeNull()
      expect(parseCsv(await utf8(response)).length).toBeGreaterThan(1)
    }
    // Each export read the database: none was answered from the response cache.
    expect(probe.pageReads - before).toBeGreaterThanOrEqual(2)
  })
})

describe('file names', () => {
  const cases: [string, string][] = [
    [`${ALL}?format=csv&since=2026-11-29`, 'attachment; filename="tweets-from-20261129.csv"'],
    [`${FILTERED}?format=csv&since=2026-11-29`, 'attachment; filename="tweets-from-20261129.csv"'],
    [`${ALL}?format=csv&kind=reply&since=2026-11-29`, 'attachment; filename="tweets-reply-from-20261129.csv"'],
    [`${FILTERED}?hash=DevOps&lang=EN&format=ndjson`, 'attachment; filename="tweets-devops-en.ndjson"'],
    [`${FILTERED}?author_id=777&format=csv`, 'attachment; filename="tweets-author-777.csv"'],
    [
      `${FILTERED}?hash=%23devops&lang=en&author_id=777&kind=quote,original&since=2026-11-20T09:30:00Z&until=2026-12-01&format=csv`,
      'attachment; filename="tweets-devops-en-author-777-original-quote-from-20261120T093000Z-to-20261201.csv"',
    ],
    [`${FILTERED}?hash=caf%C3%A9&format=csv`, `attachment; filename="tweets-cafe.csv"; filename*=UTF-8''tweets-caf%C3%A9.csv`],
  ]
  test.each(cases)('when %s is exported, then Content-Disposition is %s', async (path, expected) => {
    const response = await get(path)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-disposition')).toBe(expected)
    await response.arrayBuffer()
  })

  test('an unfiltered export is named tweets-all', async () => {
    for (const path of [`${ALL}?format=csv`, `${FILTERED}?format=csv`]) {
      const response = await get(path)
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="tweets-all.csv"')
      await response.body?.cancel()
    }
  })
})

describe('bad requests', () => {
  test.each(['xml', 'CSV', 'json,csv', ''])('when format=%p, then 400 names format', async (format) => {
    const response = await get(`${ALL}?format=${encodeURIComponent(format)}`)
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await response.json()) as { type: string; errors: { parameter: string; detail: string }[] }
    expect(problem.type).toBe('/problems/invalid-parameter')
    expect(problem.errors.map((e) => e.parameter)).toEqual(['format'])
    expect(problem.errors[0]!.detail).toContain('format must be json, csv or ndjson')
  })

  test('when format is given twice, then 400 names format', async () => {
    const response = await get(`${FILTERED}?format=csv&format=ndjson`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { errors: { parameter: string }[] }).errors.map((e) => e.parameter)).toEqual(['format'])
  })

  test('when the cursor of an export is broken, then 400 names cursor, before anything is streamed', async () => {
    const response = await get(`${ALL}?format=csv&cursor=AAAA`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { errors: { parameter: string }[] }).errors.map((e) => e.parameter)).toEqual(['cursor'])
  })
})

/** A GET on a raw socket: the test decides when bytes are read (pause) and when the client goes away (destroy). */
function rawGet(path: string, accept: string): { socket: Socket; received: () => number; head: Promise<string> } {
  const { port } = new URL(app.url)
  const socket = connect(Number(port), '127.0.0.1')
  let bytes = 0
  let text = ''
  let resolveHead: (head: string) => void = () => {}
  const head = new Promise<string>((resolve) => (resolveHead = resolve))
  socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: ${accept}\r\n\r\n`))
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length
    if (text.length < 4096) {
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end !== -1) resolveHead(text.slice(0, end))
    }
  })
  socket.on('error', () => {})
  return { socket, received: () => bytes, head }
}

const waitFor = async (condition: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}

describe('streaming', () => {
  const PAGES = Math.ceil(SEEDED / 1000)

  test('when the client stops reading, then pages stop being read until it reads again (backpressure)', async () => {
    const before = probe.pageReads
    const { socket, head } = rawGet(ALL, 'application/x-ndjson')
    expect(await head).toStartWith('HTTP/1.1 200')
    socket.pause()
    await Bun.sleep(1_000)
    const stalled = probe.pageReads - before
    await Bun.sleep(500)
    // Only what the socket buffers hold was read (a few MB: some pages), and no more while stalled.
    expect(probe.pageReads - before).toBe(stalled)
    expect(stalled).toBeLessThan(PAGES)
    socket.resume()
    await waitFor(() => probe.pageReads - before > stalled)
    socket.destroy()
  }, 20_000)

  test('when the client disconnects mid-export, then no page is read after it', async () => {
    probe.delayMs = 40
    try {
      const before = probe.pageReads
      const { socket, head } = rawGet(`${ALL}?format=csv`, '*/*')
      expect(await head).toStartWith('HTTP/1.1 200')
      await waitFor(() => probe.pageReads - before >= 4)
      socket.destroy()
      const atDisconnect = probe.pageReads - before
      // Long enough for 20 more pages at 40 ms each.
      await Bun.sleep(800)
      // The page being read when the client left may finish; none is started after.
      expect(probe.pageReads - before).toBeLessThanOrEqual(atDisconnect + 1)
      expect(probe.pageReads - before).toBeLessThan(PAGES / 2)
    } finally {
      probe.delayMs = 0
    }
  }, 20_000)

  /** The access line of the request whose X-Request-Id is `id`, once written. */
  const accessLine = async (id: string) => {
    const find = () => (app.log.lines as any[]).find((l) => l.event?.action === 'http-request' && l.http.request.id === id)
    await waitFor(() => find() !== undefined)
    return find()
  }
  const exportSeries = async (body: string) => {
    const metric = (await app.registry.getSingleMetric('http_request_duration_seconds')!.get()) as {
      values: { metricName?: string; labels: Record<string, string | number>; value: number }[]
    }
    const mine = (name: string) =>
      metric.values.find(
        (v) => v.metricName === name && v.labels.path === ALL && v.labels.status === '200' && v.labels.body === body,
      )?.value ?? 0
    return { count: mine('http_request_duration_seconds_count'), sum: mine('http_request_duration_seconds_sum') }
  }

  test('when an export takes seconds, then the access log and the duration histogram measure it to its last byte', async () => {
    probe.delayMs = 20
    try {
      const before = await exportSeries('complete')
      const started = performance.now()
      const response = await fetch(`${app.url}${ALL}?format=ndjson`, { headers: { 'x-request-id': 'slow-export-1' } })
      await response.arrayBuffer()
      const elapsedMs = performance.now() - started
      // 51 pages, each read 20 ms late: a second at least, to the last byte.
      expect(elapsedMs).toBeGreaterThan(1_000)
      const line = await accessLine('slow-export-1')
      expect(line.event.duration / 1e6).toBeGreaterThan(elapsedMs * 0.9)
      expect(line.event.duration / 1e6).toBeLessThanOrEqual(elapsedMs + 50)
      expect(line.twitter.body).toBe('complete')
      expect(line.event.outcome).toBe('success')
      let after = await exportSeries('complete')
      for (let i = 0; i < 100 && after.count === before.count; i++) {
        await Bun.sleep(10)
        after = await exportSeries('complete')
      }
      expect(after.count - before.count).toBe(1)
      expect(after.sum - before.sum).toBeGreaterThan((elapsedMs * 0.9) / 1000)
    } finally {
      probe.delayMs = 0
    }
  }, 20_000)

  test('when the client leaves mid-export, then the access line and the metrics record the answer as cut short', async () => {
    probe.delayMs = 40
    try {
      const before = await exportSeries('cut')
      const { port } = new URL(app.url)
      const socket = connect(Number(port), '127.0.0.1')
      socket.on('error', () => {})
      socket.on('connect', () =>
        socket.write(`GET ${ALL}?format=csv HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Request-Id: cut-export-1\r\n\r\n`),
      )
      const reads = probe.pageReads
      await waitFor(() => probe.pageReads - reads >= 3)
      socket.destroy()
      const line = await accessLine('cut-export-1')
      expect(line.twitter.body).toBe('cut')
      expect(line.event.outcome).toBe('failure')
      expect(line.http.response.status_code).toBe(200)
      expect(line.message).toContain('(body cut short)')
      let after = await exportSeries('cut')
      for (let i = 0; i < 100 && after.count === before.count; i++) {
        await Bun.sleep(10)
        after = await exportSeries('cut')
      }
      expect(after.count - before.count).toBe(1)
    } finally {
      probe.delayMs = 0
    }
  }, 20_000)

  test('when as many exports as EXPORT_CONCURRENCY allows run at once, then a cheap request keeps its p99 within 40 ms of its idle p99', async () => {
    // An app of its own: exports of other tests still ending hold no place of these.
    const limit = loadConfig({}).exportConcurrency
    const own = startApp(database.db, { exportConcurrency: limit })
    const p99 = async (ms: number) => {
      const times: number[] = []
      const end = performance.now() + ms
      while (performance.now() < end) {
        const started = performance.now()
        await (await fetch(`${own.url}/health/live`)).arrayBuffer()
        times.push(performance.now() - started)
        await Bun.sleep(1)
      }
      times.sort((a, b) => a - b)
      return times[Math.floor(times.length * 0.99)]!
    }
    let stop = false
    try {
      const idle = await p99(1_000)
      const exporting = Array.from({ length: limit }, async (_, i) => {
        let done = 0
        while (!stop) {
          const response = await fetch(`${own.url}${ALL}?format=${i % 2 === 0 ? 'csv' : 'ndjson'}`)
          expect(response.status).toBe(200)
          await response.arrayBuffer()
          done++
        }
        return done
      })
      await Bun.sleep(200)
      const loaded = await p99(3_000)
      stop = true
      expect((await Promise.all(exporting)).every((done) => done > 0)).toBe(true)
      expect({ idle, loaded, within: loaded <= idle + 40 }).toMatchObject({ within: true })
    } finally {
      stop = true
      await own.stop()
    }
  }, 60_000)

  test('when more exports than EXPORT_CONCURRENCY are asked for, then the one too many is a 503 problem with Retry-After, and a place frees when an export ends', async () => {
    const limited = startApp(probed(database.db), { exportConcurrency: 1 })
    probe.delayMs = 30
    try {
      const first = await fetch(`${limited.url}${ALL}?format=csv`)
      expect(first.status).toBe(200)
      const second = await fetch(`${limited.url}${ALL}?format=ndjson`)
      expect(second.status).toBe(503)
      expect(second.headers.get('content-type')).toBe('application/problem+json')
      expect(second.headers.get('retry-after')).toBe('5')
      expect(((await second.json()) as { detail: string }).detail).toContain('EXPORT_CONCURRENCY')
      // JSON pages are no exports: they go on.
      expect((await fetch(`${limited.url}${ALL}?limit=5`)).status).toBe(200)
      await first.body!.cancel()
      await waitFor(() => (limited.log.lines as any[]).some((l) => l.twitter?.body === 'cut'))
      const third = await fetch(`${limited.url}${ALL}?format=ndjson`)
      expect(third.status).toBe(200)
      await third.body!.cancel()
    } finally {
      probe.delayMs = 0
      await limited.stop()
    }
  }, 20_000)

  test('when the database fails mid-export, then the body is cut short (no clean end) and no page is read after it', async () => {
    probe.failFrom = probe.pageReads + 3
    try {
      const response = await get(`${ALL}?format=ndjson`)
      expect(response.status).toBe(200)
      let received = ''
      const outcome = await (async () => {
        const decoder = new TextDecoder()
        try {
          for await (const chunk of response.body!) received += decoder.decode(chunk, { stream: true })
          return 'complete'
        } catch {
          return 'cut short'
        }
      })()
      expect(outcome).toBe('cut short')
      // Two pages were sent, then nothing. What was still on its way to the socket when the stream
      // errored goes with the connection, possibly in the middle of a line: the whole lines that
      // arrived are tweets, no more than the two pages.
      const lines = received
        .slice(0, received.lastIndexOf('\n') + 1)
        .split('\n')
        .slice(0, -1)
      expect(lines.length).toBeLessThanOrEqual(2_000)
      for (const line of lines) expect(typeof JSON.parse(line).id).toBe('string')
      const reads = probe.pageReads
      await Bun.sleep(200)
      expect(probe.pageReads).toBe(reads)
    } finally {
      probe.failFrom = null
    }
  }, 20_000)

  test('when the database fails before the first byte, then the usual 503 problem comes back', async () => {
    probe.failFrom = probe.pageReads + 1
    try {
      const response = await get(`${FILTERED}?hash=devops`, { accept: 'text/csv' })
      expect(response.status).toBe(503)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(response.headers.get('retry-after')).not.toBeNull()
      expect(((await response.json()) as { type: string }).type).toBe('/problems/unavailable')
    } finally {
      probe.failFrom = null
    }
  })

  test('when the database fails mid-export, then the failure is logged once as export-failed', async () => {
    probe.failFrom = probe.pageReads + 2
    try {
      const response = await get(`${ALL}?format=csv`, { 'x-request-id': 'export-fails-once' })
      await response.arrayBuffer().catch(() => {})
      await Bun.sleep(100)
      const lines = app.log.lines.filter(
        (line) =>
          (line.event as { action?: string } | undefined)?.action === 'export-failed' &&
          (line.http as { request?: { id?: string } } | undefined)?.request?.id === 'export-fails-once',
      )
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ http: { request: { id: 'export-fails-once' } }, url: { path: ALL } })
    } finally {
      probe.failFrom = null
    }
  })

  test('when 50,000 tweets are exported, then the memory the process holds stays bounded by a page, not by the export', async () => {
    const sample = () => {
      Bun.gc(true)
      return process.memoryUsage().heapUsed
    }
    const baseline = sample()
    const response = await get(`${ALL}?format=ndjson`)
    const reader = response.body!.getReader()
    let peak = 0
    let bytes = 0
    for (let chunk = 0; ; chunk++) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.byteLength
      if (chunk % 8 === 0) peak = Math.max(peak, sample() - baseline)
    }
    // The body is about 25 MB; kept whole (as text, or as the tweets it is made of) it would be more.
    expect(bytes).toBeGreaterThan(15_000_000)
    expect(peak).toBeLessThan(bytes / 4)
  }, 60_000)
})
