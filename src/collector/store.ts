import type { Database, Param, Row, Sql } from '../db/database'
import type { ParsedPage } from './page'

/**
 * The collector's SQL. A page is written in one transaction with multi-row statements, so it lands
 * whole or not at all, and writing it again changes nothing.
 */

export interface PageCounts {
  /** (tweet, hashtag) rows this page added. */
  newRows: number
  /** Tweets of the page not stored before under any hashtag. */
  newTweets: number
  /** Tweets of the page already stored. */
  knownTweets: number
  users: number
}

/** Makes sure every tracked hashtag has its row: /hashtags/all lists them before their first tweet. */
export async function registerHashtags(sql: Sql, tags: string[]): Promise<void> {
  if (tags.length === 0) return
  // IGNORE is safe here: the only possible conflict is the tag already being there.
  await sql.run(`INSERT IGNORE INTO hashtags (tag) VALUES ${tags.map(() => '(?)').join(', ')}`, tags)
}

const placeholders = (rows: number, columns: number) =>
  Array.from({ length: rows }, () => `(${Array.from({ length: columns }, () => '?').join(', ')})`).join(', ')

async function upsertUsers(tx: Sql, page: ParsedPage): Promise<void> {
  if (page.users.length === 0) return
  await tx.run(
    `INSERT INTO users (id, username, name, followers_count, updated_at)
     VALUES ${page.users.map(() => '(?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ')}
     ON DUPLICATE KEY UPDATE username = VALUES(username), name = VALUES(name),
       followers_count = VALUES(followers_count), updated_at = VALUES(updated_at)`,
    page.users.flatMap((user) => [user.id, user.username, user.name, user.followersCount]),
  )
}

interface KeyRow extends Row {
  id: string
  hashtag: string
}

/** The (tweet, hashtag) rows of the page that are not stored yet; read first so that counts are exact. */
async function newRowsOf(tx: Sql, page: ParsedPage): Promise<{ rows: Param[][]; known: Set<string> }> {
  const ids = page.tweets.map((tweet) => tweet.id)
  const existing =
    ids.length === 0
      ? []
      : await tx.rows<KeyRow>(
          `SELECT id, hashtag FROM tweets WHERE id IN (${ids.map(() => 'CAST(? AS UNSIGNED)').join(', ')})`,
          ids,
          {
            prepared: false,
          },
        )
  const stored = new Set(existing.map((row) => `${row.id}|${row.hashtag}`))
  const known = new Set(existing.map((row) => row.id))
  const rows = page.tweets.flatMap((tweet) =>
    tweet.hashtags
      .filter((tag) => !stored.has(`${tweet.id}|${tag}`))
      .map((tag): Param[] => [tweet.id, tag, tweet.authorId, tweet.lang, tweet.text, tweet.createdAt]),
  )
  return { rows, known }
}

/** Stores one page and the hashtag's progress in one transaction. */
export async function storePage(db: Database, tag: string, page: ParsedPage, resultCountSoFar: number): Promise<PageCounts> {
  return db.transaction(async (tx) => {
    await upsertUsers(tx, page)
    const { rows, known } = await newRowsOf(tx, page)
    if (rows.length > 0) {
      // ON DUPLICATE KEY (not INSERT IGNORE, which would also hide foreign-key and truncation errors).
      await tx.run(
        `INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at) VALUES ${placeholders(rows.length, 6)}
         ON DUPLICATE KEY UPDATE id = id`,
        rows.flat(),
      )
    }
    await tx.run(
      `UPDATE hashtags SET last_collected_at = UTC_TIMESTAMP(3), last_result_count = ?, last_outcome = 'in_progress' WHERE tag = ?`,
      [resultCountSoFar, tag],
    )
    return {
      newRows: rows.length,
      newTweets: page.tweets.filter((tweet) => !known.has(tweet.id)).length,
      knownTweets: page.tweets.filter((tweet) => known.has(tweet.id)).length,
      users: page.users.length,
    }
  })
}

/** Records how the hashtag's collection ended; `newestId` (its next since_id) only moves forward. */
export async function finishHashtag(
  sql: Sql,
  tag: string,
  outcome: string,
  resultCount: number,
  newestId: string | null,
): Promise<void> {
  const success = outcome === 'ok' || outcome === 'truncated'
  await sql.run(
    `UPDATE hashtags
        SET last_outcome = ?, last_result_count = ?, last_collected_at = UTC_TIMESTAMP(3),
            last_success_at = IF(?, UTC_TIMESTAMP(3), last_success_at),
            newest_id = IF(? IS NULL, newest_id, GREATEST(COALESCE(newest_id, 0), CAST(? AS UNSIGNED)))
      WHERE tag = ?`,
    [outcome, resultCount, success ? 1 : 0, newestId, newestId, tag],
  )
}

/** Drops a since_id the API refused (older than its window): the next request goes without one. */
export async function dropSinceId(sql: Sql, tag: string): Promise<void> {
  await sql.run('UPDATE hashtags SET newest_id = NULL WHERE tag = ?', [tag])
}

interface StateRow extends Row {
  newest_id: string | null
}

export async function sinceIdOf(sql: Sql, tag: string): Promise<string | null> {
  const [row] = await sql.rows<StateRow>('SELECT newest_id FROM hashtags WHERE tag = ?', [tag])
  return row?.newest_id ?? null
}
