import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { useTestApp } from '../support/app-world'
import {
  DAY,
  expectedTop,
  expectedTweet,
  filterArb,
  generateDataSet,
  getJson,
  loadDataSet,
  namedParameters,
  queryOf,
  RANKINGS,
  type Ranking,
  SEED,
  START,
  writingArb,
} from '../support/oracle'

/**
 * GET /tweets/top against the oracle: the measured tweets matching the filter, sorted in SQL by the
 * metric (or likes + retweets + replies + quotes, not the stored engagement column), ties by id,
 * newest first (test/support/oracle.ts). The data set's metrics are small numbers, so most ranks are
 * ties, and its ids reach past 2^63, where comparing them as strings or doubles goes wrong.
 */

const DATA = generateDataSet(SEED + 2, 2500)
const world = useTestApp({ arrange: (database) => loadDataSet(database, DATA) })
const admin = () => world.database.admin
const get = (path: string) => getJson(world.app.url, path)

const value = (tweet: any, by: Ranking): number =>
  by === 'engagement'
    ? tweet.metrics.likes + tweet.metrics.retweets + tweet.metrics.replies + tweet.metrics.quotes
    : tweet.metrics[by]

describe('GET /api/v1/resources/tweets/top against the stored rows', () => {
  test('when generated filters, rankings and limits are asked for, then the measured tweets come highest first, ties newest first', async () => {
    await fc.assert(
      fc.asyncProperty(
        filterArb({ far: true }),
        fc.option(fc.constantFrom(...RANKINGS), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        writingArb,
        async (f, by, limit, writing) => {
          const path = `/api/v1/resources/tweets/top${queryOf(f, writing, { by, limit })}`
          const answer = await get(path)
          expect({ path, status: answer.status }).toEqual({ path, status: 200 })
          const ids = answer.body.data.map((t: { id: string }) => t.id)
          expect({ path, ids }).toEqual({ path, ids: await expectedTop(admin(), f, by ?? 'engagement', limit ?? 10) })
          for (const tweet of answer.body.data) expect(tweet.metrics).not.toBeNull()
        },
      ),
      { seed: SEED, numRuns: 400 },
    )
  }, 60_000)

  test('when tweets tie, then they come by id, newest first, also past 2^63', async () => {
    for (const by of RANKINGS) {
      const { body } = await get(`/api/v1/resources/tweets/top?by=${by}&limit=100`)
      expect(body.data).toHaveLength(100)
      let ties = 0
      for (let i = 1; i < body.data.length; i++) {
        const [a, b] = [body.data[i - 1], body.data[i]]
        expect(value(a, by)).toBeGreaterThanOrEqual(value(b, by))
        if (value(a, by) === value(b, by)) {
          ties++
          expect(BigInt(a.id)).toBeGreaterThan(BigInt(b.id))
        }
      }
      expect(ties).toBeGreaterThan(50)
      expect(body.data.some((t: { id: string }) => BigInt(t.id) >= 2n ** 63n)).toBe(true)
    }
  })

  test('when by is not given, then the ranking is by engagement; when limit is not given, ten tweets', async () => {
    const range = queryOf({ since: START + DAY, until: START + 4 * DAY })
    const plain = await get(`/api/v1/resources/tweets/top${range}`)
    const engagement = await get(`/api/v1/resources/tweets/top${range}&by=engagement&limit=10`)
    expect(plain.status).toBe(200)
    expect(plain.body).toEqual(engagement.body)
    expect(plain.body.data).toHaveLength(10)
    const likes = await get(`/api/v1/resources/tweets/top${range}&by=likes`)
    expect(likes.body.data.map((t: { id: string }) => t.id)).not.toEqual(plain.body.data.map((t: { id: string }) => t.id))
  })

  test('when ranked tweets come back, then each is the whole stored tweet with its metrics', async () => {
    const { body } = await get('/api/v1/resources/tweets/top?by=quotes&limit=100')
    for (const tweet of body.data) {
      const expected = await expectedTweet(admin(), tweet.id)
      expect({ ...tweet, hashtags: [...tweet.hashtags].sort() }).toEqual({
        ...expected,
        hashtags: [...expected!.hashtags].sort(),
      })
    }
  })

  test('when a range holds only unmeasured tweets, then nothing is ranked', async () => {
    const unmeasured = DATA.tweets.filter((t) => t.metrics === undefined).map((t) => Date.parse(t.created_at))
    const lonely = unmeasured.find((at) => !DATA.tweets.some((t) => t.metrics !== undefined && Date.parse(t.created_at) === at))!
    const { status, body } = await get(`/api/v1/resources/tweets/top${queryOf({ since: lonely, until: lonely + 1 })}`)
    expect(status).toBe(200)
    expect(body.data).toEqual([])
  })

  test('when by or limit is outside the contract, then it is a 400 naming it', async () => {
    for (const [query, parameter] of [
      ['by=impressions', 'by'],
      ['by=Likes', 'by'],
      ['by=', 'by'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=0x10', 'limit'],
      ['limit=1e1', 'limit'],
    ] as const) {
      const answer = await get(`/api/v1/resources/tweets/top?${query}`)
      expect({ query, status: answer.status, parameters: namedParameters(answer) }).toEqual({
        query,
        status: 400,
        parameters: [parameter],
      })
    }
    for (const limit of [1, 100]) expect((await get(`/api/v1/resources/tweets/top?limit=${limit}`)).body.data).toHaveLength(limit)
  })
})
