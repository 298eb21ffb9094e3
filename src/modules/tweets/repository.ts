import type { Param, Row, Sql } from '../../db/sql'
import type { Ranking } from '../../domain/engagement'

export interface TweetFilter {
  hashtag?: string
  lang?: string
  authorId?: string
  /** created_at in [since, until), DATETIME literals. */
  since?: string
  until?: string
  /** Absent: every kind. */
  kinds?: readonly string[]
}

export interface TweetRow extends Row {
  id: string
  hashtag: string
  lang: string
  text: string
  created_at: string
  author_id: string
  username: string
  followers_count: string
  kind: string
  /** The tweet_metrics columns, all null when the tweet has no metrics yet. */
  likes: string | null
  retweets: string | null
  replies: string | null
  quotes: string | null
  impressions: string | null
  metrics_updated_at: string | null
}

/** The columns every query returning tweets selects, for the mapper: t = tweets, u = users, m = tweet_metrics. */
export const TWEET_COLUMNS = `t.id, t.hashtag, t.lang, t.text, t.created_at, t.author_id, t.kind, u.username, u.followers_count,
       m.likes, m.retweets, m.replies, m.quotes, m.impressions, m.updated_at AS metrics_updated_at`

/**
 * The index that serves a filter's pages (sql/001_schema.sql), named in the query: left to choose,
 * MySQL and MariaDB at a million rows sometimes read the index by its equality prefix alone ('ref')
 * instead of as a range below the cursor, and step over every entry above the cursor: page 400
 * of a filtered list then took 10 ms instead of 0.3. The author's index comes first whatever else
 * is filtered: an author has few tweets, a hashtag or a language has many.
 */
function indexFor(filter: TweetFilter): string {
  if (filter.authorId !== undefined) return 'tweets_by_author'
  if (filter.hashtag !== undefined) return filter.lang !== undefined ? 'tweets_by_hashtag_lang' : 'tweets_by_hashtag'
  return filter.lang !== undefined ? 'tweets_by_lang' : 'PRIMARY'
}

/**
 * Conditions on what a tweet's rows and its tweet_metrics row both hold (language, created_at,
 * kind), on the columns of `table`, added to `conditions` and `params`.
 */
function addFacets(filter: TweetFilter, table: string, conditions: string[], params: Param[]): void {
  if (filter.lang !== undefined) {
    conditions.push(`${table}lang = ?`)
    params.push(filter.lang)
  }
  if (filter.since !== undefined) {
    conditions.push(`${table}created_at >= ?`)
    params.push(filter.since)
  }
  if (filter.until !== undefined) {
    conditions.push(`${table}created_at < ?`)
    params.push(filter.until)
  }
  if (filter.kinds !== undefined) {
    conditions.push(`${table}kind IN (${filter.kinds.map(() => '?').join(', ')})`)
    params.push(...filter.kinds)
  }
}

const whereOf = (conditions: string[]) => (conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '')

/** WHERE clause and parameters for a filter; ids are compared as exact unsigned integers. */
function where(filter: TweetFilter, beforeId: string | null): { clause: string; params: Param[] } {
  const conditions: string[] = []
  const params: Param[] = []
  if (filter.hashtag !== undefined) {
    conditions.push('hashtag = ?')
    params.push(filter.hashtag)
  }
  if (filter.authorId !== undefined) {
    conditions.push('author_id = CAST(? AS UNSIGNED)')
    params.push(filter.authorId)
  }
  addFacets(filter, '', conditions, params)
  if (beforeId !== null) {
    conditions.push('id < CAST(? AS UNSIGNED)')
    params.push(beforeId)
  }
  return { clause: whereOf(conditions), params }
}

/**
 * One page of tweets, newest first, starting after `beforeId`: the inner query picks `limit` tweet
 * ids through the index that matches the filter; the outer one brings every hashtag row of those
 * tweets and their authors, one row per (tweet, hashtag), in no particular order: sorting them in
 * MySQL costs a temporary table per page, sorting a hundred of them in the mapper costs nothing.
 */
