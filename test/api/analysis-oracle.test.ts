import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { mulberry32 } from '../../scripts/random'
import { rebuildCounts } from '../../src/db/counts'
import { useTestApp } from '../support/app-world'
import { type FixtureTweet, type FixtureUser, insertHashtags, insertTweets, insertUsers } from '../support/fixtures'

/**
 * The analysis endpoints against answers computed here, from the same rows the test stores, by
 * plain filtering and counting: nothing of the service's counting (quarter hours, edges, rankings)
 * is used. The data crowds the instants where buckets meet — quarter hours, hours, local midnights
 * of the offsets asked for — at the boundary and a millisecond either side, and the queries
 * (fast-check, fixed seed) ask for ranges and offsets of every shape, half and quarter hours
 * included.
 */

const TRACKED = ['devops', 'sre', 'k8s']
const UNTRACKED = ['kubernetes', 'café', 'ai', 'cloud', 'sre_tips']
const LANGS = ['en', 'pt', 'ja', 'und']
const KINDS = ['original', 'reply', 'quote', 'retweet', 'unknown'] as const
const OFFSETS = [0, 330, 345, -210, 840, -720, 60, -180] // minutes: +05:30, +05:45, -03:30, +14:00, -12:00 …
const DAY = 86_400_000
const START = Date.UTC(2026, 10, 20)
const SPAN_DAYS = 6

// Seeded: the data set is the same at every run.
const random = mulberry32(20_261_201)
const int = (n: number) => Math.floor(random() * n)
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!

/** Instants where buckets meet: every local midnight and hour of the offsets, and quarter hours. */
function boundaryNear(): number {
  const offset = pick(OFFSETS) * 60_000
  const day = START + int(SPAN_DAYS) * DAY
  const boundary = pick([day - offset, day - offset + int(24) * 3_600_000, day + int(96) * 900_000])
  return boundary + pick([0, 1, -1, int(600_000), -int(600_000)])
}

const USERS: FixtureUser[] = Array.from({ length: 12 }, (_, i) => ({
  id: String(100 + i),
  username: `user${i}`,
  name: `User ${i}`,
  followers_count: i * 10,
}))

const usedIds = new Set<string>()
const TWEETS: FixtureTweet[] = Array.from({ length: 700 }, () => {
  let id: string
  do id = String(1_000_000_000_000_000_000n + BigInt(int(1_000_000_000)) * 1_000n + BigInt(int(1000)))
  while (usedIds.has(id))
  usedIds.add(id)
  const hashtags = TRACKED.filter(() => random() < 0.45)
  if (hashtags.length === 0) hashtags.push(pick(TRACKED))
  const created = random() < 0.7 ? boundaryNear() : START + int(SPAN_DAYS * DAY)
  const measured = random() < 0.8
  return {
    id,
    hashtags,
    author_id: pick(USERS).id,
    lang: pick(LANGS),
    text: `t ${id}`,
    created_at: new Date(created).toISOString(),
    kind: pick(KINDS),
    tags: UNTRACKED.filter(() => random() < 0.3),
    ...(measured
      ? {
          metrics: {
            likes: int(6),
            retweets: int(4),
            replies: int(3),
            quotes: int(2),
            impressions: random() < 0.2 ? null : int(1000),
            updated_at: '2026-11-28T00:00:00.000Z',
          },
        }
      : {}),
  }
})

const world = useTestApp({
  async arrange(database) {
    await insertHashtags(database.admin, TRACKED)
    await insertUsers(database.admin, USERS)
    await insertTweets(database.admin, TWEETS)
    await rebuildCounts(database.db)
  },
})

async function get(path: string) {
  const response = await fetch(world.app.url + path)
  return { status: response.status, body: (await response.json()) as any }
}

// ---- the oracle ----

interface Filter {
  hash?: string
  lang?: string
  kinds?: string[]
  since?: number
  until?: number
}
const ms = (t: FixtureTweet) => Date.parse(t.created_at)
const matching = (f: Filter) =>
  TWEETS.filter(
    (t) =>
      (f.hash === undefined || t.hashtags.includes(f.hash)) &&
      (f.lang === undefined || t.lang === f.lang) &&
      (f.kinds === undefined || f.kinds.includes(t.kind!)) &&
      (f.since === undefined || ms(t) >= f.since) &&
      (f.until === undefined || ms(t) < f.until),
  )
const byCodePoints = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
const newestFirst = (a: string, b: string) => (BigInt(a) > BigInt(b) ? -1 : BigInt(a) < BigInt(b) ? 1 : 0)

/** "2026-11-24T09:00:00.000+05:30" for an instant seen in an offset. */
function instantIn(at: number, offsetMinutes: number): string {
  const local = new Date(at + offsetMinutes * 60_000).toISOString().slice(0, 23)
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}
const tzParam = (offsetMinutes: number) => encodeURIComponent(instantIn(0, offsetMinutes).slice(23))

