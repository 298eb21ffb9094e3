import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { seed } from '../../scripts/seed'
import { type RunningApp, startApp } from '../../test/support/app'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { encodeCursor } from '../http/pagination'
import type { Database, Param } from './sql'

/**
 * No request path scans the tweets table. Every statement the real app sends while answering the
 * seven endpoints (filters, deep pages) is recorded, then explained (EXPLAIN: never a full scan of
 * tweets) and run again while the server counts the rows its handlers read (Handler_read_*), which
 * must stay bounded by the page size, not by the table's size. The analysis endpoints over ranges
 * longer than a day likewise: their reads are bounded by the edges of the range and by the page or
 * limit, not by the tweets the range holds.
 */

const TWEETS = 30_000
/** The end of the seeded seven days (the seed's default, given here so that the ranges below hold). */
const NOW = Date.UTC(2026, 10, 28)
let database: TestDatabase
let app: RunningApp
const statements: { sql: string; params: Param[] }[] = []

/** The app's pool, recording every statement it is given. */
function recording(db: Database): Database {
  return {
    ...db,
    rows: (sql, params = []) => {
      statements.push({ sql, params })
      return db.rows(sql, params)
    },
  }
}

beforeAll(async () => {
  database = await createTestDatabase()
  await seed(database.config, { tweets: TWEETS, users: 6_000, seed: 7, now: NOW })
  app = startApp(recording(database.db))
}, 120_000)

afterAll(async () => {
  await app?.stop()
  await database?.drop()
})

async function get(path: string) {
  const response = await fetch(app.url + path)
  expect({ path, status: response.status }).toEqual({ path, status: 200 })
  return (await response.json()) as any
}

/** Rows read by the server's handlers while running one statement. */
async function rowsRead(sql: string, params: Param[]): Promise<number> {
  return (await handlerReads(sql, params)).total
}

/** Handler_read_* counts while running one statement, and their sum. */
async function handlerReads(sql: string, params: Param[]): Promise<{ total: number; counts: Record<string, number> }> {
  await database.admin.query('FLUSH STATUS')
  await database.admin.query(sql, params)
  const [status] = (await database.admin.query("SHOW SESSION STATUS LIKE 'Handler_read%'")) as any
  const counts = Object.fromEntries(
    (status as { Variable_name: string; Value: string }[])
      .filter((row) => Number(row.Value) > 0)
      .map((row) => [row.Variable_name.replace('Handler_read_', ''), Number(row.Value)]),
  )
  return { total: Object.values(counts).reduce((sum, n) => sum + n, 0), counts }
}

