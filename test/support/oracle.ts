import fc from 'fast-check'
import type mysql from 'mysql2/promise'
import { mulberry32 } from '../../scripts/random'
import { rebuildCounts } from '../../src/db/counts'
import type { TestDatabase } from './database'
import { bumpVersionAndWait, type FixtureTweet, type FixtureUser, insertHashtags, insertTweets, insertUsers } from './fixtures'

/**
 * What the oracle tests of the analysis endpoints share: a seeded, hostile data set, the queries
 * written every way the contract allows, and the oracle itself — the expected answers computed by
 * plain SQL over the raw rows (tweets, tweet_metrics, tweet_hashtags, users), never through the
 * service's counting code or the kept counts (tweet_counts, related_counts, hashtag_counts).
 */

export const MINUTE = 60_000
export const QUARTER = 15 * MINUTE
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** UTC offsets in minutes asked for: quarter and half hours, both extremes, whole hours. */
export const OFFSETS = [0, 345, 330, -210, 840, -720, 525, -570, 765, 60, -180] as const

/** Tracked hashtags, one of them not ASCII. */
export const TRACKED = ['devops', 'sre', 'observability', 'ñandú']
/** Hashtags carried beside the tracked ones; some sort differently by UTF-16 units than by code points ('𝓬loud', 'ﬁx'). */
export const UNTRACKED = [
  'kubernetes',
  'café',
  '可観測性',
  'zürich',
  'zz',
  'a',
  'ab',
  'ωmega',
  '𝓬loud',
  'ﬁx',
  'k8s_ops',
  'sre_tips',
]
export const LANGS = ['en', 'pt', 'ja', 'und', 'es']
export const KINDS = ['original', 'reply', 'quote', 'retweet', 'unknown'] as const
export type Kind = (typeof KINDS)[number]
export const RANKINGS = ['likes', 'retweets', 'replies', 'quotes', 'engagement'] as const
export type Ranking = (typeof RANKINGS)[number]

/** The window the generated tweets are posted in: eight days from a UTC midnight. */
export const START = Date.UTC(2026, 10, 9)
export const DAYS = 8

// ---- a seeded data set ----

/** Where buckets meet: a local midnight or hour of an offset, or any quarter hour, of the window (or a day either side). */
export function edgeOf(kind: 'midnight' | 'hour' | 'quarter', day: number, offsetMinutes: number, step: number): number {
  const midnight = START + day * DAY - offsetMinutes * MINUTE
  if (kind === 'midnight') return midnight
  if (kind === 'hour') return midnight + (step % 24) * HOUR
  return START + day * DAY + (step % 96) * QUARTER
}

/** Distances from an edge the tweets and the ranges sit at: on it, a millisecond either side, and further. */
const JITTERS = [0, 0, 0, 1, -1, 1, -1, 2, -2, 999, -1000, MINUTE - 1, -MINUTE, MINUTE, QUARTER - 1, -QUARTER + 1]

const SNOWFLAKE_EPOCH = 1288834974657n

export interface DataSet {
  users: FixtureUser[]
  tweets: FixtureTweet[]
}

/**
 * Tweets under one or several tracked hashtags, of every kind and unknown, most at or a millisecond
 * from the edges of quarter hours, hours and local midnights (many at the very same instant), ids
 * unrelated to time for some (newest first means the largest id), beyond 2^63 and short ones; metrics
 * with many ties (and all zeros), missing for some, impressions missing for others; untracked
 * hashtags, non-ASCII ones among them, and now and then a tracked hashtag the tweet is not stored under.
 */
