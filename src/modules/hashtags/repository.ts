import { COLLECTOR_LOCK_PREFIX } from '../../db/lock'
import type { Row, Sql } from '../../db/sql'
import { HOUR_MS } from '../../domain/buckets'
import { restOfBucket, withinSpans } from '../counts/repository'

export interface HashtagRow extends Row {
  tag: string
  tweet_count: string
  last_collected_at: string | null
  last_outcome: string | null
}

/**
 * Every tracked hashtag with its tweet count, from the kept counts; LEFT JOIN keeps those without
 * tweets. With `running` false (no process holds the collector lock), an outcome left in_progress is
 * one a killed run never recorded: it is read as interrupted.
 */
export function findHashtags(sql: Sql, running = true): Promise<HashtagRow[]> {
  return sql.rows<HashtagRow>(
    `SELECT h.tag, COALESCE(c.tweets, 0) AS tweet_count, h.last_collected_at,
            IF(h.last_outcome = 'in_progress' AND NOT ?, 'interrupted', h.last_outcome) AS last_outcome
       FROM hashtags h
       LEFT JOIN (SELECT hashtag, SUM(tweets) AS tweets FROM hashtag_counts GROUP BY hashtag) AS c ON c.hashtag = h.tag
      ORDER BY h.tag`,
    [running ? 1 : 0],
  )
}

/** Whether a process holds this database's collector lock: a collection is running. */
export async function collectionRunning(sql: Sql): Promise<boolean> {
  const [row] = await sql.rows<Row>('SELECT IS_USED_LOCK(CONCAT(?, DATABASE())) IS NOT NULL AS running', [COLLECTOR_LOCK_PREFIX])
  return Number(row?.running) === 1
}

/** Stored tweets per tracked hashtag, for the metrics. */
export const storedTweetsPerHashtag = async (sql: Sql) =>
  (await findHashtags(sql)).map((row) => ({ hashtag: row.tag, count: Number(row.tweet_count) }))

export function isTracked(sql: Sql, tag: string): Promise<Row[]> {
  return sql.rows('SELECT 1 FROM hashtags WHERE tag = ?', [tag])
}

export interface RelatedRow extends Row {
  related: string
  count: string
}

/** The other hashtags of the tweets under `tag`, per whole hour [from, to), from related_counts. */
export function countRelatedHours(sql: Sql, tag: string, span: { from: number; to: number }): Promise<RelatedRow[]> {
  return sql.rows<RelatedRow>(
    'SELECT related, SUM(tweets) AS count FROM related_counts WHERE hashtag = ? AND hour >= ? AND hour < ? GROUP BY related',
    [tag, span.from, span.to],
  )
}

/**
 * The same from the rows, for the edges of a range (DATETIME literals); an edge covering most of its
 * hour as the hour's kept counts minus the rows of the rest of it (see restOfBucket).
 */
export function countRelatedRows(sql: Sql, tag: string, span: { since: string; until: string }): Promise<RelatedRow[]> {
  const complement = restOfBucket(span, HOUR_MS)
  if (complement === null) {
    return sql.rows<RelatedRow>(
      `SELECT g.tag AS related, COUNT(*) AS count
         FROM tweets t FORCE INDEX (tweets_by_hashtag_time)
         JOIN tweet_hashtags g ON g.id = t.id AND g.tag <> t.hashtag
        WHERE t.hashtag = ? AND t.created_at >= ? AND t.created_at < ?
        GROUP BY g.tag`,
      [tag, span.since, span.until],
    )
  }
  const rest = withinSpans(complement.rest, 't')
  return sql.rows<RelatedRow>(
    `SELECT related, SUM(count) AS count FROM (
       SELECT related, tweets AS count FROM related_counts WHERE hashtag = ? AND hour = ?
       UNION ALL
       SELECT g.tag, -COUNT(*)
         FROM tweets t FORCE INDEX (tweets_by_hashtag_time)
         JOIN tweet_hashtags g ON g.id = t.id AND g.tag <> t.hashtag
        WHERE t.hashtag = ? AND ${rest.sql}
        GROUP BY g.tag
     ) AS parts GROUP BY related HAVING SUM(count) > 0`,
    [tag, complement.bucket, tag, ...rest.params],
  )
}
