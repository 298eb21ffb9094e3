import type { Static } from 'elysia'
import { toIsoUtc } from '../../domain/time'
import type { TimedCount } from '../counts/range-counts'
import type { ByHour, ByLang, Timeline, Tweet } from './model'
import type { LangRow, QuarterRow, TweetRow } from './repository'

/** Newest first: ids are 64-bit, compared as decimal strings (a longer one is larger). */
const byIdDescending = (a: { id: string }, b: { id: string }) =>
  a.id.length === b.id.length ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : b.id.length - a.id.length

/** The metrics columns of a row, or null when the tweet has none yet. */
const metricsOf = (row: TweetRow): Tweet['metrics'] =>
  row.metrics_updated_at === null
    ? null
    : {
        likes: Number(row.likes),
        retweets: Number(row.retweets),
        replies: Number(row.replies),
        quotes: Number(row.quotes),
        impressions: row.impressions === null ? null : Number(row.impressions),
        updated_at: toIsoUtc(row.metrics_updated_at),
      }

/** Folds rows of (tweet, hashtag), in any order, into tweets carrying all their hashtags, newest first. */
export function toTweets(rows: TweetRow[]): Tweet[] {
  const tweets = new Map<string, Tweet>()
  for (const row of rows) {
    const known = tweets.get(row.id)
    if (known !== undefined) {
      known.hashtags.push(row.hashtag)
      continue
    }
    tweets.set(row.id, {
      id: row.id,
      text: row.text,
      lang: row.lang,
      created_at: toIsoUtc(row.created_at),
      author: { id: row.author_id, username: row.username, followers_count: Number(row.followers_count) },
      hashtags: [row.hashtag],
      kind: row.kind,
      metrics: metricsOf(row),
    })
  }
  return [...tweets.values()].sort(byIdDescending).map((tweet) => {
    tweet.hashtags.sort()
    return tweet
  })
}

/** Quarter hours of the day in UTC, moved by a UTC offset in minutes (a multiple of 15), into 24 hourly buckets, zero-filled. */
export function toHours(rows: QuarterRow[], offsetMinutes: number): Static<typeof ByHour>['data'] {
  const counts = new Array<number>(24).fill(0)
  const shift = offsetMinutes / 15
  for (const row of rows) {
    const local = (((Number(row.quarter) + shift) % 96) + 96) % 96
    counts[Math.floor(local / 4)]! += Number(row.count)
  }
  return counts.map((count, hour) => ({ hour, count }))
}

const DAY_MS = 86_400_000

/** Counts at instants into the 24 hours of the day in a UTC offset, zero-filled. */
export function hoursOf(counts: TimedCount[], offsetMinutes: number): Static<typeof ByHour>['data'] {
  const hours = new Array<number>(24).fill(0)
  for (const { start, count } of counts) {
    const local = (((start + offsetMinutes * 60_000) % DAY_MS) + DAY_MS) % DAY_MS
    hours[Math.floor(local / 3_600_000)]! += count
  }
  return hours.map((count, hour) => ({ hour, count }))
}

/** Counts at instants into `count` buckets of `size` from `first`, zero-filled. */
export function toBuckets(counts: TimedCount[], first: number, size: number, count: number): Static<typeof Timeline>['data'] {
  const buckets = new Array<number>(count).fill(0)
  for (const item of counts) {
    const index = Math.floor((item.start - first) / size)
    if (index >= 0 && index < count) buckets[index]! += item.count
  }
  return buckets.map((n, i) => ({ start: new Date(first + i * size).toISOString(), count: n }))
}

/** The tweets of `ids`, in that order (a ranking), from their rows in any order. */
export function inOrder(ids: readonly string[], rows: TweetRow[]): Tweet[] {
  const tweets = new Map(toTweets(rows).map((tweet) => [tweet.id, tweet]))
  return ids.flatMap((id) => {
    const tweet = tweets.get(id)
    return tweet === undefined ? [] : [tweet]
  })
}

export const toLangCounts = (rows: LangRow[]): Static<typeof ByLang>['data'] =>
  rows.map((row) => ({ hashtag: row.hashtag, lang: row.lang, count: Number(row.count) }))