export function generateDataSet(seed: number, size: number): DataSet {
  const random = mulberry32(seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
  const users: FixtureUser[] = [
    ...Array.from({ length: 24 }, (_, i) => ({
      id: String(10 + i * 7),
      username: `user_${i}`,
      name: `User ${i} ${i % 3 === 0 ? '🚀' : 'é'}`,
      followers_count: (i % 5) * 100,
    })),
    { id: '18446744073709551615', username: 'max_id', name: 'Max', followers_count: 7 },
    { id: '9223372036854775808', username: 'past_2_63', name: 'Past 2^63', followers_count: 7 },
    // An author without stored tweets.
    { id: '4000000000000000000', username: 'silent', name: 'Silent', followers_count: 1 },
  ]
  const authors = users.slice(0, -1)
  const used = new Set<string>()
  const idFor = (created: number): string => {
    for (;;) {
      const roll = random()
      const id =
        roll < 0.6
          ? String(((BigInt(created) - SNOWFLAKE_EPOCH) << 22n) | BigInt(int(4_194_304)))
          : roll < 0.95
            ? String(BigInt(int(2 ** 30)) * 2n ** 34n + BigInt(int(2 ** 30)))
            : String(1 + int(5000))
      if (!used.has(id)) {
        used.add(id)
        return id
      }
    }
  }
  const createdAt = (): number => {
    const roll = random()
    if (roll < 0.25) return START + int(DAYS * DAY)
    // Three tweets in four at an edge, many on the same few instants.
    if (roll < 0.35) return edgeOf('midnight', 2, pick([345, -210, 840]), 0)
    const kind = pick(['midnight', 'midnight', 'hour', 'quarter'] as const)
    return edgeOf(kind, int(DAYS), pick(OFFSETS), int(96)) + pick(JITTERS)
  }
  // Every local midnight of every offset gets a tweet on it and a millisecond either side; the rest are drawn.
  const pinned = OFFSETS.flatMap((offset) =>
    Array.from({ length: DAYS }, (_, day) => edgeOf('midnight', day, offset, 0)).flatMap((m) => [m - 1, m, m + 1]),
  )
  const tweets = Array.from({ length: size }, (_, i): FixtureTweet => {
    const created = pinned[i] ?? createdAt()
    const hashtags = TRACKED.filter(() => random() < 0.3)
    if (hashtags.length === 0) hashtags.push(pick(TRACKED))
    const tags = [...hashtags, ...UNTRACKED.filter(() => random() < 0.15)]
    if (random() < 0.05) tags.push(pick(TRACKED))
    const measured = random() < 0.75
    return {
      id: idFor(created),
      hashtags,
      tags,
      author_id: pick(authors).id,
      lang: pick(LANGS),
      text: `tweet ${i} 😀 ${tags.map((tag) => `#${tag}`).join(' ')}`,
      created_at: new Date(created).toISOString(),
      kind: pick(KINDS),
      ...(measured
        ? {
            metrics: {
              likes: int(4),
              retweets: int(3),
              replies: int(3),
              quotes: int(2),
              impressions: random() < 0.3 ? null : int(10_000),
              updated_at: new Date(START + DAYS * DAY + int(DAY)).toISOString(),
            },
          }
        : {}),
    }
  })
  return { users, tweets }
}

/** A tracked hashtag without tweets. */
export const QUIET_TAG = 'logmonitoring'

/** Stores a data set through the fixtures and makes the kept counts from its rows, as a bulk load does. */
export async function loadDataSet(database: TestDatabase, data: DataSet): Promise<void> {
  await insertHashtags(database.admin, [...TRACKED, QUIET_TAG])
  await insertUsers(database.admin, data.users)
  await insertTweets(database.admin, data.tweets)
  await rebuildCounts(database.db)
  await bumpVersionAndWait(database.admin)
}

// ---- queries, written every way the contract allows ----

export interface Filter {
  hash?: string
  lang?: string
  kinds?: readonly Kind[]
  since?: number
  until?: number
  authorId?: string
}

/** How an instant is written: to the millisecond, with a sub-millisecond fraction, to the second or minute, as a date, in Z. */
export type InstantStyle = 'ms' | 'fraction' | 'zeros' | 'seconds' | 'minutes' | 'date' | 'z'
export const INSTANT_STYLES: readonly InstantStyle[] = ['ms', 'fraction', 'zeros', 'seconds', 'minutes', 'date', 'z']

export const formatOffset = (minutes: number): string => {
  const abs = Math.abs(minutes)
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** The local date and time of an instant in an offset, 'YYYY-MM-DDThh:mm:ss.sss'. */
const localOf = (ms: number, offsetMinutes: number) => new Date(ms + offsetMinutes * MINUTE).toISOString().slice(0, 23)

/** The last instant the DATETIME columns hold. */
export const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/**
 * Text that names the instant `ms` in the offset. A fraction finer than a millisecond names a time
 * between two milliseconds: as the tweets are stored to the millisecond, `since` and `until` written
 * with one keep the tweets from the next millisecond on, so 'fraction' writes a time just after the
 * millisecond before `ms`, and 'zeros' writes `ms` itself with more digits. `digits` is the length of
 * the fraction of those two, 4 to 9. Styles that cannot name `ms` exactly (seconds of an instant with
 * milliseconds, a date that is not a UTC midnight) fall back to milliseconds.
 */
export function writeInstant(ms: number, offsetMinutes: number, style: InstantStyle, digits = 6): string {
  // A local date past 9999 has no four-digit year: such an instant is written in UTC.
  if (ms + offsetMinutes * MINUTE > LAST_INSTANT) return writeInstant(ms, 0, style, digits)
  const offset = formatOffset(offsetMinutes)
  switch (style) {
    case 'fraction':
      return `${localOf(ms - 1, offsetMinutes)}${'0'.repeat(digits - 4)}${1 + (digits % 9)}${offset}`
    case 'zeros':
      return `${localOf(ms, offsetMinutes)}${'0'.repeat(digits - 3)}${offset}`
    case 'seconds':
      if (ms % 1000 === 0) return `${localOf(ms, offsetMinutes).slice(0, 19)}${offset}`
      break
    case 'minutes':
      if (ms % MINUTE === 0) return `${localOf(ms, offsetMinutes).slice(0, 16)}${offset}`
      break
    case 'date':
      if (ms % DAY === 0) return new Date(ms).toISOString().slice(0, 10)
      break
    case 'z':
      return new Date(ms).toISOString()
  }
  return `${localOf(ms, offsetMinutes)}${offset}`
}

/** How the parameters of a filter are written in a query. */
export interface Writing {
  offset: number
  style: InstantStyle
  /** Digits of a fraction finer than milliseconds, 4 to 9. */
  digits: number
  /** hash as given, '#DEVOPS', or hashtag= (the alias). */
  hashForm: 'plain' | 'hash-upper' | 'alias'
  /** Kinds in another order, one repeated. */
  kindsShuffle: number
}

export const plainWriting: Writing = { offset: 0, style: 'ms', digits: 6, hashForm: 'plain', kindsShuffle: 0 }

/** The query string of a filter and more parameters, every value percent-encoded. */
export function queryOf(f: Filter, w: Writing = plainWriting, extra: Record<string, string | number | undefined> = {}): string {
  const parts: [string, string][] = []
  if (f.hash !== undefined) {
    if (w.hashForm === 'alias') parts.push(['hashtag', f.hash])
    else parts.push(['hash', w.hashForm === 'hash-upper' ? `#${f.hash.toUpperCase()}` : f.hash])
  }
  if (f.lang !== undefined) parts.push(['lang', f.lang])
  if (f.authorId !== undefined) parts.push(['author_id', f.authorId])
  if (f.kinds !== undefined) {
    const kinds = [...f.kinds]
    for (let i = 0; i < w.kindsShuffle % (kinds.length + 1); i++) kinds.push(kinds.shift()!)
    if (w.kindsShuffle % 2 === 1 && kinds.length > 0) kinds.push(kinds[0]!)
    parts.push(['kind', kinds.join(',')])
  }
  if (f.since !== undefined) parts.push(['since', writeInstant(f.since, w.offset, w.style, w.digits)])
  if (f.until !== undefined) parts.push(['until', writeInstant(f.until, w.offset, w.style, w.digits)])
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) parts.push([key, String(value)])
  return parts.length === 0 ? '' : `?${parts.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&')}`
}

// ---- generated queries (fast-check) ----

const days = fc.integer({ min: -1, max: DAYS })
const offsets = fc.constantFrom(...OFFSETS)

/** Instants at the edges of buckets (and a few milliseconds off), and anywhere in and around the window. */
export const instantArb: fc.Arbitrary<number> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(days, offsets, fc.constantFrom(...JITTERS)).map(([d, o, j]) => edgeOf('midnight', d, o, 0) + j),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('hour', 'quarter' as const), days, offsets, fc.nat(95), fc.constantFrom(...JITTERS))
      .map(([kind, d, o, step, j]) => edgeOf(kind as 'hour' | 'quarter', d, o, step) + j),
  },
  { weight: 2, arbitrary: fc.integer({ min: START - DAY, max: START + (DAYS + 1) * DAY }) },
)

