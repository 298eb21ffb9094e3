import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../config'
import { parseLookup } from './lookup'
import { type MetricsRecord, parsePage, type TweetRecord, type UserRecord } from './page'
import { createSampleSource, grown, SAMPLE_FILE, SAMPLE_GROWTH_MS } from './sample-source'
import { snowflakeTime } from './since-id'

/** Everything the sample holds, read through the same source interface and parser as the collector's. */
async function readAll(now: number) {
  const source = createSampleSource(SAMPLE_FILE, now)
  const tags = loadConfig({}).collector.hashtags
  const tracked = new Set(tags)
  const tweets = new Map<string, TweetRecord>()
  const users = new Map<string, UserRecord>()
  const perTag = new Map<string, number>()
  for (const tag of tags) {
    let nextToken: string | null = null
    do {
      const page = parsePage((await source.search({ tag, sinceId: null, nextToken })).body, tag, tracked)
      for (const t of page.tweets) tweets.set(t.id, t)
      for (const u of page.users) users.set(u.id, u)
      perTag.set(tag, (perTag.get(tag) ?? 0) + page.tweets.length)
      expect(page.skipped).toEqual([])
      nextToken = page.nextToken
    } while (nextToken !== null)
  }
  return { tweets: [...tweets.values()], users: [...users.values()], perTag }
}

describe('bundled sample data', () => {
  const now = Date.UTC(2027, 2, 15, 12, 0, 0)

  test('it says where it lives that it is synthetic', () => {
    expect(JSON.parse(readFileSync(SAMPLE_FILE, 'utf8')).notice).toStartWith('SYNTHETIC DATA.')
  })

  test('it looks like real traffic: every default hashtag but #logmonitoring, a few hundred tweets, several languages', async () => {
    const { tweets, perTag } = await readAll(now)
    expect(tweets.length).toBeGreaterThanOrEqual(300)
    expect(tweets.length).toBeLessThanOrEqual(1000)
    for (const [tag, count] of perTag) expect([tag, count > 0]).toEqual([tag, tag !== 'logmonitoring'])
    const langs = new Set(tweets.map((t) => t.lang))
    for (const lang of ['en', 'pt', 'es', 'ja', 'de', 'fr', 'und']) expect(langs).toContain(lang)
    expect(tweets.some((t) => /\p{Extended_Pictographic}/u.test(t.text))).toBe(true)
    expect(tweets.filter((t) => t.hashtags.length >= 2).length).toBeGreaterThanOrEqual(10)
  })

  test('ids are beyond 2^53 and follower counts heavy-tailed', async () => {
    const { tweets, users } = await readAll(now)
    expect(tweets.every((t) => BigInt(t.id) > 2n ** 53n)).toBe(true)
    expect(users.every((u) => BigInt(u.id) > 2n ** 53n)).toBe(true)
    const followers = users.map((u) => u.followersCount).sort((a, b) => a - b)
    const median = followers[Math.floor(followers.length / 2)]!
    expect(followers.at(-1)!).toBeGreaterThan(median * 50)
  })

  test('created_at covers the seven days before load time, whenever it is loaded', async () => {
    for (const loadedAt of [now, Date.UTC(2030, 0, 1)]) {
      const { tweets } = await readAll(loadedAt)
      const times = tweets.map((t) => Date.parse(`${t.createdAt.replace(' ', 'T')}Z`))
      expect(Math.max(...times)).toBeLessThanOrEqual(loadedAt)
      expect(Math.min(...times)).toBeGreaterThanOrEqual(loadedAt - 7 * 24 * 3_600_000)
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(5 * 24 * 3_600_000)
    }
  })

  test('every tweet id carries its created_at as a snowflake does, and so do the ids it references, whenever it is loaded', async () => {
    for (const loadedAt of [Date.UTC(2011, 0, 1), now, Date.UTC(2079, 0, 1)]) {
      const source = createSampleSource(SAMPLE_FILE, loadedAt)
      for (const tag of loadConfig({}).collector.hashtags) {
        let nextToken: string | null = null
        do {
          const body = (await source.search({ tag, sinceId: null, nextToken })).body as any
          for (const tweet of body.data ?? []) {
            expect([tweet.id, snowflakeTime(tweet.id)]).toEqual([tweet.id, Date.parse(tweet.created_at)])
            // What a post references is older than the post.
            for (const ref of tweet.referenced_tweets ?? [])
              expect(snowflakeTime(ref.id)).toBeLessThanOrEqual(snowflakeTime(tweet.id))
          }
          nextToken = body.meta.next_token ?? null
        } while (nextToken !== null)
      }
    }
  })

  test('since_id is honoured like the API does: only newer tweets, then nothing', async () => {
    const source = createSampleSource(SAMPLE_FILE, now)
    const first = (await source.search({ tag: 'devops', sinceId: null, nextToken: null })).body as any
    const newest = first.meta.newest_id
    const middle = first.data[10].id
    const after = (await source.search({ tag: 'devops', sinceId: middle, nextToken: null })).body as any
    expect(after.data.map((t: any) => t.id)).toEqual(first.data.slice(0, 10).map((t: any) => t.id))
    expect(after.meta.next_token).toBeUndefined()
    expect((await source.search({ tag: 'devops', sinceId: newest, nextToken: null })).body).toEqual({ meta: { result_count: 0 } })
  })

  test('when a tracked hashtag is named like a member of Object.prototype, then the sample has no pages for it', async () => {
    const source = createSampleSource(SAMPLE_FILE, now)
    for (const tag of Object.getOwnPropertyNames(Object.prototype)) {
      expect((await source.search({ tag, sinceId: null, nextToken: null })).body).toEqual({ meta: { result_count: 0 } })
    }
  })
})

