import type { Static } from 'elysia'
import { toIsoUtc } from '../../shared/time'
import type { ByHour, ByLang, Tweet } from './model'
import type { HourRow, LangRow, TweetRow } from './repository'

/** Folds rows of (tweet, hashtag), ordered by tweet, into tweets carrying all their hashtags. */
export function toTweets(rows: TweetRow[]): Tweet[] {
  const tweets: Tweet[] = []
  let current: Tweet | undefined
  for (const row of rows) {
    if (current?.id === row.id) {
      current.hashtags.push(row.hashtag)
      continue
    }
    current = {
      id: row.id,
      text: row.text,
      lang: row.lang,
      created_at: toIsoUtc(row.created_at),
      author: { id: row.author_id, username: row.username, followers_count: Number(row.followers_count) },
      hashtags: [row.hashtag],
    }
    tweets.push(current)
  }
  return tweets
}

/** 24 buckets, 0 to 23, including the hours without tweets. */
export function toHours(rows: HourRow[]): Static<typeof ByHour>['data'] {
  const counts = new Map(rows.map((row) => [Number(row.hour), Number(row.count)]))
  return Array.from({ length: 24 }, (_, hour) => ({ hour, count: counts.get(hour) ?? 0 }))
}

export const toLangCounts = (rows: LangRow[]): Static<typeof ByLang>['data'] =>
  rows.map((row) => ({ hashtag: row.hashtag, lang: row.lang, count: Number(row.count) }))