/** Instants at the ends of the time the columns hold, and far from the data. */
export const farInstantArb: fc.Arbitrary<number> = fc.constantFrom(0, 1, DAY, START - 400 * DAY, LAST_INSTANT - DAY, LAST_INSTANT)

export interface Range {
  since?: number
  until?: number
}

/**
 * Ranges of every shape: shorter than a quarter, exactly a quarter or an hour (on its edges or not),
 * a local day, many days, between two free instants; or open on either side, or not given.
 */
export const rangeArb: fc.Arbitrary<Range> = fc
  .tuple(
    instantArb,
    instantArb,
    fc.constantFrom('short', 'quarter', 'hour', 'day', 'days', 'free', 'free', 'since', 'until', 'none'),
    fc.integer({ min: 1, max: QUARTER - 1 }),
    fc.integer({ min: 1, max: DAYS }),
    fc.constantFrom(0, 0, 1, -1),
  )
  .map(([a, b, shape, short, many, jitter]): Range => {
    switch (shape) {
      case 'short':
        return { since: a, until: a + short }
      case 'quarter':
        return { since: a, until: a + QUARTER + jitter }
      case 'hour':
        return { since: a, until: a + HOUR + jitter }
      case 'day':
        return { since: a, until: a + DAY + jitter }
      case 'days':
        return { since: a, until: a + many * DAY + jitter }
      case 'since':
        return { since: a }
      case 'until':
        return { until: a }
      case 'none':
        return {}
      default:
        return a === b ? { since: a, until: a + 1 } : { since: Math.min(a, b), until: Math.max(a, b) }
    }
  })