describe('query plans at scale', () => {
  test('every statement behind the seven endpoints avoids scanning tweets and reads rows in proportion to the page', async () => {
    const [[oldest]] = (await database.admin.query('SELECT id FROM tweets ORDER BY id LIMIT 1 OFFSET 100')) as any
    const [[author]] = (await database.admin.query(
      'SELECT author_id, COUNT(*) AS tweets FROM tweets GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1',
    )) as any
    expect(Number(author.tweets)).toBeLessThan(TWEETS / 10)
    const [[lastUser]] = (await database.admin.query('SELECT id FROM users ORDER BY id DESC LIMIT 1 OFFSET 50')) as any
    const deep = encodeCursor(oldest.id)
    // Cursors part-way down filtered lists: an index used for its equality prefix only ('ref', not
    // 'range') skips every entry above the cursor, which the rows-read bound below catches.
    const partWay = async (where: string, fraction: number) => {
      const [[{ count }]] = (await database.admin.query(`SELECT COUNT(*) AS count FROM tweets WHERE ${where}`)) as any
      const [[row]] = (await database.admin.query(`SELECT id FROM tweets WHERE ${where} ORDER BY id DESC LIMIT 1 OFFSET ?`, [
        Math.floor(Number(count) * fraction),
      ])) as any
      return encodeCursor(row.id)
    }
    const paths = [
      '/api/v1/resources/tweets/all',
      `/api/v1/resources/tweets/all?cursor=${deep}`,
      '/api/v1/resources/tweets/all?limit=1000',
      '/api/v1/resources/tweets?hash=devops',
      `/api/v1/resources/tweets?hash=devops&cursor=${deep}`,
      '/api/v1/resources/tweets?lang=ja',
      '/api/v1/resources/tweets?lang=ko&hash=remediation',
      `/api/v1/resources/tweets?lang=en&cursor=${await partWay("lang = 'en'", 0.3)}`,
      `/api/v1/resources/tweets?hash=devops&lang=en&cursor=${await partWay("hashtag = 'devops' AND lang = 'en'", 0.1)}`,
      `/api/v1/resources/tweets?hash=devops&cursor=${await partWay("hashtag = 'devops'", 0.3)}`,
      `/api/v1/resources/tweets?author_id=${author.author_id}`,
      `/api/v1/resources/tweets?author_id=${author.author_id}&hash=sre&lang=en`,
      '/api/v1/resources/tweets/by_hour',
      '/api/v1/resources/tweets/by_hour?hash=devops&lang=en&tz=-03:00',
      '/api/v1/resources/tweets/by_lang',
      '/api/v1/resources/tweets/by_lang?hash=sre',
      '/api/v1/resources/users/all',
      `/api/v1/resources/users/all?cursor=${encodeCursor(lastUser.id)}`,
      '/api/v1/resources/users/top5',
      '/api/v1/resources/hashtags/all',
    ]
    for (const path of paths) await get(path)
    const reads = statements.filter((s) => /\b(FROM|JOIN) tweets\b/.test(s.sql))
    expect(reads.length).toBeGreaterThanOrEqual(9)
    for (const { sql, params } of reads) {
      const [plan] = (await database.admin.query(`EXPLAIN ${sql}`, params)) as any
      for (const step of plan.filter((s: { table: string }) => s.table === 'tweets' || s.table === 't')) {
        expect({ sql: sql.slice(0, 120), table: step.table, type: step.type, key: step.key !== null }).toEqual({
          sql: sql.slice(0, 120),
          table: step.table,
          type: step.type === 'ALL' ? 'not a full scan' : step.type,
          key: true,
        })
      }
      // Below a cursor, the page's ids come from a range of their index, read from the cursor down.
      if (sql.includes('id < CAST')) {
        const pick = plan.find((s: { table: string }) => s.table === 'tweets')
        expect({ sql: sql.slice(0, 120), type: pick?.type }).toEqual({ sql: sql.slice(0, 120), type: 'range' })
      }
      const limit = Number(params.at(-1))
      // Per tweet of the page: its index entry, its rows under each hashtag, its author, the sort.
      const bound = 10 * (Number.isInteger(limit) && limit > 0 ? limit : 100) + 200
      const read = await rowsRead(sql, params)
      // An author's range is read whole when other filters narrow it further (no index holds all
      // three): in proportion to that author's tweets. Every other path: in proportion to the page.
      const narrowedAuthor = sql.includes('author_id = CAST') && /hashtag = \?|lang = \?/.test(sql)
      const allowed = narrowedAuthor ? 4 * Number(author.tweets) + 200 : bound
      expect({ sql: sql.slice(0, 120), read: read <= allowed }).toEqual({ sql: sql.slice(0, 120), read: true })
    }
    // The aggregates read the kept counts, never the tweets.
    const aggregates = statements.filter((s) => s.sql.includes('hashtag_counts'))
    expect(aggregates.length).toBeGreaterThanOrEqual(5)
    for (const { sql } of aggregates) expect(sql).not.toMatch(/\bFROM tweets\b|\bJOIN tweets\b/)
  })
})

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
const QUARTER_MS = 15 * 60_000
const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/

interface Range {
  since: number
  until: number
}

/**
 * A week and half of it, ending at the same instant (2m31s before a quarter hour) and starting at the
 * same point of a quarter hour and of an hour (7m13s past): the same edges, read from the rows, and
 * twice the whole buckets, read from the counts, over twice the tweets.
 */
