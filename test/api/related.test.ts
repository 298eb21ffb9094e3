import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { useTestApp } from '../support/app-world'
import type { FixtureTweet } from '../support/fixtures'
import {
  DAY,
  expectedRelated,
  farRangeArb,
  generateDataSet,
  getJson,
  HOUR,
  loadDataSet,
  namedParameters,
  QUIET_TAG,
  queryOf,
  rangeArb,
  SEED,
  TRACKED,
  UNTRACKED,
  writingArb,
} from '../support/oracle'

/**
 * GET /hashtags/{tag}/related against the oracle: per other hashtag, the rows stored under the tag
 * whose tweet carries it, counted in SQL over tweets and tweet_hashtags (test/support/oracle.ts),
 * most first, ties by name in code-point order. The ranges crowd the edges of hours, the buckets the
 * related counts are kept in; the hashtags include some that UTF-16 order sorts otherwise.
 */

const DATA = generateDataSet(SEED + 3, 2500)

/** A quiet day before the window, with counts known by hand. */
const QUIET = Date.UTC(2026, 9, 1, 10)
let next = 0
const crafted = (hashtags: string[], tags: string[], minutes = 0): FixtureTweet => ({
  id: String(16_000_000_000_000_000_000n + BigInt(next++)),
  hashtags,
  tags: [...hashtags, ...tags],
  author_id: DATA.users[0]!.id,
  lang: 'en',
  text: `crafted ${next}`,
  created_at: new Date(QUIET + minutes * 60_000).toISOString(),
  kind: 'original',
})
const CRAFTED: FixtureTweet[] = [
  // Three each of 'ﬁx' (U+FB01) and '𝓬loud' (U+1D4EC): by code points ﬁ first, by UTF-16 units 𝓬 first.
  crafted(['sre'], ['𝓬loud', 'ﬁx'], 0),
  crafted(['sre'], ['𝓬loud', 'ﬁx'], 59),
  crafted(['sre'], ['ﬁx', '𝓬loud', 'zz'], 60),
  // 'zz' before 'zürich' by code points ('z' < 'ü').
  crafted(['sre'], ['zürich', 'zz'], 61),
  crafted(['sre'], ['zürich'], 120),
  crafted(['sre'], ['a'], 121),
  // Under sre and devops: counts once for each, and each is related to the other.
  crafted(['sre', 'devops'], ['café'], 30),
  // Carries #sre but is stored under devops only: related of devops, not a row of sre.
  crafted(['devops'], ['sre', 'café'], 31),
]

const world = useTestApp({ arrange: (database) => loadDataSet(database, { ...DATA, tweets: [...DATA.tweets, ...CRAFTED] }) })
const admin = () => world.database.admin
const get = (path: string) => getJson(world.app.url, path)
const related = (tag: string, query = '') => get(`/api/v1/resources/hashtags/${encodeURIComponent(tag)}/related${query}`)

