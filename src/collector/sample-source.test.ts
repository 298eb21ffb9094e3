import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../config'
import { parsePage, type TweetRecord, type UserRecord } from './page'
import { createSampleSource, SAMPLE_FILE } from './sample-source'

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
