import type { Row, Sql } from './database'

/**
 * The version of the stored data (table data_version, one row). Writers bump it inside the
 * transaction that changes what the API shows; readers compare it to decide whether a cached answer
 * still holds. It lives in the database, so every replica sees the same one.
 */

export const BUMP_VERSION = 'UPDATE data_version SET version = version + 1 WHERE id = 1'

export async function bumpVersion(tx: Sql): Promise<void> {
  await tx.run(BUMP_VERSION)
}

export async function readVersion(sql: Sql): Promise<string> {
  const [row] = await sql.rows<Row & { version: string }>('SELECT version FROM data_version WHERE id = 1')
  return row?.version ?? '0'
}