export const kindsArb: fc.Arbitrary<Kind[] | undefined> = fc.option(fc.subarray([...KINDS], { minLength: 1 }), {
  nil: undefined,
})

export const writingArb: fc.Arbitrary<Writing> = fc.record({
  offset: fc.oneof(offsets, fc.integer({ min: -14 * 60, max: 14 * 60 })),
  style: fc.constantFrom(...INSTANT_STYLES),
  digits: fc.integer({ min: 4, max: 9 }),
  hashForm: fc.constantFrom('plain', 'hash-upper', 'alias'),
  kindsShuffle: fc.nat(9),
})

/** Ranges with an end far from the data: at the epoch, the last instant of 9999, a year away. */
export const farRangeArb: fc.Arbitrary<Range> = fc
  .tuple(farInstantArb, instantArb, fc.boolean())
  .map(([far, near, farSince]) =>
    far < near ? { since: far, ...(farSince ? {} : { until: near }) } : { until: far, since: near },
  )

/**
 * A filter of every kind the counts take: a hashtag or none, a language or none, kinds or all, a
 * range (with `far`, now and then one reaching the ends of time).
 */
export const filterArb = (options: { lang?: boolean; hash?: boolean; far?: boolean } = {}): fc.Arbitrary<Filter> =>
  fc
    .record({
      hash: options.hash === false ? fc.constant(undefined) : fc.option(fc.constantFrom(...TRACKED), { nil: undefined }),
      lang: options.lang === false ? fc.constant(undefined) : fc.option(fc.constantFrom(...LANGS), { nil: undefined }),
      kinds: kindsArb,
      range:
        options.far === true ? fc.oneof({ weight: 5, arbitrary: rangeArb }, { weight: 1, arbitrary: farRangeArb }) : rangeArb,
    })
    .map(({ range, ...rest }) => ({ ...rest, ...range }))

// ---- the oracle: plain SQL over the raw rows ----

/** A DATETIME(3) literal of an instant (UTC). */
export const datetimeOf = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23)
/** 'YYYY-MM-DD hh:mm:ss.sss' (UTC) → ISO 8601 UTC. */
export const isoOf = (datetime: string) => `${datetime.replace(' ', 'T')}Z`

async function rows<T>(admin: mysql.Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await admin.query(sql, params)
  return result as T[]
}

/** Conditions on the rows of tweets (aliased t) for a filter. */
function conditions(f: Filter): { sql: string[]; params: unknown[] } {
  const sql: string[] = []
  const params: unknown[] = []
  const add = (condition: string, ...values: unknown[]) => {
    sql.push(condition)
    params.push(...values)
  }
  if (f.hash !== undefined) add('t.hashtag = ?', f.hash)
  if (f.lang !== undefined) add('t.lang = ?', f.lang)
  if (f.authorId !== undefined) add('t.author_id = CAST(? AS UNSIGNED)', f.authorId)
  if (f.kinds !== undefined) add(`t.kind IN (${f.kinds.map(() => '?').join(', ')})`, ...f.kinds)
  if (f.since !== undefined) add('t.created_at >= ?', datetimeOf(f.since))
  if (f.until !== undefined) add('t.created_at < ?', datetimeOf(f.until))
  return { sql, params }
}

