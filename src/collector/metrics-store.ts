import { BUMP_VERSION } from '../db/data-version'
import { LockLostError, stillHeld } from '../db/lock'
import type { Database, Row, Sql, Statement } from '../db/sql'
import type { Clock } from '../domain/clock'
import { engagementOf } from '../domain/engagement'
import { toMysqlUtc } from '../domain/time'
import type { MetricsRecord } from './page'

/**
 * The SQL of the metrics refresh (refresh.ts): which stored tweets to measure again, and writing what
 * a lookup answered into tweet_metrics. The search's own metrics are written with its page (store.ts).
 */

interface IdRow extends Row {
  id: string
}

/**
 * Ids of stored tweets created at or after `createdAfter` (a UTC DATETIME literal), least recently
 * measured first: those never measured (no tweet_metrics row) before all others, then by the age of
 * their last measure; ties oldest tweet first, the nearest to leaving the window. Each id once,
 * whatever number of hashtags it is stored under. With `measuredBefore`, tweets measured at or after
 * it are left out: the search of the same run has just read them, and a lookup would be paid twice.
 */
export async function tweetsToRefresh(
  sql: Sql,
  createdAfter: string,
  limit: number,
  measuredBefore: string | null = null,
): Promise<string[]> {
  if (limit <= 0) return []
  const rows = await sql.rows<IdRow>(
    `SELECT DISTINCT t.id, m.updated_at
       FROM tweets t LEFT JOIN tweet_metrics m ON m.id = t.id
      WHERE t.created_at >= ? AND (? IS NULL OR m.updated_at IS NULL OR m.updated_at < ?)
      ORDER BY m.updated_at IS NOT NULL, m.updated_at, t.id
      LIMIT ?`,
    [createdAfter, measuredBefore, measuredBefore, limit],
  )
  return rows.map((row) => row.id)
}

export interface MetricsUpdate {
  id: string
  metrics: MetricsRecord
}

interface FactsRow extends Row {
  id: string
  created_at: string
  lang: string
  kind: string
}

/**
 * Writes one lookup answer's metrics in one transaction, with the tweet's own facts (created_at,
 * lang, kind) copied from its stored row; tweets not stored (any more) are left out. Every written
 * row's updated_at moves to now, which the API shows, so the data version moves whenever a row is
 * written. With `fence`, the lock's check runs in the transaction and a run that lost the lock
 * writes nothing. Returns how many tweets were written.
 */
export async function storeMetrics(db: Database, updates: MetricsUpdate[], clock: Clock, fence?: Statement): Promise<number> {
  if (updates.length === 0) return 0
  const byId = new Map(updates.map((update) => [update.id, update.metrics]))
  return db.transaction(async (tx) => {
    const facts: Statement = {
      // Every row of a tweet carries the same facts; MIN picks one of them per id.
      sql: `SELECT id, MIN(created_at) AS created_at, MIN(lang) AS lang, MIN(kind) AS kind FROM tweets
             WHERE id IN (${[...byId.keys()].map(() => 'CAST(? AS UNSIGNED)').join(', ')}) GROUP BY id`,
      params: [...byId.keys()],
    }
    const results = await tx.batch(fence === undefined ? [facts] : [fence, facts])
    if (fence !== undefined && !stillHeld(results[0])) throw new LockLostError('another session holds it now')
    const stored = results.at(-1) as FactsRow[]
    if (stored.length === 0) return 0
    const now = toMysqlUtc(new Date(clock()).toISOString())
    await tx.batch(
      [
        {
          sql: `INSERT INTO tweet_metrics (id, created_at, lang, kind, likes, retweets, replies, quotes, impressions, engagement, updated_at)
                VALUES ?
                ON DUPLICATE KEY UPDATE created_at = VALUES(created_at), lang = VALUES(lang), kind = VALUES(kind),
                  likes = VALUES(likes), retweets = VALUES(retweets), replies = VALUES(replies), quotes = VALUES(quotes),
                  impressions = VALUES(impressions), engagement = VALUES(engagement), updated_at = VALUES(updated_at)`,
          params: [
            stored.map((row) => {
              const m = byId.get(row.id)!
              return [
                row.id,
                row.created_at,
                row.lang,
                row.kind,
                m.likes,
                m.retweets,
                m.replies,
                m.quotes,
                m.impressions,
                engagementOf(m),
                now,
              ]
            }),
          ],
        },
        { sql: BUMP_VERSION },
      ],
      { commit: true },
    )
    return stored.length
  })
}