describe('GET /api/v1/resources/hashtags/{tag}/related against the stored rows', () => {
  test('when generated tags, ranges and limits are asked for, then the other hashtags come most frequent first, ties by code points', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TRACKED),
        fc.oneof({ weight: 5, arbitrary: rangeArb }, { weight: 1, arbitrary: farRangeArb }),
        fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        writingArb,
        fc.constantFrom('plain', 'upper', 'hash'),
        async (tag, range, limit, writing, form) => {
          const written = form === 'plain' ? tag : form === 'upper' ? tag.toUpperCase() : `#${tag}`
          const path = `/api/v1/resources/hashtags/${encodeURIComponent(written)}/related${queryOf(range, writing, { limit })}`
          const answer = await get(path)
          expect({ path, status: answer.status }).toEqual({ path, status: 200 })
          expect({ path, data: answer.body.data }).toEqual({
            path,
            data: await expectedRelated(admin(), tag, range, limit ?? 10),
          })
        },
      ),
      { seed: SEED, numRuns: 500 },
    )
  }, 60_000)

  test('when counts tie, then hashtags come in code-point order, not UTF-16 order', async () => {
    const { status, body } = await related('sre', queryOf({ since: QUIET, until: QUIET + 3 * HOUR }))
    expect(status).toBe(200)
    expect(body.data).toEqual([
      { hashtag: 'ﬁx', count: 3 },
      { hashtag: '𝓬loud', count: 3 },
      { hashtag: 'zz', count: 2 },
      { hashtag: 'zürich', count: 2 },
      { hashtag: 'a', count: 1 },
      { hashtag: 'café', count: 1 },
      { hashtag: 'devops', count: 1 },
    ])
  })

  test('when a range cuts an hour, then only the rows inside it count', async () => {
    // [10:00, 11:00) holds the sre rows of 10:00, 10:30 and 10:59; the one of 11:00:00.000 starts the next hour.
    const { body } = await related('sre', queryOf({ since: QUIET, until: QUIET + HOUR }))
    expect(body.data).toEqual([
      { hashtag: 'ﬁx', count: 2 },
      { hashtag: '𝓬loud', count: 2 },
      { hashtag: 'café', count: 1 },
      { hashtag: 'devops', count: 1 },
    ])
    const late = await related('sre', queryOf({ since: QUIET + HOUR + 1, until: QUIET + 2 * HOUR + 61_000 }))
    expect(late.body.data).toEqual([
      { hashtag: 'zürich', count: 2 },
      { hashtag: 'a', count: 1 },
      { hashtag: 'zz', count: 1 },
    ])
  })

  test('when a tweet is under two tracked hashtags, then each lists the other, and the tag itself never', async () => {
    const devops = await related('devops', queryOf({ since: QUIET, until: QUIET + DAY }))
    expect(devops.body.data).toEqual([
      { hashtag: 'café', count: 2 },
      { hashtag: 'sre', count: 2 },
    ])
    for (const tag of TRACKED) {
      const { body } = await related(tag, '?limit=100')
      expect(body.data.map((r: { hashtag: string }) => r.hashtag)).not.toContain(tag)
      expect(body.data).toEqual(await expectedRelated(admin(), tag, {}, 100))
      // Untracked hashtags, non-ASCII ones among them, are related too.
      expect(body.data.some((r: { hashtag: string }) => UNTRACKED.includes(r.hashtag) && /[^ -~]/.test(r.hashtag))).toBe(true)
    }
  })

  test('when the limit is not given, then ten hashtags; outside 1 to 100, a 400 naming limit', async () => {
    expect((await related('devops')).body.data).toHaveLength(10)
    for (const limit of ['0', '101', '-3', '2.5', 'x']) {
      const answer = await related('devops', `?limit=${limit}`)
      expect({ limit, status: answer.status, parameters: namedParameters(answer) }).toEqual({
        limit,
        status: 400,
        parameters: ['limit'],
      })
    }
  })

  test('when the tag is tracked but has no tweets, then nothing is related', async () => {
    const { status, body } = await related(QUIET_TAG.toUpperCase())
    expect({ status, body }).toEqual({ status: 200, body: { data: [] } })
  })

  test('when the tag is not tracked, then a 404 problem; when it is not a hashtag, a 400 naming tag', async () => {
    for (const tag of ['kubernetes', 'café', 'nothing_here', '可観測性']) {
      const answer = await related(tag)
      expect({ tag, status: answer.status, type: answer.type }).toEqual({ tag, status: 404, type: 'application/problem+json' })
      expect(answer.body).toMatchObject({ type: '/problems/not-found', status: 404, title: 'Not Found' })
      expect(answer.body.detail).toContain(tag)
    }
    for (const tag of ['not a tag', 'a-b', 'x'.repeat(101), '#']) {
      const answer = await related(tag)
      expect({ tag, status: answer.status, type: answer.type, parameters: namedParameters(answer) }).toEqual({
        tag,
        status: 400,
        type: 'application/problem+json',
        parameters: ['tag'],
      })
    }
  })
})
