import type mysql from 'mysql2/promise'
import { BUMP_VERSION, commitWait } from '../../src/db/data-version'
import { toMysqlUtc } from '../../src/domain/time'

/** Rows to arrange in a test database, in the shape of the tables. */
export interface FixtureUser {
  id: string
  username: string
  name: string
  followers_count: number
}

export interface FixtureTweet {
  id: string
  hashtags: string[]
  author_id: string
  lang: string
  text: string
  /** ISO 8601 UTC */
  created_at: string
  /** Default unknown, as for rows stored before kinds were collected. */
  kind?: 'original' | 'reply' | 'quote' | 'retweet' | 'unknown'
  /** Absent: no metrics row (a tweet never measured). */
  metrics?: FixtureMetrics
  /** Every hashtag the tweet carries; default its tracked ones. */
  tags?: string[]
}

export interface FixtureMetrics {
  likes: number
  retweets: number
  replies: number
  quotes: number
  impressions: number | null
  /** ISO 8601 UTC */
  updated_at: string
}

/**
 * Every write the API can show bumps the data version, then waits out the freshness window (the
 * commit wait every writer owes): only then may it count on every answer showing it.
 */
export async function bumpVersionAndWait(admin: mysql.Connection): Promise<void> {
  await admin.query(BUMP_VERSION)
  await commitWait()
}

export async function insertHashtags(admin: mysql.Connection, tags: string[]): Promise<void> {
  if (tags.length === 0) return
  await admin.query('INSERT IGNORE INTO hashtags (tag) VALUES ?', [tags.map((tag) => [tag])])
  await bumpVersionAndWait(admin)
}

export async function insertUsers(admin: mysql.Connection, users: FixtureUser[]): Promise<void> {
  if (users.length === 0) return
  await admin.query('INSERT INTO users (id, username, name, followers_count, updated_at) VALUES ?', [
    users.map((u) => [u.id, u.username, u.name, u.followers_count, '2026-11-01 00:00:00.000']),
  ])
  await bumpVersionAndWait(admin)
}

export async function insertTweets(admin: mysql.Connection, tweets: FixtureTweet[]): Promise<void> {
  const kind = (tweet: FixtureTweet) => tweet.kind ?? 'unknown'
  const rows = tweets.flatMap((tweet) =>
    tweet.hashtags.map((tag) => [
      tweet.id,
      tag,
      tweet.author_id,
      tweet.lang,
      tweet.text,
      toMysqlUtc(tweet.created_at),
      kind(tweet),
    ]),
  )
  if (rows.length === 0) return
  await admin.query('INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at, kind) VALUES ?', [rows])
  const tags = tweets.flatMap((tweet) => [...new Set([...tweet.hashtags, ...(tweet.tags ?? [])])].map((tag) => [tweet.id, tag]))
  await admin.query('INSERT IGNORE INTO tweet_hashtags (id, tag) VALUES ?', [tags])
  const measured = tweets.flatMap(({ id, created_at, lang, metrics: m, ...rest }) =>
    m === undefined
      ? []
      : [
          [
            id,
            toMysqlUtc(created_at),
            lang,
            kind({ id, created_at, lang, ...rest }),
            m.likes,
            m.retweets,
            m.replies,
            m.quotes,
            m.impressions,
            m.likes + m.retweets + m.replies + m.quotes,
            toMysqlUtc(m.updated_at),
          ],
        ],
  )
  if (measured.length > 0) {
    await admin.query(
      'INSERT INTO tweet_metrics (id, created_at, lang, kind, likes, retweets, replies, quotes, impressions, engagement, updated_at) VALUES ?',
      [measured],
    )
  }
  await bumpVersionAndWait(admin)
}
