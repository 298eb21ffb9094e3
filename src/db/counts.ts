import { BUMP_VERSION } from './data-version'
import type { Database, Row } from './sql'

/**
 * hashtag_counts against the rows it counts. The collector keeps the counts in the same transaction
 * as the rows, so they agree unless something else changed one of the tables: an upgrade from a
 * schema without the counts table (tweets, no counts), a restore of one table, rows deleted by hand.
 * Aggregates read only the counts, so a disagreement would be served as truth: it is looked for
 * whenever the schema is applied (every start of the service and of `bun run collect`, under the
 * schema lock, so replicas starting together rebuild once), and the counts are rebuilt from the rows.
 */

/** Per hashtag: rows stored, and rows and first-seen tweets counted. One row over all hashtags has hashtag NULL. */
export const COMPARE_COUNTS = `
  SELECT r.hashtag, r.stored, COALESCE(c.counted, 0) AS counted
    FROM (SELECT hashtag, COUNT(*) AS stored FROM tweets GROUP BY hashtag) AS r
    LEFT JOIN (SELECT hashtag, SUM(tweets) AS counted FROM hashtag_counts GROUP BY hashtag) AS c ON c.hashtag = r.hashtag
  UNION ALL
  SELECT c.hashtag, 0, c.counted
    FROM (SELECT hashtag, SUM(tweets) AS counted FROM hashtag_counts GROUP BY hashtag) AS c
   WHERE NOT EXISTS (SELECT 1 FROM tweets t WHERE t.hashtag = c.hashtag)
  UNION ALL
  SELECT NULL, (SELECT COUNT(DISTINCT id) FROM tweets), (SELECT COALESCE(SUM(first_seen), 0) FROM hashtag_counts)`

export interface CountsRow extends Row {
  hashtag: string | null
  stored: string | number
  counted: string | number
}

/** True when any hashtag's counted rows, or the tweets counted once, differ from what is stored. */
export const countsDisagree = (rows: CountsRow[]): boolean => rows.some((row) => String(row.stored) !== String(row.counted))

const QUARTER = 'HOUR(t.created_at) * 4 + FLOOR(MINUTE(t.created_at) / 15)'

/**
 * Rebuilds the counts from the rows, to run in one transaction. A tweet's first row is taken to be
 * its row of the smallest hashtag: the totals over hashtags, which are all that first_seen is read
 * for, are the same whichever row it is.
 */
export const REBUILD_COUNTS = [
  'DELETE FROM hashtag_counts',
  `INSERT INTO hashtag_counts (hashtag, lang, quarter, tweets, first_seen)
   SELECT t.hashtag, t.lang, ${QUARTER}, COUNT(*), SUM(t.hashtag = f.hashtag)
     FROM tweets t JOIN (SELECT id, MIN(hashtag) AS hashtag FROM tweets GROUP BY id) AS f ON f.id = t.id
    GROUP BY t.hashtag, t.lang, ${QUARTER}`,
  BUMP_VERSION,
]

/** Rebuilds the counts from the rows in one transaction: for data loaded in bulk (the seed script) and for tests. */
export async function rebuildCounts(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const statement of REBUILD_COUNTS) await tx.run(statement)
  })
}
