import type { Row, Sql } from '../../db/sql'

export interface HashtagRow extends Row {
  tag: string
  tweet_count: string
  last_collected_at: string | null
  last_outcome: string | null
}

/** Every tracked hashtag with its tweet count, from the kept counts; LEFT JOIN keeps those without tweets. */
export function findHashtags(sql: Sql): Promise<HashtagRow[]> {
  return sql.rows<HashtagRow>(
    `SELECT h.tag, COALESCE(c.tweets, 0) AS tweet_count, h.last_collected_at, h.last_outcome
       FROM hashtags h
       LEFT JOIN (SELECT hashtag, SUM(tweets) AS tweets FROM hashtag_counts GROUP BY hashtag) AS c ON c.hashtag = h.tag
      ORDER BY h.tag`,
  )
}

/** Stored tweets per tracked hashtag, for the metrics. */
export const storedTweetsPerHashtag = async (sql: Sql) =>
  (await findHashtags(sql)).map((row) => ({ hashtag: row.tag, count: Number(row.tweet_count) }))
