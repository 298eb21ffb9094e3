import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../config'
import { normalizeHashtag } from '../domain/hashtag'
import { kindOf } from '../domain/tweet-kind'
import { parsePage, type TweetRecord } from './page'
import { createSampleSource, SAMPLE_FILE, type SampleFile } from './sample-source'

/**
 * The bundled sample shows what the analysis endpoints read, in the API's own shapes: the four kinds
 * through referenced_tweets, heavy-tailed public_metrics, untracked hashtags beside the tracked ones.
 */

const sample = JSON.parse(readFileSync(SAMPLE_FILE, 'utf8')) as SampleFile
/** Every tweet of the file once, as the API sent it. */
const tweets = new Map<string, any>()
for (const pages of Object.values(sample.pages))
  for (const page of pages) for (const tweet of page.data ?? []) tweets.set(tweet.id, tweet)
const all = [...tweets.values()]
const TRACKED = new Set(loadConfig({}).collector.hashtags)
const codePoints = (text: string) => [...text]
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!
const kindOfTweet = (tweet: any) => kindOf(tweet.referenced_tweets)

/** The sample as the collector stores it: through the sample source and the page parser. */
async function collected(): Promise<TweetRecord[]> {
  // Loaded at the file's own time, ids are the file's: the stored tweets can be told by them.
  const source = createSampleSource(SAMPLE_FILE, Date.parse(sample.generated_at))
  const stored = new Map<string, TweetRecord>()
  for (const tag of TRACKED) {
    let nextToken: string | null = null
    do {
      const page = parsePage((await source.search({ tag, sinceId: null, nextToken })).body, tag, TRACKED)
      for (const tweet of page.tweets) stored.set(`${tweet.id} ${tag}`, tweet)
      nextToken = page.nextToken
    } while (nextToken !== null)
  }
  return [...stored.values()]
}