const WEEK: Range = { since: NOW - 7 * DAY_MS + 433_000, until: NOW - 151_000 }
const HALF_WEEK: Range = { since: NOW - 3.5 * DAY_MS + 433_000, until: NOW - 151_000 }

const ranged = (path: string, params: Record<string, string>, range: Range) =>
  `/api/v1/resources/${path}?${new URLSearchParams({
    ...params,
    since: new Date(range.since).toISOString(),
    until: new Date(range.until).toISOString(),
  })}`

/**
 * Every analysis endpoint over a range longer than a day, with and without its filters. Minute
 * timelines are left out: they count the rows of their whole range by design (a minute is finer than
 * any kept count), and at most MAX_BUCKETS minutes of them.
 */
const RANGED: [string, (range: Range) => string][] = [
  ['timeline per hour', (r) => ranged('tweets/timeline', { interval: 'hour' }, r)],
  [
    'timeline per hour of #devops in English, originals and replies',
    (r) => ranged('tweets/timeline', { interval: 'hour', hash: 'devops', lang: 'en', kind: 'original,reply' }, r),
  ],
  ['timeline per day at -03:00', (r) => ranged('tweets/timeline', { interval: 'day', tz: '-03:00' }, r)],
  ['timeline per day of #sre retweets', (r) => ranged('tweets/timeline', { interval: 'day', hash: 'sre', kind: 'retweet' }, r)],
  ['by_hour', (r) => ranged('tweets/by_hour', {}, r)],
  [
    'by_hour of #devops originals at +05:30',
    (r) => ranged('tweets/by_hour', { hash: 'devops', kind: 'original', tz: '+05:30' }, r),
  ],
  ['by_lang', (r) => ranged('tweets/by_lang', {}, r)],
  ['by_lang of #sre quotes', (r) => ranged('tweets/by_lang', { hash: 'sre', kind: 'quote' }, r)],
  ['hashtags/all', (r) => ranged('hashtags/all', {}, r)],
  ['hashtags/all of originals and quotes', (r) => ranged('hashtags/all', { kind: 'original,quote' }, r)],
  ['related to #devops', (r) => ranged('hashtags/devops/related', {}, r)],
  ['related to #opentracing, 5', (r) => ranged('hashtags/opentracing/related', { limit: '5' }, r)],
  ['top of #devops by engagement', (r) => ranged('tweets/top', { hash: 'devops', limit: '10' }, r)],
  ['top of #devops by likes', (r) => ranged('tweets/top', { hash: 'devops', by: 'likes', limit: '10' }, r)],
  ['top Japanese quotes by retweets', (r) => ranged('tweets/top', { lang: 'ja', kind: 'quote', by: 'retweets' }, r)],
  // Pages walk the list from its newest tweet (or the cursor) down, checking the range on the way:
  // a range that ends at the newest tweets, as here, reads about its page. An until long before them
  // would step over every newer tweet first, and a range's last page over every older one: a stored
  // row's id and created_at are what the API gave, so neither end of the range is an id bound.
  ['tweets/all', (r) => ranged('tweets/all', {}, r)],
  ['tweets/all of replies', (r) => ranged('tweets/all', { kind: 'reply' }, r)],
  ['tweets of #devops quotes', (r) => ranged('tweets', { hash: 'devops', kind: 'quote' }, r)],
]

/** The tables whose full scan the analysis endpoints must never need, under their names and the aliases the SQL gives them. */
const LARGE_TABLES = new Set(['tweets', 't', 'tweet_metrics', 'm', 'tweet_hashtags', 'g'])
const DATA = /\b(FROM|JOIN) (tweets|tweet_metrics|tweet_hashtags|tweet_counts|related_counts|users)\b/

type Kind = 'edge' | 'counts' | 'page' | 'top' | 'ids' | 'user'

