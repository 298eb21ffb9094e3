import type { Row, Sql } from './database'

/**
 * The version of the stored data (table data_version, one row). Writers bump it inside the
 * transaction that changes what the API shows; readers compare it to decide whether a cached answer
 * still holds, and it is the first part of every ETag. It lives in the database, so every replica
 * sees the same one.
 *
 * ETags must never repeat across data that differs, so a version is never handed out twice: a new
 * row starts at a random point of a 62-bit range, not at 1 (a database dropped and created again
 * does not count 1, 2, 3 … a second time), and a bump re-creates a deleted row instead of updating
 * nothing for ever.
 */

const RANDOM_START = 'FLOOR(RAND() * 4611686018427387904)'

export const BUMP_VERSION = `INSERT INTO data_version (id, version) VALUES (1, ${RANDOM_START}) ON DUPLICATE KEY UPDATE version = version + 1`

export async function bumpVersion(tx: Sql): Promise<void> {
  await tx.run(BUMP_VERSION)
}

/**
 * The current version. Without the row (deleted by hand) nothing can be cached: every read is a
 * version of its own, until the next write re-creates the row.
 */
export async function readVersion(sql: Sql): Promise<string> {
  const [row] = await sql.rows<Row & { version: string }>('SELECT version FROM data_version WHERE id = 1')
  return row?.version ?? `none.${crypto.randomUUID()}`
}
