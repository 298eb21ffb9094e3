import type { Param, Row, Sql } from '../../db/database'

export interface TweetFilter {
  hashtag?: string
  lang?: string
  authorId?: string
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
}

/** WHERE clause and parameters for a filter; ids are compared as exact unsigned integers. */
function where(filter: TweetFilter, beforeId: string | null): { clause: string; params: Param[] } {
  const conditions: string[] = []
  const params: Param[] = []
  if (filter.hashtag !== undefined) {
    conditions.push('hashtag = ?')
    params.push(filter.hashtag)
  }
  if (filter.lang !== undefined) {
    conditions.push('lang = ?')
    params.push(filter.lang)
  }
  if (filter.authorId !== undefined) {
    conditions.push('author_id = CAST(? AS UNSIGNED)')
    params.push(filter.authorId)
  }
  if (beforeId !== null) {
    conditions.push('id < CAST(? AS UNSIGNED)')
    params.push(beforeId)
  }
  return { clause: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params }
}

/**
 * One page of tweets, newest first, starting after `beforeId`: the inner query picks `limit` tweet
 * ids through the index that matches the filter; the outer one brings every hashtag row of those
 * tweets and their authors. Rows come one per (tweet, hashtag), ordered by id then hashtag.
 */
export async function findTweets(sql: Sql, filter: TweetFilter, beforeId: string | null, limit: number): Promise<TweetRow[]> {
  const { clause, params } = where(filter, beforeId)
  return sql.rows<TweetRow>(
    `SELECT t.id, t.hashtag, t.lang, t.text, t.created_at, t.author_id, u.username, u.followers_count
       FROM (SELECT id FROM tweets ${clause} GROUP BY id ORDER BY id DESC LIMIT ?) AS page
       JOIN tweets t ON t.id = page.id
       JOIN users u ON u.id = t.author_id
      ORDER BY t.id DESC, t.hashtag`,
    [...params, limit],
  )
}

export interface HourRow extends Row {
  hour: number
  count: string
}

/** Distinct tweets per hour of the day, hours shifted by `offsetMinutes`; hours without tweets are absent. */
export async function countByHour(sql: Sql, filter: TweetFilter, offsetMinutes: number): Promise<HourRow[]> {
  const { clause, params } = where(filter, null)
  return sql.rows<HourRow>(
    `SELECT HOUR(created_at + INTERVAL ? MINUTE) AS hour, COUNT(DISTINCT id) AS count
       FROM tweets ${clause}
      GROUP BY hour`,
    [offsetMinutes, ...params],
  )
}

export interface LangRow extends Row {
  hashtag: string
  lang: string
  count: string
}

export async function countByLang(sql: Sql, filter: Pick<TweetFilter, 'hashtag'>): Promise<LangRow[]> {
  const { clause, params } = where(filter, null)
  return sql.rows<LangRow>(
    `SELECT hashtag, lang, COUNT(*) AS count
       FROM tweets ${clause}
      GROUP BY hashtag, lang
      ORDER BY hashtag, count DESC, lang`,
    params,
  )
}
