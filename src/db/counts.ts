import { BUMP_VERSION } from './data-version'
import type { Database, Row } from './sql'

/**
 * The counts tables (hashtag_counts, tweet_counts, related_counts) against the rows they count. The collector keeps the counts in the same transaction
 * as the rows, so they agree unless something else changed one of the tables: an upgrade from a
 * schema without the counts table (tweets, no counts), a restore of one table, rows deleted by hand.
 * Aggregates read only the counts, so a disagreement would be served as truth: it is looked for
 * whenever the schema is applied (every start of the service and of `bun run collect`, under the
 * schema lock, so replicas starting together rebuild once), and the counts are rebuilt from the rows.
 */

/** Quarter hour of the day (0-95), UTC, of hashtag_counts. */
const QUARTER = 'HOUR(t.created_at) * 4 + FLOOR(MINUTE(t.created_at) / 15)'
/** The buckets of domain/buckets.ts, in SQL: independent of the session's time zone. */
const EPOCH_QUARTER = "TIMESTAMPDIFF(MINUTE, '1970-01-01 00:00:00', t.created_at) DIV 15"
const EPOCH_HOUR = "TIMESTAMPDIFF(HOUR, '1970-01-01 00:00:00', t.created_at)"
/** The rows of tweet_counts for one hashtag (or every tweet once), language and kind: the sums are made from them. */
const DETAILED = "lang <> '' AND kind <> ''"
/** Each tweet's first row, taken to be its row of the smallest hashtag: the totals over hashtags are the same whichever row it is. */
const FIRST_ROWS =
  'JOIN (SELECT id, MIN(hashtag) AS hashtag FROM tweets GROUP BY id) AS f ON f.id = t.id AND f.hashtag = t.hashtag'

interface CountsTable {
  /**
   * SELECTs of (hashtag, stored, counted): per hashtag, rows stored against rows counted; with
   * hashtag NULL, totals (tweets counted once, sums against the rows they sum).
   */
  compare: string[]
  /** Statements that rebuild the table from the rows, in one transaction. */
  rebuild: string[]
}

