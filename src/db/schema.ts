import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type mysql from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { COMPARE_COUNTS, type CountsRow, countsDisagree, REBUILD_COUNTS } from './counts'
import { openConnection } from './session'

/**
 * Applies sql/*.sql, in name order, when the service starts: the same files the MySQL container
 * loads on first boot. Every statement is idempotent, so this is safe on every boot; a named lock
 * serialises replicas that start together, so they never race on the same CREATE.
 */

const SQL_DIR = join(import.meta.dir, '..', '..', 'sql')

interface SqlFile {
  name: string
  text: string
}

export function readSqlFiles(dir = SQL_DIR): SqlFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }))
}

/** Names of the tables the schema files create: what readiness expects to find. */
export const tablesOf = (files: SqlFile[]): string[] =>
  files.flatMap((file) => [...file.text.matchAll(/CREATE TABLE IF NOT EXISTS\s+`?(\w+)`?/gi)].map((m) => m[1]!))

const LOCK_WAIT_SECONDS = 30

/**
 * @param onRebuild told when the counts disagreed with the rows and are being rebuilt (see db/counts.ts).
 */
export async function applySchema(config: MysqlConfig, files = readSqlFiles(), onRebuild?: () => void): Promise<void> {
  // A connection of its own: the schema files hold several statements, and the pool must never
  // accept more than one per call.
  const connection = await openConnection(config, { database: false, multipleStatements: true })
  const lock = `twitter_hashtags.schema.${config.database}`
  try {
    const [[acquired]] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [lock, LOCK_WAIT_SECONDS])
    if (acquired?.got !== 1) throw new Error(`could not take the schema lock ${lock} within ${LOCK_WAIT_SECONDS} s`)
    // Checked first so that a user with rights on its own database only never needs CREATE DATABASE.
    const [existing] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [config.database],
    )
    if (existing.length === 0) {
      await connection.query(
        `CREATE DATABASE IF NOT EXISTS ${connection.escapeId(config.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
      )
    }
    await connection.query(`USE ${connection.escapeId(config.database)}`)
    for (const file of files) {
      try {
        await connection.query(file.text)
      } catch (error) {
        throw new Error(`applying sql/${file.name} failed: ${(error as Error).message}`, { cause: error })
      }
    }
    const [counts] = await connection.query<CountsRow[]>(COMPARE_COUNTS)
    if (countsDisagree(counts)) {
      onRebuild?.()
      await connection.query(['START TRANSACTION', ...REBUILD_COUNTS, 'COMMIT'].join(';\n'))
    }
  } finally {
    await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {})
    await connection.end().catch(() => {})
  }
}
