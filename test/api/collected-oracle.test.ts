import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { mulberry32 } from '../../scripts/random'
import { type RunningApp, startApp } from '../support/app'
import { collectorConfigFor, collectorHarness } from '../support/collector'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { type FakeTweet, FakeXApi } from '../support/fake-x-api'
import type { FixtureTweet } from '../support/fixtures'
import {
  DAY,
  expectedByHour,
  expectedByLang,
  expectedHashtagCounts,
  expectedIds,
  expectedRelated,
  expectedTimeline,
  expectedTop,
  expectedUser,
  type Filter,
  filterArb,
  formatOffset,
  generateDataSet,
  getJson,
  HOUR,
  MINUTE,
  OFFSETS,
  queryOf,
  RANKINGS,
  SEED,
  TRACKED,
  writingArb,
} from '../support/oracle'

/**
 * The analysis endpoints against the oracle (plain SQL over the stored rows, test/support/oracle.ts)
 * when the kept counts are made by the real collector instead of a rebuild: the generated tweets are
 * served by the fake X API and collected in two runs, the second tracking one more hashtag, whose
 * search finds again tweets the first run stored under other hashtags (they must not count twice
 * over all hashtags). Every endpoint is asked generated queries and compared with the rows.
 */

const DATA = generateDataSet(SEED + 5, 1500)
const FIRST_RUN = ['devops', 'sre', 'observability']

/** How a tweet of the data set reaches the API: hashtags in any case, its kind as references, its metrics. */
function fakeTweetOf(tweet: FixtureTweet, id: string, random: () => number): FakeTweet {
  const references: Record<string, FakeTweet['referenced']> = {
    original: undefined,
    reply: [{ type: 'replied_to', id: '11' }],
    quote: [{ type: 'quoted', id: '12' }],
    retweet: [{ type: 'retweeted', id: '13' }],
    // Collected tweets always have a kind: a reply that quotes is a quote.
    unknown: [
      { type: 'replied_to', id: '14' },
      { type: 'quoted', id: '15' },
    ],
  }
  const tags = [...new Set([...tweet.hashtags, ...(tweet.tags ?? [])])].map((tag) => (random() < 0.5 ? tag.toUpperCase() : tag))
  const m = tweet.metrics
  return {
    id,
    text: tweet.text,
    author_id: tweet.author_id,
    lang: random() < 0.2 ? tweet.lang.toUpperCase() : tweet.lang,
    created_at: tweet.created_at,
    tags,
    ...(m === undefined
      ? {}
      : {
          metrics: {
            like_count: m.likes,
            retweet_count: m.retweets,
            reply_count: m.replies,
            quote_count: m.quotes,
            ...(m.impressions === null ? {} : { impression_count: m.impressions }),
          },
        }),
    ...(references[tweet.kind ?? 'unknown'] === undefined ? {} : { referenced: references[tweet.kind ?? 'unknown'] }),
  }
}

let database: TestDatabase
let fake: FakeXApi
let app: RunningApp

beforeAll(async () => {
  database = await createTestDatabase()
  fake = await new FakeXApi().start()
  for (const user of DATA.users) fake.users.set(user.id, user)
  const random = mulberry32(SEED)
  const used = new Set<string>()
  // Ids of 19 digits at most (since_id), the second half's above the first's: they are newer to the API.
  const idIn = (from: bigint) => {
    for (;;) {
      const id = String(from + BigInt(Math.floor(random() * 2 ** 40)) * 1_000_000n + BigInt(Math.floor(random() * 1_000_000)))
      if (!used.has(id)) {
        used.add(id)
        return id
      }
    }
  }
  const half = DATA.tweets.length / 2
  const config = (hashtags: string[]) => ({
    ...collectorConfigFor(fake),
    hashtags,
    maxPages: 100,
    metricsRefresh: { maxAgeMs: 0, requests: 0 },
  })
  fake.tweets.push(...DATA.tweets.slice(0, half).map((t) => fakeTweetOf(t, idIn(1_000_000_000_000_000_000n), random)))
  const first = await collectorHarness(database.writer, config(FIRST_RUN)).collector.run()
  expect(first.outcome).toBe('success')
  fake.tweets.push(...DATA.tweets.slice(half).map((t) => fakeTweetOf(t, idIn(5_000_000_000_000_000_000n), random)))
  const second = await collectorHarness(database.writer, config(TRACKED)).collector.run()
  expect(second.outcome).toBe('success')
  expect(fake.violations).toEqual([])
  app = startApp(database.db)
}, 60_000)

afterAll(async () => {
  await app?.stop()
  fake?.stop()
  await database?.drop()
})

const get = (path: string) => getJson(app.url, path)

