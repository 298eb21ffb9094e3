import type { Param, Row, Sql } from '../../db/sql'

/**
 * Counting tweets within a time range. Whole quarter hours come from tweet_counts (one row per
 * quarter for any filter), the edges of the range from the rows, through the indexes on created_at:
 * a range longer than half an hour never reads more than its two edges' tweets. See range-counts.ts
 * for how the two are split and merged.
 */

export interface CountFilter {
  hashtag?: string
  lang?: string
  /** Absent: every kind (unknown included). */
  kinds?: readonly string[]
}

/** A range in the columns' terms: quarters [from, to) or DATETIME literals [since, until). */
export interface QuarterSpan {
  from: number
  to: number
}
export interface RowSpan {
  since: string
  until: string
}

const placeholders = (values: readonly unknown[]) => values.map(() => '?').join(', ')

/** The rows of tweet_counts that sum the requested kinds: the sum over every kind, or the listed ones. */
const countedKinds = (kinds: readonly string[] | undefined): { sql: string; params: Param[] } =>
  kinds === undefined ? { sql: "kind = ''", params: [] } : { sql: `kind IN (${placeholders(kinds)})`, params: [...kinds] }

/** Conditions on tweets rows for lang and kinds. */
function rowConditions(filter: CountFilter): { sql: string; params: Param[] } {
  const conditions: string[] = []
  const params: Param[] = []
  if (filter.lang !== undefined) {
    conditions.push('lang = ?')
    params.push(filter.lang)
  }
  if (filter.kinds !== undefined) {
    conditions.push(`kind IN (${placeholders(filter.kinds)})`)
    params.push(...filter.kinds)
  }
  return { sql: conditions.map((c) => ` AND ${c}`).join(''), params }
}

export interface QuarterCountRow extends Row {
  quarter: number
  count: string
}

/** Tweets per quarter hour under the filter: every tweet once without a hashtag. */
export function countQuarters(sql: Sql, filter: CountFilter, span: QuarterSpan): Promise<QuarterCountRow[]> {
  const kinds = countedKinds(filter.kinds)
  return sql.rows<QuarterCountRow>(
    `SELECT quarter, SUM(tweets) AS count FROM tweet_counts
      WHERE hashtag = ? AND lang = ? AND ${kinds.sql} AND quarter >= ? AND quarter < ?
      GROUP BY quarter`,
    [filter.hashtag ?? '', filter.lang ?? '', ...kinds.params, span.from, span.to],
  )
}

export interface MinuteCountRow extends Row {
  minute: number
  count: string
}

const MINUTE = "TIMESTAMPDIFF(MINUTE, '1970-01-01 00:00:00', created_at)"

/** Tweets per minute (since the epoch) under the filter, from the rows: the edges of a range, or minute timelines. */
export function countMinutes(sql: Sql, filter: CountFilter, span: RowSpan): Promise<MinuteCountRow[]> {
  const rows = rowConditions(filter)
  return filter.hashtag === undefined
    ? sql.rows<MinuteCountRow>(
        `SELECT ${MINUTE} AS minute, COUNT(DISTINCT id) AS count FROM tweets FORCE INDEX (tweets_by_time)
          WHERE created_at >= ? AND created_at < ?${rows.sql} GROUP BY minute`,
        [span.since, span.until, ...rows.params],
      )
    : sql.rows<MinuteCountRow>(
        `SELECT ${MINUTE} AS minute, COUNT(*) AS count FROM tweets FORCE INDEX (tweets_by_hashtag_time)
          WHERE hashtag = ? AND created_at >= ? AND created_at < ?${rows.sql} GROUP BY minute`,
        [filter.hashtag, span.since, span.until, ...rows.params],
      )
}

export interface GroupCountRow extends Row {
  hashtag: string
  lang: string
  count: string
}

/** Tweets per (hashtag, language) in whole quarters: the counts of by_lang within a range. */
export function countLangQuarters(sql: Sql, filter: Omit<CountFilter, 'lang'>, span: QuarterSpan): Promise<GroupCountRow[]> {
  const kinds = countedKinds(filter.kinds)
  const hashtag = filter.hashtag === undefined ? "hashtag <> ''" : 'hashtag = ?'
  return sql.rows<GroupCountRow>(
    `SELECT hashtag, lang, SUM(tweets) AS count FROM tweet_counts FORCE INDEX (counts_by_time)
      WHERE ${kinds.sql} AND quarter >= ? AND quarter < ? AND ${hashtag} AND lang <> ''
      GROUP BY hashtag, lang`,
    [...kinds.params, span.from, span.to, ...(filter.hashtag === undefined ? [] : [filter.hashtag])],
  )
}

/** The same from the rows, for the edges of the range. */
export function countLangRows(sql: Sql, filter: Omit<CountFilter, 'lang'>, span: RowSpan): Promise<GroupCountRow[]> {
  const rows = rowConditions(filter)
  return filter.hashtag === undefined
    ? sql.rows<GroupCountRow>(
        `SELECT hashtag, lang, COUNT(*) AS count FROM tweets FORCE INDEX (tweets_by_time)
          WHERE created_at >= ? AND created_at < ?${rows.sql} GROUP BY hashtag, lang`,
        [span.since, span.until, ...rows.params],
      )
    : sql.rows<GroupCountRow>(
        `SELECT hashtag, lang, COUNT(*) AS count FROM tweets FORCE INDEX (tweets_by_hashtag_time)
          WHERE hashtag = ? AND created_at >= ? AND created_at < ?${rows.sql} GROUP BY hashtag, lang`,
        [filter.hashtag, span.since, span.until, ...rows.params],
      )
}

/** Tweets per tracked hashtag in whole quarters: the counts of hashtags/all within a range. */
export function countHashtagQuarters(
  sql: Sql,
  kinds: readonly string[] | undefined,
  span: QuarterSpan,
): Promise<GroupCountRow[]> {
  const counted = countedKinds(kinds)
  return sql.rows<GroupCountRow>(
    `SELECT c.hashtag, '' AS lang, SUM(c.tweets) AS count
       FROM hashtags h JOIN tweet_counts c
         ON c.hashtag = h.tag AND c.lang = '' AND c.${counted.sql} AND c.quarter >= ? AND c.quarter < ?
      GROUP BY c.hashtag`,
    [...counted.params, span.from, span.to],
  )
}

/** The same from the rows, for the edges of the range. */
export function countHashtagRows(sql: Sql, kinds: readonly string[] | undefined, span: RowSpan): Promise<GroupCountRow[]> {
  const rows = rowConditions({ kinds })
  return sql.rows<GroupCountRow>(
    `SELECT hashtag, '' AS lang, COUNT(*) AS count FROM tweets FORCE INDEX (tweets_by_time)
      WHERE created_at >= ? AND created_at < ?${rows.sql} GROUP BY hashtag`,
    [span.since, span.until, ...rows.params],
  )
}