const where = (f: Filter) => {
  const c = conditions(f)
  return { sql: c.sql.length === 0 ? '' : `WHERE ${c.sql.join(' AND ')}`, params: c.params }
}

/** Tweets matching the filter, each once. */
export async function countIn(admin: mysql.Connection, f: Filter): Promise<number> {
  const w = where(f)
  const [row] = await rows<{ n: string }>(admin, `SELECT COUNT(DISTINCT t.id) AS n FROM tweets t ${w.sql}`, w.params)
  return Number(row!.n)
}

/** Milliseconds since the epoch of created_at, in SQL. */
const CREATED_MS = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', t.created_at) DIV 1000"

/** Tweets per bucket (its number since the epoch in the offset): each tweet once, under the hashtag when given. */
export async function bucketCounts(admin: mysql.Connection, f: Filter, size: number, offsetMinutes: number) {
  const w = where(f)
  const found = await rows<{ bucket: string; n: string }>(
    admin,
    `SELECT FLOOR((${CREATED_MS} + ?) / ?) AS bucket, COUNT(DISTINCT t.id) AS n FROM tweets t ${w.sql} GROUP BY bucket`,
    [offsetMinutes * MINUTE, size, ...w.params],
  )
  return new Map(found.map((row) => [Number(row.bucket), Number(row.n)]))
}

/** The timeline of [since, until) in buckets of `size` aligned to the offset, zero-filled. */
export async function expectedTimeline(
  admin: mysql.Connection,
  f: Filter & { since: number; until: number },
  size: number,
  offsetMinutes: number,
): Promise<{ start: string; count: number }[]> {
  const offset = offsetMinutes * MINUTE
  const first = Math.floor((f.since + offset) / size)
  const last = Math.floor((f.until - 1 + offset) / size)
  const counts = await bucketCounts(admin, f, size, offsetMinutes)
  return Array.from({ length: last - first + 1 }, (_, i) => ({
    start: new Date((first + i) * size - offset).toISOString(),
    count: counts.get(first + i) ?? 0,
  }))
}

/** How many buckets the timeline of a range has. */
export const bucketCount = (since: number, until: number, size: number, offsetMinutes: number) =>
  Math.floor((until - 1 + offsetMinutes * MINUTE) / size) - Math.floor((since + offsetMinutes * MINUTE) / size) + 1

/** Tweets per hour of the day in the offset, each once. */
export async function expectedByHour(admin: mysql.Connection, f: Filter, offsetMinutes: number) {
  const w = where(f)
  const found = await rows<{ h: number; n: string }>(
    admin,
    `SELECT HOUR(t.created_at + INTERVAL ? MINUTE) AS h, COUNT(DISTINCT t.id) AS n FROM tweets t ${w.sql} GROUP BY h`,
    [offsetMinutes, ...w.params],
  )
  const hours = new Array<number>(24).fill(0)
  for (const row of found) hours[Number(row.h)] = Number(row.n)
  return hours.map((count, hour) => ({ hour, count }))
}

/** Rows per (hashtag, language): by hashtag in code-point order, most first, then language. */
export async function expectedByLang(admin: mysql.Connection, f: Filter) {
  const w = where(f)
  const found = await rows<{ hashtag: string; lang: string; n: string }>(
    admin,
    `SELECT t.hashtag, t.lang, COUNT(*) AS n FROM tweets t ${w.sql} GROUP BY t.hashtag, t.lang ORDER BY t.hashtag, n DESC, t.lang`,
    w.params,
  )
  return found.map((row) => ({ hashtag: row.hashtag, lang: row.lang, count: Number(row.n) }))
}

/** Every tracked hashtag, in code-point order, with its rows within the filter. */
export async function expectedHashtagCounts(admin: mysql.Connection, f: Filter) {
  const c = conditions(f)
  const found = await rows<{ tag: string; n: string }>(
    admin,
    `SELECT h.tag, COUNT(t.id) AS n FROM hashtags h LEFT JOIN tweets t ON t.hashtag = h.tag${c.sql.map((s) => ` AND ${s}`).join('')}
      GROUP BY h.tag ORDER BY h.tag`,
    c.params,
  )
  return found.map((row) => ({ hashtag: row.tag, tweet_count: Number(row.n) }))
}

const RANKED: Record<Ranking, string> = {
  likes: 'm.likes',
  retweets: 'm.retweets',
  replies: 'm.replies',
  quotes: 'm.quotes',
  engagement: 'm.likes + m.retweets + m.replies + m.quotes',
}