describe('bundled sample: kinds, metrics and hashtags', () => {
  test('all four kinds occur, originals and retweets the majority, and a reply that quotes counts as a quote', async () => {
    const share = (kind: string) => all.filter((t) => kindOfTweet(t) === kind).length / all.length
    expect(share('original') + share('retweet')).toBeGreaterThan(0.7)
    expect(share('original')).toBeGreaterThan(share('retweet'))
    expect(share('retweet')).toBeGreaterThan(0.25)
    expect(share('reply')).toBeGreaterThan(0.06)
    expect(share('quote')).toBeGreaterThan(0.04)
    const types = (t: any) => (t.referenced_tweets ?? []).map((r: any) => r.type).sort()
    const replyQuotes = all.filter((t) => types(t).join() === 'quoted,replied_to')
    expect(replyQuotes.length).toBeGreaterThanOrEqual(3)
    const kinds = new Map((await collected()).map((t) => [t.id, t.kind]))
    expect(new Set(kinds.values())).toEqual(new Set(['original', 'retweet', 'reply', 'quote']))
    for (const t of replyQuotes) expect(kinds.get(t.id)).toBe('quote')
    // referenced_tweets is absent for an original, never an empty list.
    expect(all.filter((t) => t.referenced_tweets !== undefined && t.referenced_tweets.length === 0)).toEqual([])
  })

  test('a retweet is written as X writes it: "RT @user: " and the retweeted text cut at 140 characters, with the entities of what is left', () => {
    const retweets = all.filter((t) => kindOfTweet(t) === 'retweet')
    for (const t of retweets) {
      expect(t.text).toMatch(/^RT @[A-Za-z0-9_]{1,15}: /)
      expect(codePoints(t.text).length).toBeLessThanOrEqual(140)
      expect(t.referenced_tweets).toEqual([{ type: 'retweeted', id: expect.stringMatching(/^[0-9]+$/) }])
    }
    expect(all.filter((t) => kindOfTweet(t) !== 'retweet' && t.text.startsWith('RT @'))).toEqual([])
    // Cut ones end in an ellipsis; the ones whose source is in the sample copy its text and language.
    expect(retweets.filter((t) => t.text.endsWith('…')).length).toBeGreaterThanOrEqual(2)
    const inSample = retweets.filter((t) => tweets.has(t.referenced_tweets[0].id))
    expect(inSample.length).toBeGreaterThanOrEqual(20)
    for (const t of inSample) {
      const source = tweets.get(t.referenced_tweets[0].id)
      const copied = t.text.replace(/^RT @[A-Za-z0-9_]+: /, '').replace(/…$/, '')
      expect(source.text.startsWith(copied)).toBe(true)
      expect(t.lang).toBe(source.lang)
    }
  })

  test('every hashtag entity is where the text has it, any case, and untracked hashtags stand beside the tracked ones', () => {
    for (const t of all) {
      for (const h of t.entities.hashtags) expect(codePoints(t.text).slice(h.start, h.end).join('')).toBe(`#${h.tag}`)
    }
    const untracked = (t: any) => t.entities.hashtags.filter((h: any) => !TRACKED.has(normalizeHashtag(h.tag)!))
    const distinct = new Set(all.flatMap((t) => untracked(t).map((h: any) => normalizeHashtag(h.tag))))
    expect(distinct.size).toBeGreaterThanOrEqual(15)
    const carrying = all.filter((t) => untracked(t).length > 0).length / all.length
    expect(carrying).toBeGreaterThan(0.3)
    expect(carrying).toBeLessThan(0.9)
    expect(Math.max(...all.map((t) => untracked(t).length))).toBe(3)
    // As people write them: #Kubernetes and #kubernetes both.
    const spellings = all.flatMap((t) => untracked(t).map((h: any) => h.tag as string))
    expect(spellings.some((tag) => tag !== tag.toLowerCase())).toBe(true)
    expect(spellings.some((tag) => tag === tag.toLowerCase())).toBe(true)
  })

  test('each tracked hashtag has its own favourite companions', async () => {
    const companions = new Map<string, Map<string, number>>()
    for (const t of await collected()) {
      for (const tag of t.hashtags) {
        const counts = companions.get(tag) ?? new Map<string, number>()
        for (const other of t.allHashtags) if (!TRACKED.has(other)) counts.set(other, (counts.get(other) ?? 0) + 1)
        companions.set(tag, counts)
      }
    }
    const favourite = (tag: string) => [...companions.get(tag)!].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0]
    const favourites = ['devops', 'sre', 'observability', 'oauth', 'openbanking'].map(favourite)
    expect(new Set(favourites).size).toBeGreaterThanOrEqual(4)
  })

  test('every tweet has public_metrics: likes heavy-tailed, other reactions rarer, impressions left out on some (never 0 for missing)', () => {
    const fields = ['retweet_count', 'reply_count', 'like_count', 'quote_count', 'bookmark_count']
    for (const t of all) {
      for (const field of fields) expect([t.id, field, Number.isInteger(t.public_metrics[field])]).toEqual([t.id, field, true])
    }
    const own = all.filter((t) => kindOfTweet(t) !== 'retweet').map((t) => t.public_metrics)
    const likes = own.map((m) => m.like_count).sort((a, b) => a - b)
    const median = quantile(likes, 0.5)
    expect(median).toBeLessThanOrEqual(5)
    expect(likes.filter((n) => n <= 5).length / likes.length).toBeGreaterThan(0.6)
    expect(quantile(likes, 0.99)).toBeGreaterThan(20 * Math.max(median, 1))
    expect(likes.at(-1)!).toBeGreaterThanOrEqual(200)
    const sum = (field: string) => own.reduce((total, m) => total + m[field], 0)
    expect(sum('retweet_count')).toBeLessThan(sum('like_count') / 2)
    expect(sum('reply_count')).toBeLessThan(sum('retweet_count'))
    expect(sum('quote_count')).toBeLessThan(sum('reply_count'))
    const missing = all.filter((t) => t.public_metrics.impression_count === undefined).length / all.length
    expect(missing).toBeGreaterThan(0.08)
    expect(missing).toBeLessThan(0.25)
    expect(own.filter((m) => m.impression_count === 0)).toEqual([])
  })

  test('a retweet has the retweeted post’s retweet count and no likes, replies, quotes or impressions of its own, as the API gives them', () => {
    for (const t of all.filter((t) => kindOfTweet(t) === 'retweet')) {
      const { retweet_count, impression_count, ...own } = t.public_metrics
      expect(own).toEqual({ reply_count: 0, like_count: 0, quote_count: 0, bookmark_count: 0 })
      expect(retweet_count).toBeGreaterThanOrEqual(1)
      expect([undefined, 0]).toContain(impression_count)
      const source = tweets.get(t.referenced_tweets[0].id)
      if (source !== undefined) expect(retweet_count).toBe(source.public_metrics.retweet_count)
    }
  })
})
