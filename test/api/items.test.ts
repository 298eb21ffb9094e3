import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../support/app-world'
import { expectedTweet, expectedUser, generateDataSet, getJson, loadDataSet, SEED } from '../support/oracle'

/**
 * GET /tweets/{id} and /users/{id} against the oracle: every stored tweet as its rows in tweets,
 * users and tweet_metrics say, every user with the distinct tweets it authored counted in SQL
 * (test/support/oracle.ts); unknown ids are 404 problems, malformed ones 400s naming id.
 */

const DATA = generateDataSet(SEED + 4, 2500)
const world = useTestApp({ arrange: (database) => loadDataSet(database, DATA) })
const admin = () => world.database.admin
const get = (path: string) => getJson(world.app.url, path)

const byCodePoints = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
const normalized = (tweet: { hashtags: string[] } | null) =>
  tweet === null ? null : { ...tweet, hashtags: [...tweet.hashtags].sort(byCodePoints) }

/** Ids no stored tweet or user has, at the ends of the range and beside stored ones. */
function unknownIds(stored: Set<string>): string[] {
  const candidates = ['0', '18446744073709551615', '18446744073709551614', '9223372036854775807', '9223372036854775808']
  for (const id of [...stored].slice(0, 50)) candidates.push(String(BigInt(id) + 1n), String(BigInt(id) - 1n))
  return candidates.filter((id) => !stored.has(id) && BigInt(id) >= 0n && BigInt(id) < 2n ** 64n)
}

const MALFORMED = [
  '18446744073709551616',
  '99999999999999999999',
  '184467440737095516150',
  '-1',
  '1e3',
  '0x10',
  '12ab',
  '1.0',
  '%201',
  '%D9%A1%D9%A2',
]

describe('GET /api/v1/resources/tweets/{id}', () => {
  test('when any stored tweet is asked for, then it is its rows: every tracked hashtag, kind, metrics or null, author', async () => {
    const ids = [...new Set(DATA.tweets.map((t) => t.id))]
    let measured = 0
    for (let i = 0; i < ids.length; i += 50) {
      const answers = await Promise.all(ids.slice(i, i + 50).map((id) => get(`/api/v1/resources/tweets/${id}`)))
      for (const [j, answer] of answers.entries()) {
        const id = ids[i + j]!
        expect({ id, status: answer.status }).toEqual({ id, status: 200 })
        expect(normalized(answer.body)).toEqual(normalized(await expectedTweet(admin(), id)))
        if (answer.body.metrics !== null) measured++
      }
    }
    // The data set has both kinds of tweets, and tweets under several hashtags.
    expect(measured).toBeGreaterThan(0)
    expect(measured).toBeLessThan(ids.length)
    expect(DATA.tweets.some((t) => t.hashtags.length > 2)).toBe(true)
  }, 60_000)

  test('when no stored tweet has the id, then a 404 problem', async () => {
    for (const id of unknownIds(new Set(DATA.tweets.map((t) => t.id)))) {
      const answer = await get(`/api/v1/resources/tweets/${id}`)
      expect({ id, status: answer.status, type: answer.type }).toEqual({ id, status: 404, type: 'application/problem+json' })
      expect(answer.body).toMatchObject({ type: '/problems/not-found', status: 404, title: 'Not Found' })
    }
  })

  test('when the id is not an unsigned 64-bit integer, then a 400 problem naming id', async () => {
    for (const id of MALFORMED) {
      const answer = await get(`/api/v1/resources/tweets/${id}`)
      expect({ id, status: answer.status, type: answer.type, parameter: answer.body?.errors?.[0]?.parameter }).toEqual({
        id,
        status: 400,
        type: 'application/problem+json',
        parameter: 'id',
      })
    }
  })
})

describe('GET /api/v1/resources/users/{id}', () => {
  test('when any stored user is asked for, then it is its row with the number of distinct tweets it authored', async () => {
    let multi = 0
    for (const user of DATA.users) {
      const answer = await get(`/api/v1/resources/users/${user.id}`)
      expect({ id: user.id, status: answer.status }).toEqual({ id: user.id, status: 200 })
      const expected = await expectedUser(admin(), user.id)
      expect(answer.body).toEqual(expected)
      // Independently of SQL: the fixture's tweets by this author, each once however many hashtags it is stored under.
      expect(answer.body.tweet_count).toBe(DATA.tweets.filter((t) => t.author_id === user.id).length)
      if (DATA.tweets.some((t) => t.author_id === user.id && t.hashtags.length > 1)) multi++
    }
    expect(multi).toBeGreaterThan(0)
    expect((await get('/api/v1/resources/users/4000000000000000000')).body.tweet_count).toBe(0)
  })

  test('when no stored user has the id, then a 404 problem; when the id is malformed, a 400 naming id', async () => {
    for (const id of unknownIds(new Set(DATA.users.map((u) => u.id)))) {
      const answer = await get(`/api/v1/resources/users/${id}`)
      expect({ id, status: answer.status, type: answer.type }).toEqual({ id, status: 404, type: 'application/problem+json' })
      expect(answer.body).toMatchObject({ type: '/problems/not-found', status: 404 })
    }
    for (const id of MALFORMED) {
      const answer = await get(`/api/v1/resources/users/${id}`)
      expect({ id, status: answer.status, parameter: answer.body?.errors?.[0]?.parameter }).toEqual({
        id,
        status: 400,
        parameter: 'id',
      })
    }
  })
})
