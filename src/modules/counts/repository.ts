import type { Param, Row, Sql } from '../../db/sql'
import { datetimeMs, QUARTER_MS } from '../../domain/buckets'
import { toMysqlUtc } from '../../domain/time'

/**
 * Counting tweets within a time range. Whole quarter hours come from tweet_counts (one row per
 * quarter for any filter), the edges of the range from the rows, through the indexes on created_at:
 * a range longer than half an hour never reads more than its two edges' tweets. See range-counts.ts
 * for how the two are split and merged. The sums per hashtag or language read an edge that covers
 * most of its quarter as the whole quarter's kept counts minus the rest of it (restOfBucket): at most
 * half a quarter of tweets per edge. (Per-minute counts cannot: a quarter's count has no minutes.)
 *
 * tweet_counts is keyed by (hashtag, lang, kind, quarter): a range of quarters is a range of the key
 * only once hashtag, lang and kind are fixed. The sums over every hashtag or language therefore name
 * them (read first, from the hashtags table or by one dive into the key per value): each pair is then
 * a range of the key, read in key order and summed without a temporary table. MySQL and MariaDB do
 * not turn a join or a subquery into such ranges (a join reads every quarter of all time of each
 * pair, then filters).
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

const datetimeOf = (ms: number) => toMysqlUtc(new Date(ms).toISOString())

/**
 * An edge of a range (a part of one bucket of the kept counts) that covers more than half of its
 * bucket: the rest of the bucket, [start, since) and [until, end) without the empty ones, holds fewer
 * rows to read than the edge, and the bucket's kept counts minus the rows of the rest are the edge's.
 * Null for an edge that is not inside one bucket or covers at most half of it: its own rows are read.
 */
export function restOfBucket(span: RowSpan, size: number): { bucket: number; rest: RowSpan[] } | null {
  const since = datetimeMs(span.since)
  const until = datetimeMs(span.until)
  const bucket = Math.floor(since / size)
  const end = (bucket + 1) * size
  if (until > end || 2 * (until - since) <= size) return null
  const rest: RowSpan[] = []
  if (bucket * size < since) rest.push({ since: datetimeOf(bucket * size), until: span.since })
  if (until < end) rest.push({ since: span.until, until: datetimeOf(end) })
  return { bucket, rest }
}

/** created_at within any of the spans (of a table aliased `alias`, or none). */
export function withinSpans(spans: readonly RowSpan[], alias = ''): { sql: string; params: Param[] } {
  const column = `${alias === '' ? '' : `${alias}.`}created_at`
  return {
    sql: `(${spans.map(() => `${column} >= ? AND ${column} < ?`).join(' OR ')})`,
    params: spans.flatMap((span) => [span.since, span.until]),
  }
}

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
export async function countLangQuarters(
  sql: Sql,
  filter: Omit<CountFilter, 'lang'>,
  span: QuarterSpan,
): Promise<GroupCountRow[]> {
  // The pairs with kept counts, one dive into the key each ('Using index for group-by').
  const pairs = await sql.rows<Row & { hashtag: string; lang: string }>(
    `SELECT hashtag, lang FROM tweet_counts
      WHERE ${filter.hashtag === undefined ? "hashtag <> ''" : 'hashtag = ?'} AND lang <> '' GROUP BY hashtag, lang`,
    filter.hashtag === undefined ? [] : [filter.hashtag],
  )
  if (pairs.length === 0) return []
  const hashtags = [...new Set(pairs.map((pair) => pair.hashtag))]
  const langs = [...new Set(pairs.map((pair) => pair.lang))]
  const kinds = countedKinds(filter.kinds)
  return sql.rows<GroupCountRow>(
    `SELECT hashtag, lang, SUM(tweets) AS count FROM tweet_counts FORCE INDEX (PRIMARY)
      WHERE hashtag IN (${placeholders(hashtags)}) AND lang IN (${placeholders(langs)}) AND ${kinds.sql}
        AND quarter >= ? AND quarter < ?
      GROUP BY hashtag, lang`,
    [...hashtags, ...langs, ...kinds.params, span.from, span.to],
  )
}

/**
 * The same from the rows, for the edges of the range; an edge covering most of its quarter as the
 * quarter's kept counts minus the rows of the rest of it (restOfBucket).
 */