export async function findTweets(sql: Sql, filter: TweetFilter, beforeId: string | null, limit: number): Promise<TweetRow[]> {
  const { clause, params } = where(filter, beforeId)
  return sql.rows<TweetRow>(
    `SELECT ${TWEET_COLUMNS}
       FROM (SELECT id FROM tweets FORCE INDEX (${indexFor(filter)}) ${clause} GROUP BY id ORDER BY id DESC LIMIT ?) AS page
       JOIN tweets t ON t.id = page.id
       JOIN users u ON u.id = t.author_id
       LEFT JOIN tweet_metrics m ON m.id = t.id`,
    [...params, limit],
  )
}

/** Every row of the given tweets (one per hashtag) with their authors and metrics, in no order. */
export function findTweetsByIds(sql: Sql, ids: readonly string[]): Promise<TweetRow[]> {
  if (ids.length === 0) return Promise.resolve([])
  return sql.rows<TweetRow>(
    `SELECT ${TWEET_COLUMNS}
       FROM tweets t
       JOIN users u ON u.id = t.author_id
       LEFT JOIN tweet_metrics m ON m.id = t.id
      WHERE t.id IN (${ids.map(() => 'CAST(? AS UNSIGNED)').join(', ')})`,
    [...ids],
  )
}

/**
 * Ids of the tweets with the highest `by`, ties by id, newest first. tweet_metrics is read in the
 * order of the ranking's index, from the top, checking each tweet against the filter until `limit`
 * match: the range is never scanned, and a common filter stops after a few rows. Under a hashtag,
 * each candidate is looked up by the primary key of tweets (STRAIGHT_JOIN keeps that order). Tweets
 * without metrics are not ranked.
 */
export function findTopIds(
  sql: Sql,
  filter: Omit<TweetFilter, 'authorId'>,
  by: Ranking,
  limit: number,
): Promise<(Row & { id: string })[]> {
  const conditions: string[] = []
  const params: Param[] = []
  if (filter.hashtag !== undefined) params.push(filter.hashtag)
  addFacets(filter, 'm.', conditions, params)
  const join = filter.hashtag === undefined ? '' : 'STRAIGHT_JOIN tweets t ON t.id = m.id AND t.hashtag = ?'
  return sql.rows(
    `SELECT m.id FROM tweet_metrics m FORCE INDEX (metrics_by_${by}) ${join}
      ${whereOf(conditions)}
      ORDER BY m.${by} DESC, m.id DESC LIMIT ?`,
    [...params, limit],
  )
}

export interface QuarterRow extends Row {
  quarter: number
  count: string
}

/**
 * Tweets per quarter hour of the day (UTC), from the counts the collector keeps: the tweets under
 * the hashtag when one is given, otherwise every tweet once. Quarters without tweets are absent.
 */
export async function countByQuarter(sql: Sql, filter: Pick<TweetFilter, 'hashtag' | 'lang'>): Promise<QuarterRow[]> {
  const lang = filter.lang === undefined ? '' : ' AND lang = ?'
  const langParam = filter.lang === undefined ? [] : [filter.lang]
  return filter.hashtag === undefined
    ? sql.rows<QuarterRow>(
        `SELECT quarter, SUM(first_seen) AS count FROM hashtag_counts WHERE 1 = 1${lang} GROUP BY quarter`,
        langParam,
      )
    : sql.rows<QuarterRow>(`SELECT quarter, SUM(tweets) AS count FROM hashtag_counts WHERE hashtag = ?${lang} GROUP BY quarter`, [
        filter.hashtag,
        ...langParam,
      ])
}

export interface LangRow extends Row {
  hashtag: string
  lang: string
  count: string
}

export async function countByLang(sql: Sql, filter: Pick<TweetFilter, 'hashtag'>): Promise<LangRow[]> {
  const where = filter.hashtag === undefined ? '' : 'WHERE hashtag = ?'
  return sql.rows<LangRow>(
    `SELECT hashtag, lang, SUM(tweets) AS count
       FROM hashtag_counts ${where}
      GROUP BY hashtag, lang
      ORDER BY hashtag, count DESC, lang`,
    filter.hashtag === undefined ? [] : [filter.hashtag],
  )
}