/** Query strings of a filter, with the instants written in an offset of their own. */
function query(f: Filter, writtenIn: number, extra: Record<string, string> = {}): string {
  const parts: string[] = []
  if (f.hash !== undefined) parts.push(`hash=${encodeURIComponent(`#${f.hash.toUpperCase()}`)}`)
  if (f.lang !== undefined) parts.push(`lang=${f.lang}`)
  if (f.kinds !== undefined) parts.push(`kind=${f.kinds.join(',')}`)
  if (f.since !== undefined) parts.push(`since=${encodeURIComponent(instantIn(f.since, writtenIn))}`)
  if (f.until !== undefined) parts.push(`until=${encodeURIComponent(instantIn(f.until, writtenIn))}`)
  for (const [k, v] of Object.entries(extra)) parts.push(`${k}=${v}`)
  return parts.length === 0 ? '' : `?${parts.join('&')}`
}

const instant = fc.oneof(
  fc.integer({ min: START - DAY, max: START + (SPAN_DAYS + 1) * DAY }),
  fc.constant(null).map(() => boundaryNear()),
  fc.integer({ min: 0, max: SPAN_DAYS }).map((d) => START + d * DAY),
)
const filters = fc
  .record({
    hash: fc.option(fc.constantFrom(...TRACKED), { nil: undefined }),
    lang: fc.option(fc.constantFrom(...LANGS), { nil: undefined }),
    kinds: fc.option(fc.subarray([...KINDS], { minLength: 1 }), { nil: undefined }),
    a: instant,
    b: instant,
    shape: fc.constantFrom('both', 'since', 'until', 'none'),
  })
  .filter(({ a, b, shape }) => shape !== 'both' || a !== b)
  .map(({ a, b, shape, ...rest }): Filter => {
    const [since, until] = a < b ? [a, b] : [b, a]
    return {
      ...rest,
      ...(shape === 'both' || shape === 'since' ? { since } : {}),
      ...(shape === 'both' || shape === 'until' ? { until } : {}),
    }
  })
const offsets = fc.constantFrom(...OFFSETS)
const RUNS = { numRuns: 60, seed: 20_261_201 }

describe('counts within ranges, against counts of the rows', () => {
  test('timeline: every bucket of the range, aligned to the offset, zero-filled, each tweet once without hash', async () => {
    await fc.assert(
      fc.asyncProperty(
        filters,
        offsets,
        offsets,
        fc.constantFrom('hour', 'day', 'minute'),
        async (f, tz, writtenIn, interval) => {
          const size = { minute: 60_000, hour: 3_600_000, day: DAY }[interval]!
          const floor = (at: number) => Math.floor((at + tz * 60_000) / size) * size - tz * 60_000
          // The default span: a day of minutes, a week of hours or days.
          const span = interval === 'minute' ? DAY : 7 * DAY
          const until = f.until ?? (f.since !== undefined && f.since > Date.now() ? f.since + span : floor(Date.now()) + size)
          const since = f.since ?? until - span
          const first = floor(since)
          const count = (floor(until - 1) - first) / size + 1
          const { status, body } = await get(
            `/api/v1/resources/tweets/timeline${query(f, writtenIn, { interval, tz: tzParam(tz) })}`,
          )
          if (count > 10_000) {
            expect(status).toBe(400)
            expect(body.errors[0].parameter).toBe('interval')
            expect(body.detail).toContain('10000')
            return
          }
          const expected = new Array<number>(count).fill(0)
          for (const t of matching({ ...f, since, until })) expected[(floor(ms(t)) - first) / size]!++
          expect(status).toBe(200)
          expect(body.interval).toBe(interval)
          expect(body.data).toEqual(expected.map((n, i) => ({ start: new Date(first + i * size).toISOString(), count: n })))
        },
      ),
      { ...RUNS, numRuns: 200 },
    )
  }, 120_000)

  test('by_hour: hours of the day in the offset, within the range and kinds', async () => {
    await fc.assert(
      fc.asyncProperty(filters, offsets, offsets, async (f, tz, writtenIn) => {
        const hours = new Array<number>(24).fill(0)
        for (const t of matching(f)) hours[new Date(ms(t) + tz * 60_000).getUTCHours()]!++
        const { status, body } = await get(`/api/v1/resources/tweets/by_hour${query(f, writtenIn, { tz: tzParam(tz) })}`)
        expect(status).toBe(200)
        expect(body.data).toEqual(hours.map((count, hour) => ({ hour, count })))
      }),
      RUNS,
    )
  }, 120_000)

  test('by_lang and hashtags/all: rows per hashtag (and language) within the range and kinds', async () => {
    await fc.assert(
      fc.asyncProperty(filters, offsets, async (f, writtenIn) => {
        const { lang: _, ...noLang } = f
        const rows = new Map<string, number>()
        for (const t of matching({ ...noLang, hash: undefined }))
          for (const hashtag of t.hashtags)
            if (f.hash === undefined || hashtag === f.hash)
              rows.set(`${hashtag}|${t.lang}`, (rows.get(`${hashtag}|${t.lang}`) ?? 0) + 1)
        const expected = [...rows]
          .map(([key, count]) => ({ hashtag: key.split('|')[0]!, lang: key.split('|')[1]!, count }))
          .sort((a, b) => byCodePoints(a.hashtag, b.hashtag) || b.count - a.count || byCodePoints(a.lang, b.lang))
        const langs = await get(`/api/v1/resources/tweets/by_lang${query(noLang, writtenIn)}`)
        expect(langs.status).toBe(200)
        expect(langs.body.data).toEqual(expected)

        const { hash: __, ...all } = noLang
        const hashtags = await get(`/api/v1/resources/hashtags/all${query(all, writtenIn)}`)
        expect(hashtags.status).toBe(200)
        expect(hashtags.body.data.map((h: any) => [h.hashtag, h.tweet_count])).toEqual(
          [...TRACKED].sort().map((tag) => [tag, matching({ ...all, hash: tag }).length]),
        )
      }),
      RUNS,
    )
  }, 120_000)
})

describe('rankings and related hashtags, against sorted rows', () => {
  test('top: highest first by the metric or engagement, ties newest first, unmeasured tweets left out', async () => {
    await fc.assert(
      fc.asyncProperty(
        filters,
        offsets,
        fc.constantFrom('likes', 'retweets', 'replies', 'quotes', 'engagement', undefined),
        fc.integer({ min: 1, max: 100 }),
        async (f, writtenIn, by, limit) => {
          const value = (t: FixtureTweet) => {
            const m = t.metrics!
            return by === undefined || by === 'engagement' ? m.likes + m.retweets + m.replies + m.quotes : m[by]
          }
          const expected = matching(f)
            .filter((t) => t.metrics !== undefined)
            .sort((a, b) => value(b) - value(a) || newestFirst(a.id, b.id))
            .slice(0, limit)
            .map((t) => t.id)
          const extra: Record<string, string> = { limit: String(limit), ...(by === undefined ? {} : { by }) }
          const { status, body } = await get(`/api/v1/resources/tweets/top${query(f, writtenIn, extra)}`)
          expect(status).toBe(200)
          expect(body.data.map((t: any) => t.id)).toEqual(expected)
        },
      ),
      RUNS,
    )
  }, 120_000)

  test('related: the other hashtags of the tweets under the tag, most frequent first, ties by name', async () => {
    await fc.assert(
      fc.asyncProperty(filters, offsets, fc.integer({ min: 1, max: 100 }), async (f, writtenIn, limit) => {
        const tag = f.hash ?? 'devops'
        const counts = new Map<string, number>()
        for (const t of matching({ since: f.since, until: f.until, hash: tag }))
          for (const other of new Set([...t.hashtags, ...(t.tags ?? [])]))
            if (other !== tag) counts.set(other, (counts.get(other) ?? 0) + 1)
        const expected = [...counts]
          .sort(([a, x], [b, y]) => y - x || byCodePoints(a, b))
          .slice(0, limit)
          .map(([hashtag, count]) => ({ hashtag, count }))
        const range = query({ since: f.since, until: f.until }, writtenIn, { limit: String(limit) })
        const { status, body } = await get(`/api/v1/resources/hashtags/${encodeURIComponent(tag)}/related${range}`)
        expect(status).toBe(200)
        expect(body.data).toEqual(expected)
      }),
      RUNS,
    )
  }, 120_000)
})

describe('lists within ranges', () => {
  test('tweets/all and tweets walked page by page hold every matching tweet once, newest first', async () => {
    await fc.assert(
      fc.asyncProperty(filters, offsets, fc.integer({ min: 7, max: 300 }), async (f, writtenIn, limit) => {
        const { hash: _, ...noHash } = f
        for (const [path, filter] of [
          ['/api/v1/resources/tweets/all', { ...noHash, lang: undefined }],
          ['/api/v1/resources/tweets', f],
        ] as const) {
          const seen: string[] = []
          let next: string | null = `${path}${query(filter, writtenIn, { limit: String(limit) })}`
          while (next !== null) {
            const { status, body } = await get(next)
            expect(status).toBe(200)
            seen.push(...body.data.map((t: any) => t.id))
            next = body.next_cursor === null ? null : `${next.replace(/&cursor=[^&]*$/, '')}&cursor=${body.next_cursor}`
          }
          expect(seen).toEqual(
            matching(filter)
              .map((t) => t.id)
              .sort(newestFirst),
          )
        }
      }),
      { ...RUNS, numRuns: 25 },
    )
  }, 120_000)
})