/** Ids of the measured tweets matching the filter, highest `by` first, ties by id, newest first. */
export async function expectedTop(admin: mysql.Connection, f: Filter, by: Ranking, limit: number): Promise<string[]> {
  const w = where(f)
  const found = await rows<{ id: string }>(
    admin,
    `SELECT m.id FROM tweet_metrics m WHERE m.id IN (SELECT t.id FROM tweets t ${w.sql})
      ORDER BY ${RANKED[by]} DESC, m.id DESC LIMIT ?`,
    [...w.params, limit],
  )
  return found.map((row) => row.id)
}

/** The other hashtags of the rows under `tag` within the range, most first, ties by name (code points). */
export async function expectedRelated(admin: mysql.Connection, tag: string, range: Range, limit: number) {
  const w = conditions({ ...range, hash: tag })
  const found = await rows<{ tag: string; n: string }>(
    admin,
    `SELECT g.tag, COUNT(*) AS n FROM tweets t JOIN tweet_hashtags g ON g.id = t.id
      WHERE ${w.sql.join(' AND ')} AND g.tag <> ? GROUP BY g.tag ORDER BY n DESC, g.tag LIMIT ?`,
    [...w.params, tag, limit],
  )
  return found.map((row) => ({ hashtag: row.tag, count: Number(row.n) }))
}

/** Ids of the tweets matching the filter, each once, newest (largest id) first. */
export async function expectedIds(admin: mysql.Connection, f: Filter): Promise<string[]> {
  const w = where(f)
  return (await rows<{ id: string }>(admin, `SELECT DISTINCT t.id FROM tweets t ${w.sql} ORDER BY t.id DESC`, w.params)).map(
    (row) => row.id,
  )
}

/** A stored tweet as the API must show it, from its rows; null when none is stored. */
export async function expectedTweet(admin: mysql.Connection, id: string) {
  const found = await rows<Record<string, string | null>>(
    admin,
    `SELECT t.id, t.hashtag, t.text, t.lang, t.created_at, t.kind, t.author_id, u.username, u.followers_count,
            m.likes, m.retweets, m.replies, m.quotes, m.impressions, m.updated_at
       FROM tweets t JOIN users u ON u.id = t.author_id LEFT JOIN tweet_metrics m ON m.id = t.id
      WHERE t.id = CAST(? AS UNSIGNED) ORDER BY t.hashtag`,
    [id],
  )
  const row = found[0]
  if (row === undefined) return null
  return {
    id: row.id,
    text: row.text,
    lang: row.lang,
    created_at: isoOf(row.created_at!),
    author: { id: row.author_id, username: row.username, followers_count: Number(row.followers_count) },
    hashtags: found.map((r) => r.hashtag!),
    kind: row.kind,
    metrics:
      row.updated_at === null
        ? null
        : {
            likes: Number(row.likes),
            retweets: Number(row.retweets),
            replies: Number(row.replies),
            quotes: Number(row.quotes),
            impressions: row.impressions === null ? null : Number(row.impressions),
            updated_at: isoOf(row.updated_at!),
          },
  }
}

/** A stored user with the number of distinct tweets it authored; null when none is stored. */
export async function expectedUser(admin: mysql.Connection, id: string) {
  const [row] = await rows<Record<string, string>>(
    admin,
    `SELECT u.id, u.username, u.name, u.followers_count,
            (SELECT COUNT(DISTINCT t.id) FROM tweets t WHERE t.author_id = u.id) AS n
       FROM users u WHERE u.id = CAST(? AS UNSIGNED)`,
    [id],
  )
  return row === undefined
    ? null
    : {
        id: row.id,
        username: row.username,
        name: row.name,
        followers_count: Number(row.followers_count),
        tweet_count: Number(row.n),
      }
}

// ---- HTTP ----

export interface Answer {
  status: number
  type: string | null
  link: string | null
  body: any
}

export async function getJson(base: string, path: string): Promise<Answer> {
  const response = await fetch(base + path)
  const text = await response.text()
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    link: response.headers.get('link'),
    body: text === '' ? null : JSON.parse(text),
  }
}

/** The parameters a 400 names. */
export const namedParameters = (answer: Answer): string[] =>
  (answer.body?.errors ?? []).map((error: { parameter: string }) => error.parameter)

/** A fixed seed and run counts: each file stays well under a minute. */
export const SEED = 20_261_109