describe('counts kept by the collector, against the stored rows', () => {
  test('the collected rows are the data set: every tweet stored, under each tracked hashtag it carries', async () => {
    const [rows] = (await database.admin.query('SELECT COUNT(DISTINCT id) AS tweets, COUNT(*) AS stored FROM tweets')) as any
    expect(Number(rows[0].tweets)).toBe(DATA.tweets.length)
    const carried = DATA.tweets.reduce(
      (sum, t) => sum + TRACKED.filter((tag) => new Set([...t.hashtags, ...(t.tags ?? [])]).has(tag)).length,
      0,
    )
    expect(Number(rows[0].stored)).toBe(carried)
    // The second run's new hashtag found tweets stored before under others.
    const [again] = (await database.admin.query(
      "SELECT COUNT(*) AS n FROM tweets t WHERE t.hashtag = 'ñandú' AND t.id < 5000000000000000000 AND EXISTS (SELECT 1 FROM tweets o WHERE o.id = t.id AND o.hashtag <> 'ñandú')",
    )) as any
    expect(Number(again[0].n)).toBeGreaterThan(0)
  })

  test('when any endpoint is asked generated queries, then its answer is the one counted from the rows', async () => {
    const admin = database.admin
    const endpoints = ['timeline', 'by_hour', 'by_lang', 'hashtags', 'top', 'related', 'list'] as const
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        filterArb({ far: true }),
        fc.constantFrom(...OFFSETS),
        fc.constantFrom('minute', 'hour', 'day'),
        fc.constantFrom(...RANKINGS),
        fc.integer({ min: 1, max: 100 }),
        writingArb,
        async (endpoint, f, tz, interval, by, limit, w) => {
          const check = async (path: string, expected: () => Promise<unknown>, pick: (body: any) => unknown) => {
            const answer = await get(path)
            expect({ path, status: answer.status }).toEqual({ path, status: 200 })
            expect({ path, answer: pick(answer.body) }).toEqual({ path, answer: await expected() })
          }
          const { lang: _, ...noLang } = f
          const { hash: __, ...noHash } = noLang
          switch (endpoint) {
            case 'timeline': {
              const size = { minute: MINUTE, hour: HOUR, day: DAY }[interval]!
              const until = f.until ?? (f.since ?? Date.UTC(2026, 10, 14)) + DAY
              const since = f.since ?? until - 2 * DAY
              if ((until - since) / size > 9000) return
              const range: Filter = { ...f, since, until }
              return check(
                `/api/v1/resources/tweets/timeline${queryOf(range, w, { interval, tz: formatOffset(tz) })}`,
                () => expectedTimeline(admin, { ...range, since, until }, size, tz),
                (body) => body.data,
              )
            }
            case 'by_hour':
              return check(
                `/api/v1/resources/tweets/by_hour${queryOf(f, w, { tz: formatOffset(tz) })}`,
                () => expectedByHour(admin, f, tz),
                (body) => body.data,
              )
            case 'by_lang':
              return check(
                `/api/v1/resources/tweets/by_lang${queryOf(noLang, w)}`,
                () => expectedByLang(admin, noLang),
                (body) => body.data,
              )
            case 'hashtags':
              return check(
                `/api/v1/resources/hashtags/all${queryOf(noHash, w)}`,
                () => expectedHashtagCounts(admin, noHash),
                (body) => body.data.map((h: any) => ({ hashtag: h.hashtag, tweet_count: h.tweet_count })),
              )
            case 'top':
              return check(
                `/api/v1/resources/tweets/top${queryOf(f, w, { by, limit })}`,
                () => expectedTop(admin, f, by, limit),
                (body) => body.data.map((t: { id: string }) => t.id),
              )
            case 'related': {
              const tag = f.hash ?? 'devops'
              const range = { since: f.since, until: f.until }
              return check(
                `/api/v1/resources/hashtags/${encodeURIComponent(tag)}/related${queryOf(range, w, { limit })}`,
                () => expectedRelated(admin, tag, range, limit),
                (body) => body.data,
              )
            }
            case 'list':
              // One page of up to a thousand: the newest matching tweets.
              return check(
                `/api/v1/resources/tweets${queryOf(f, w, { limit: 1000 })}`,
                async () => (await expectedIds(admin, f)).slice(0, 1000),
                (body) => body.data.map((t: { id: string }) => t.id),
              )
          }
        },
      ),
      { seed: SEED, numRuns: 700 },
    )
  }, 60_000)

  test('when a user is asked for, then tweet_count is the distinct tweets it authored, whatever hashtags found them', async () => {
    for (const user of DATA.users.slice(0, -1)) {
      const answer = await get(`/api/v1/resources/users/${user.id}`)
      expect(answer.body).toEqual(await expectedUser(database.admin, user.id))
      expect(answer.body.tweet_count).toBe(DATA.tweets.filter((t) => t.author_id === user.id).length)
    }
  })
})