export function countLangRows(sql: Sql, filter: Omit<CountFilter, 'lang'>, span: RowSpan): Promise<GroupCountRow[]> {
  const rows = rowConditions(filter)
  const [index, hashtag, hashtagParams] =
    filter.hashtag === undefined ? ['tweets_by_time', '', []] : ['tweets_by_hashtag_time', 'hashtag = ? AND ', [filter.hashtag]]
  const complement = restOfBucket(span, QUARTER_MS)
  if (complement === null) {
    return sql.rows<GroupCountRow>(
      `SELECT hashtag, lang, COUNT(*) AS count FROM tweets FORCE INDEX (${index})
        WHERE ${hashtag}created_at >= ? AND created_at < ?${rows.sql} GROUP BY hashtag, lang`,
      [...hashtagParams, span.since, span.until, ...rows.params],
    )
  }
  const kinds = countedKinds(filter.kinds)
  const rest = withinSpans(complement.rest)
  return sql.rows<GroupCountRow>(
    `SELECT hashtag, lang, SUM(count) AS count FROM (
       SELECT hashtag, lang, tweets AS count FROM tweet_counts FORCE INDEX (counts_by_time)
        WHERE ${kinds.sql} AND quarter = ? AND ${hashtag}hashtag <> '' AND lang <> ''
       UNION ALL
       SELECT hashtag, lang, -COUNT(*) FROM tweets FORCE INDEX (${index})
        WHERE ${hashtag}${rest.sql}${rows.sql} GROUP BY hashtag, lang
     ) AS parts GROUP BY hashtag, lang HAVING SUM(count) > 0`,
    [...kinds.params, complement.bucket, ...hashtagParams, ...hashtagParams, ...rest.params, ...rows.params],
  )
}

/** Tweets per tracked hashtag in whole quarters: the counts of hashtags/all within a range. */
export async function countHashtagQuarters(
  sql: Sql,
  kinds: readonly string[] | undefined,
  span: QuarterSpan,
): Promise<GroupCountRow[]> {
  const tags = (await sql.rows<Row & { tag: string }>('SELECT tag FROM hashtags')).map((row) => row.tag)
  if (tags.length === 0) return []
  const counted = countedKinds(kinds)
  return sql.rows<GroupCountRow>(
    `SELECT hashtag, '' AS lang, SUM(tweets) AS count FROM tweet_counts FORCE INDEX (PRIMARY)
      WHERE hashtag IN (${placeholders(tags)}) AND lang = '' AND ${counted.sql} AND quarter >= ? AND quarter < ?
      GROUP BY hashtag`,
    [...tags, ...counted.params, span.from, span.to],
  )
}

/** The same from the rows, for the edges of the range (one covering most of its quarter as in countLangRows). */
export function countHashtagRows(sql: Sql, kinds: readonly string[] | undefined, span: RowSpan): Promise<GroupCountRow[]> {
  const rows = rowConditions({ kinds })
  const complement = restOfBucket(span, QUARTER_MS)
  if (complement === null) {
    return sql.rows<GroupCountRow>(
      `SELECT hashtag, '' AS lang, COUNT(*) AS count FROM tweets FORCE INDEX (tweets_by_time)
        WHERE created_at >= ? AND created_at < ?${rows.sql} GROUP BY hashtag`,
      [span.since, span.until, ...rows.params],
    )
  }
  const counted = countedKinds(kinds)
  const rest = withinSpans(complement.rest)
  return sql.rows<GroupCountRow>(
    `SELECT hashtag, '' AS lang, SUM(count) AS count FROM (
       SELECT hashtag, tweets AS count FROM tweet_counts FORCE INDEX (counts_by_time)
        WHERE ${counted.sql} AND quarter = ? AND hashtag <> '' AND lang = ''
       UNION ALL
       SELECT hashtag, -COUNT(*) FROM tweets FORCE INDEX (tweets_by_time) WHERE ${rest.sql}${rows.sql} GROUP BY hashtag
     ) AS parts GROUP BY hashtag HAVING SUM(count) > 0`,
    [...counted.params, complement.bucket, ...rest.params, ...rows.params],
  )
}
