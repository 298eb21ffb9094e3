import type { Row, Sql } from '../../db/database'

export interface HashtagRow extends Row {
  tag: string
  tweet_count: string
  last_collected_at: string | null
  last_outcome: string | null
}

/** Every tracked hashtag with its tweet count; LEFT JOIN keeps those without tweets. */
export function findHashtags(sql: Sql): Promise<HashtagRow[]> {
  return sql.rows<HashtagRow>(
    `SELECT h.tag, COUNT(t.id) AS tweet_count, h.last_collected_at, h.last_outcome
       FROM hashtags h
       LEFT JOIN tweets t ON t.hashtag = h.tag
      GROUP BY h.tag, h.last_collected_at, h.last_outcome
      ORDER BY h.tag`,
  )
}

/** Stored tweets per tracked hashtag, for the metrics. */
export const storedTweetsPerHashtag = async (sql: Sql) =>
  (await findHashtags(sql)).map((row) => ({ hashtag: row.tag, count: Number(row.tweet_count) }))