describe('post lookups of the bundled sample', () => {
  const now = Date.UTC(2027, 2, 15, 12, 0, 0)
  const HOUR = 3_600_000

  /** The ids of the sample's first page of #devops, as the collector stores them. */
  async function someIds(count: number) {
    const source = createSampleSource(SAMPLE_FILE, now)
    const page = (await source.search({ tag: 'devops', sinceId: null, nextToken: null })).body as any
    return page.data.slice(0, count).map((t: any) => t.id) as string[]
  }

  test('when the same posts are looked up later and later, then every count grows or stays, never shrinks, and saturates', async () => {
    const ids = await someIds(20)
    let at = now
    const source = createSampleSource(SAMPLE_FILE, now, () => at)
    const seen: Map<string, MetricsRecord>[] = []
    for (const hours of [0, 1, 3, 6, 12, 24, 48, 24 * 30]) {
      at = now + hours * HOUR
      const parsed = parseLookup((await source.lookupTweets(ids)).body)
      expect(parsed.skipped).toEqual([])
      expect(parsed.metrics.size).toBe(20)
      seen.push(parsed.metrics)
    }
    const total = (m: MetricsRecord) => m.likes + m.retweets + m.replies + m.quotes
    for (const id of ids) {
      for (let i = 1; i < seen.length; i++) {
        const [before, after] = [seen[i - 1]!.get(id)!, seen[i]!.get(id)!]
        for (const field of ['likes', 'retweets', 'replies', 'quotes'] as const)
          expect({ id, field, shrank: after[field] < before[field] }).toEqual({ id, field, shrank: false })
        expect(after.impressions === null).toBe(before.impressions === null)
      }
    }
    const sum = (i: number) => ids.reduce((acc, id) => acc + total(seen[i]!.get(id)!), 0)
    // Growth is visible within hours, and about done after the default refresh window.
    expect(sum(3)).toBeGreaterThan(sum(0))
    expect(sum(7) - sum(6)).toBeLessThan((sum(6) - sum(0)) / 10)
  })

  test('growth depends on the age alone: the same lookup at the same time answers the same', async () => {
    const ids = await someIds(5)
    const at = () => now + 5 * HOUR
    const [a, b] = [createSampleSource(SAMPLE_FILE, now, at), createSampleSource(SAMPLE_FILE, now, at)]
    expect((await a.lookupTweets(ids)).body).toEqual((await b.lookupTweets(ids)).body)
  })

  test("grown metrics start at the sample's own values and leave out an impression count the sample does not have", () => {
    const tweet = {
      id: '1234567890123456789',
      public_metrics: { like_count: 10, retweet_count: 0, reply_count: 1, quote_count: 0 },
    }
    expect(grown(tweet, 0)).toEqual({ like_count: 10, retweet_count: 0, reply_count: 1, quote_count: 0 })
    const later = grown(tweet, SAMPLE_GROWTH_MS)
    expect(later.like_count).toBeGreaterThan(10)
    expect(later).not.toHaveProperty('impression_count')
    expect(
      grown({ ...tweet, public_metrics: { ...tweet.public_metrics, impression_count: 100 } }, SAMPLE_GROWTH_MS).impression_count,
    ).toBeGreaterThan(100)
    // A post without public_metrics grows from zeros.
    expect(grown({ id: tweet.id }, 0)).toEqual({ like_count: 0, retweet_count: 0, reply_count: 0, quote_count: 0 })
    expect(grown({ id: tweet.id }, SAMPLE_GROWTH_MS).like_count).toBeGreaterThan(0)
  })

  test('when some ids are not in the sample, then they come back in errors[] as the API sends them, and the rest as data', async () => {
    const [known] = await someIds(1)
    const source = createSampleSource(SAMPLE_FILE, now, () => now)
    const body = (await source.lookupTweets([known!, '42'])).body as any
    // Ids of the file as it is, not moved to the load time, are not the loaded sample's.
    const fileId = (JSON.parse(readFileSync(SAMPLE_FILE, 'utf8')) as any).pages.devops[0].data[0].id
    expect(((await source.lookupTweets([fileId])).body as any).errors[0].value).toBe(fileId)
    expect(body.data.map((t: any) => t.id)).toEqual([known])
    expect(body.includes.users.map((u: any) => u.id)).toEqual([body.data[0].author_id])
    expect(body.errors).toEqual([
      expect.objectContaining({ value: '42', resource_id: '42', resource_type: 'tweet', title: 'Not Found Error' }),
    ])
    expect(parseLookup(body).notFound).toEqual(['42'])
    expect((await source.lookupTweets(['42'])).body).not.toHaveProperty('data')
  })

  test('when a lookup asks for more than 100 ids, then it is refused like the API does', async () => {
    const source = createSampleSource(SAMPLE_FILE, now)
    const ids = Array.from({ length: 101 }, (_, i) => String(i + 1))
    await expect(source.lookupTweets(ids)).rejects.toMatchObject({ failure: { kind: 'bad_request' } })
  })
})