/** What a statement does, from its text: the bound on its reads depends on it. */
function kindOf(sql: string): Kind {
  if (/\bFROM tweet_metrics m\b/.test(sql)) return 'top'
  if (/\bFROM users u\b/.test(sql)) return 'user'
  if (/WHERE t\.id IN \(/.test(sql)) return 'ids'
  if (/\bFROM tweets\b/.test(sql) && /\bLIMIT \?/.test(sql)) return 'page'
  if (/\b(FROM|JOIN) tweets\b/.test(sql)) return 'edge'
  return 'counts'
}

/** One answered request: its body and the statements it sent that read the data. */
async function answer(path: string) {
  statements.length = 0
  const body = await get(path)
  return { body, sent: statements.filter((s) => DATA.test(s.sql)) }
}

const count = async (sql: string, params: Param[] = []) => Number(((await database.admin.query(sql, params)) as any)[0][0].n)

describe('query plans of the analysis endpoints', () => {
  test('over a week and half a week, no statement scans, and reads are bounded by the edges and the page or limit', async () => {
    const ranked = async (by: string, id: string) =>
      count(
        `SELECT COUNT(*) AS n FROM tweet_metrics m JOIN tweet_metrics l ON l.id = ? WHERE (m.${by}, m.id) >= (l.${by}, l.id)`,
        [id],
      )
    // At most one kept count per bucket and combination (hashtag, language, kind; hashtag and related).
    const combinations = await count('SELECT COUNT(*) AS n FROM (SELECT DISTINCT hashtag, lang, kind FROM tweet_counts) AS c')
    const pairs = await count('SELECT COUNT(*) AS n FROM (SELECT DISTINCT hashtag, related FROM related_counts) AS c')
    const failures: unknown[] = []
    const fail = (what: Record<string, unknown>) => failures.push(what)

    /** Checks each statement of one request; returns the rows read by its statements of each kind. */
    async function check(name: string, range: Range | null, path: string) {
      const { body, sent } = await answer(path)
      const reads: Record<Kind, number> = { edge: 0, counts: 0, page: 0, top: 0, ids: 0, user: 0 }
      expect({ name, sent: sent.length > 0 }).toEqual({ name, sent: true })
      for (const { sql, params } of sent) {
        const at = { name, range: range === null ? null : range === WEEK ? 'week' : 'half week', sql: sql.replace(/\s+/g, ' ') }
        const limited = /\bLIMIT \?/.test(sql)
        const [plan] = (await database.admin.query(`EXPLAIN ${sql}`, params)) as any
        for (const step of plan.filter((s: { table: string }) => LARGE_TABLES.has(s.table))) {
          // A full scan of the table, or of an index without a LIMIT that stops the walk.
          if (step.type === 'ALL' || step.key === null || (step.type === 'index' && !limited)) {
            fail({ ...at, table: step.table, type: step.type, key: step.key })
          }
        }
        const kind = kindOf(sql)
        const { total, counts } = await handlerReads(sql, params)
        reads[kind] += total
        let allowed: number
        if (kind === 'edge') {
          // An edge of the range is shorter than the bucket it cuts (a quarter hour, an hour for related
          // hashtags), and so is the rest of that bucket, read instead when the edge covers most of it
          // (with the bucket's kept counts: an index entry, its row and its group each). Per (tweet,
          // hashtag) row of the spans read: its index entry, its row (lang and kind are not in the
          // index), its group, and for related hashtags the tweet's hashtags: at most 8 reads.
          const ends = params.filter((p): p is string => typeof p === 'string' && DATETIME.test(p))
          const ms = (datetime: string) => Date.parse(`${datetime.replace(' ', 'T')}Z`)
          let rows = 0
          for (let i = 0; i < ends.length; i += 2) {
            const [from, to] = [ends[i]!, ends[i + 1]!]
            if (!(ms(to) > ms(from) && ms(to) - ms(from) < HOUR_MS)) fail({ ...at, edge: { from, to } })
            rows += await count('SELECT COUNT(*) AS n FROM tweets WHERE created_at >= ? AND created_at < ?', [from, to])
          }
          const table = /\b(tweet_counts|related_counts)\b/.exec(sql)?.[1]
          const bucket = params.find((p) => typeof p === 'number' && p > 100_000)
          const kept =
            table === undefined
              ? 0
              : await count(`SELECT COUNT(*) AS n FROM ${table} WHERE ${table === 'tweet_counts' ? 'quarter' : 'hour'} = ?`, [
                  bucket!,
                ])
          allowed = 8 * rows + 4 * kept + 50
        } else if (kind === 'counts') {
          // The whole buckets: the kept counts its WHERE selects, at most one per bucket and
          // combination however many tweets the range holds, each read once as a range of an index
          // (an index walked by its equality prefix alone would step over every bucket of all time:
          // Handler_read_next far above what is selected), plus per count a lookup of its group in the
          // temporary table and the groups' sort: at most 4 reads a count.
          const selected = await count(
            `SELECT COALESCE(SUM(n), 0) AS n FROM (${sql.replace(/^\s*SELECT /, 'SELECT COUNT(*) AS n, ')}) AS s`,
            params,
          )
          const related = sql.includes('related_counts')
          const buckets = Math.ceil((range!.until - range!.since) / (related ? HOUR_MS : QUARTER_MS))
          if (selected > buckets * (related ? pairs : combinations)) fail({ ...at, selected, buckets })
          const stepped = (counts.next ?? 0) + (counts.prev ?? 0)
          if (stepped > selected + 50) fail({ ...at, kind, selected, stepped })
          allowed = 4 * selected + 100
        } else if (kind === 'page') {
          // From the top of the list down to the page's last tweet (kinds are not in the index: the
          // walk steps over the others), then per tweet of the page its rows, author and metrics.
          const last = body.data.at(-1)?.id
          const walked =
            last === undefined ? 0 : await count('SELECT COUNT(*) AS n FROM tweets WHERE id >= CAST(? AS UNSIGNED)', [last])
          allowed = 2 * walked + 10 * Number(params.at(-1)) + 200
        } else if (kind === 'top') {
          // From the top of the ranking's index down to the last tweet answered: per candidate its index
          // entry, its metrics row (range, lang and kind) and, under a hashtag, its row in tweets.
          const by = /ORDER BY m\.(\w+) DESC/.exec(sql)![1]!
          const last = body.data.at(-1)?.id
          allowed = 4 * (last === undefined ? 0 : await ranked(by, last)) + 50
        } else if (kind === 'ids') {
          // Per tweet: its rows (one per tracked hashtag), its author and its metrics.
          allowed = 10 * params.length + 20
        } else {
          // The user, and its tweets on the author's index.
          const [id] = params as string[]
          allowed = 3 * (await count('SELECT COUNT(*) AS n FROM tweets WHERE author_id = CAST(? AS UNSIGNED)', [id!])) + 20
        }
        if (total > allowed) fail({ ...at, kind, read: total, allowed, counts })
      }
      return reads
    }

    for (const [name, path] of RANGED) {
      const week = await check(name, WEEK, path(WEEK))
      const half = await check(name, HALF_WEEK, path(HALF_WEEK))
      // Twice the range reads no more of the rows: the edges are the same, pages and rankings stop at
      // their limit. (The kept counts are one per bucket: twice the buckets, twice those, by design.)
      const rowsOf = (reads: Record<Kind, number>) => reads.edge + reads.page + reads.top + reads.ids
      if (rowsOf(week) > 1.5 * rowsOf(half) + 100) fail({ name, week, half })
    }
    const [[tweet]] = (await database.admin.query('SELECT id FROM tweets ORDER BY id LIMIT 1 OFFSET 12345')) as any
    const [[author]] = (await database.admin.query(
      'SELECT author_id AS id FROM tweets GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1',
    )) as any
    const [[someone]] = (await database.admin.query('SELECT id FROM users ORDER BY id LIMIT 1 OFFSET 4321')) as any
    await check('tweet by id', null, `/api/v1/resources/tweets/${tweet.id}`)
    await check('the most prolific author by id', null, `/api/v1/resources/users/${author.id}`)
    await check('a user by id', null, `/api/v1/resources/users/${someone.id}`)
    expect(failures).toEqual([])
  }, 120_000)
})