/** Every counts table, by name: each schema compares and rebuilds the ones it has. */
const COUNTS_TABLES: Record<string, CountsTable> = {
  hashtag_counts: {
    compare: [
      `SELECT r.hashtag, r.stored, COALESCE(c.counted, 0) AS counted
         FROM (SELECT hashtag, COUNT(*) AS stored FROM tweets GROUP BY hashtag) AS r
         LEFT JOIN (SELECT hashtag, SUM(tweets) AS counted FROM hashtag_counts GROUP BY hashtag) AS c ON c.hashtag = r.hashtag`,
      `SELECT c.hashtag, 0, c.counted
         FROM (SELECT hashtag, SUM(tweets) AS counted FROM hashtag_counts GROUP BY hashtag) AS c
        WHERE NOT EXISTS (SELECT 1 FROM tweets t WHERE t.hashtag = c.hashtag)`,
      'SELECT NULL, (SELECT COUNT(DISTINCT id) FROM tweets), (SELECT COALESCE(SUM(first_seen), 0) FROM hashtag_counts)',
    ],
    rebuild: [
      'DELETE FROM hashtag_counts',
      `INSERT INTO hashtag_counts (hashtag, lang, quarter, tweets, first_seen)
       SELECT t.hashtag, t.lang, ${QUARTER}, COUNT(*), SUM(t.hashtag = f.hashtag)
         FROM tweets t JOIN (SELECT id, MIN(hashtag) AS hashtag FROM tweets GROUP BY id) AS f ON f.id = t.id
        GROUP BY t.hashtag, t.lang, ${QUARTER}`,
    ],
  },
  tweet_counts: {
    compare: [
      `SELECT r.hashtag, r.stored, COALESCE(c.counted, 0) AS counted
         FROM (SELECT hashtag, COUNT(*) AS stored FROM tweets GROUP BY hashtag) AS r
         LEFT JOIN (SELECT hashtag, SUM(tweets) AS counted FROM tweet_counts WHERE lang = '' AND kind = '' GROUP BY hashtag) AS c
           ON c.hashtag = r.hashtag`,
      `SELECT NULL, (SELECT COUNT(DISTINCT id) FROM tweets),
              (SELECT COALESCE(SUM(tweets), 0) FROM tweet_counts WHERE hashtag = '' AND lang = '' AND kind = '')`,
      `SELECT NULL, (SELECT COALESCE(SUM(tweets), 0) FROM tweet_counts WHERE ${DETAILED}) * 3,
              (SELECT COALESCE(SUM(tweets), 0) FROM tweet_counts WHERE NOT (${DETAILED}))`,
    ],
    rebuild: [
      'DELETE FROM tweet_counts',
      `INSERT INTO tweet_counts (hashtag, lang, kind, quarter, tweets)
       SELECT t.hashtag, t.lang, t.kind, ${EPOCH_QUARTER}, COUNT(*) FROM tweets t GROUP BY t.hashtag, t.lang, t.kind, ${EPOCH_QUARTER}`,
      `INSERT INTO tweet_counts (hashtag, lang, kind, quarter, tweets)
       SELECT '', t.lang, t.kind, ${EPOCH_QUARTER}, COUNT(*) FROM tweets t ${FIRST_ROWS} GROUP BY t.lang, t.kind, ${EPOCH_QUARTER}`,
      // The sums, from the detailed rows (all selected before the first sum is written).
      `INSERT INTO tweet_counts (hashtag, lang, kind, quarter, tweets)
       SELECT hashtag, lang, '', quarter, SUM(tweets) FROM (SELECT * FROM tweet_counts WHERE ${DETAILED}) AS d GROUP BY hashtag, lang, quarter
       UNION ALL
       SELECT hashtag, '', kind, quarter, SUM(tweets) FROM (SELECT * FROM tweet_counts WHERE ${DETAILED}) AS d GROUP BY hashtag, kind, quarter
       UNION ALL
       SELECT hashtag, '', '', quarter, SUM(tweets) FROM (SELECT * FROM tweet_counts WHERE ${DETAILED}) AS d GROUP BY hashtag, quarter`,
    ],
  },
  related_counts: {
    compare: [
      `SELECT NULL AS hashtag, (SELECT COUNT(*) FROM tweets t JOIN tweet_hashtags g ON g.id = t.id AND g.tag <> t.hashtag) AS stored,
              (SELECT COALESCE(SUM(tweets), 0) FROM related_counts) AS counted`,
    ],
    rebuild: [
      'DELETE FROM related_counts',
      `INSERT INTO related_counts (hashtag, hour, related, tweets)
       SELECT t.hashtag, ${EPOCH_HOUR}, g.tag, COUNT(*)
         FROM tweets t JOIN tweet_hashtags g ON g.id = t.id AND g.tag <> t.hashtag
        GROUP BY t.hashtag, ${EPOCH_HOUR}, g.tag`,
    ],
  },
}

const countsTablesIn = (tables: readonly string[]) => Object.keys(COUNTS_TABLES).filter((name) => tables.includes(name))

/** The comparison of the counts tables among `tables` with the rows: rows of (hashtag, stored, counted). */
export const compareCounts = (tables: readonly string[]): string =>
  countsTablesIn(tables)
    .flatMap((name) => COUNTS_TABLES[name]!.compare)
    .join('\nUNION ALL\n')

export interface CountsRow extends Row {
  hashtag: string | null
  stored: string | number
  counted: string | number
}

/** True when any hashtag's counted rows, or any total, differ from what is stored. */
export const countsDisagree = (rows: CountsRow[]): boolean => rows.some((row) => String(row.stored) !== String(row.counted))

/** Rebuilds the counts tables among `tables` from the rows, to run in one transaction, with a new data version. */
export const rebuildCountsStatements = (tables: readonly string[]): string[] => [
  ...countsTablesIn(tables).flatMap((name) => COUNTS_TABLES[name]!.rebuild),
  BUMP_VERSION,
]

/** Rebuilds the counts from the rows in one transaction: for data loaded in bulk (the seed script) and for tests. */
export async function rebuildCounts(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const statement of rebuildCountsStatements(Object.keys(COUNTS_TABLES))) await tx.run(statement)
  })
}
