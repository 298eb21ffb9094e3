import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type mysql from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { type CountsRow, compareCounts, countsDisagree, rebuildCountsStatements } from './counts'
import { openConnection } from './session'

/**
 * Applies sql/*.sql, in name order, when the service starts: the same files the MySQL container
 * loads on first boot. A file whose first line says `-- repeatable:` holds only idempotent
 * statements (CREATE … IF NOT EXISTS, INSERT IGNORE) and runs on every start, so a table dropped by
 * hand comes back; every other file runs once, when schema_migrations does not record it yet. Every
 * file but the record's own records itself as its last statement. A named lock serialises replicas
 * that start together, so one of them migrates and the others find the work recorded. A database
 * from before the record existed gets every file.
 */

/** The file that creates the record itself: run first, on every start. */
const RECORD_FILE = '000_migrations.sql'

const repeatable = (file: SqlFile) => file.text.startsWith('-- repeatable:')

/** The name a file is recorded under: its file name without `.sql`. */
export const migrationName = (file: string): string => file.replace(/\.sql$/, '')

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
    const run = async (file: SqlFile) => {
      try {
        await connection.query(file.text)
      } catch (error) {
        throw new Error(`applying sql/${file.name} failed: ${(error as Error).message}`, { cause: error })
      }
    }
    const record = files.find((file) => file.name === RECORD_FILE)
    if (record === undefined) throw new Error(`sql/${RECORD_FILE} is missing`)
    await run(record)
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT name FROM schema_migrations')
    const applied = new Set(rows.map((row) => String(row.name)))
    for (const file of files.filter((file) => file !== record && (repeatable(file) || !applied.has(migrationName(file.name))))) {
      await run(file)
      const [recorded] = await connection.query<mysql.RowDataPacket[]>('SELECT 1 FROM schema_migrations WHERE name = ?', [
        migrationName(file.name),
      ])
      if (recorded.length === 0) throw new Error(`sql/${file.name} did not record itself in schema_migrations`)
    }
    const tables = tablesOf(files)
    const [counts] = await connection.query<CountsRow[]>(compareCounts(tables))
    if (countsDisagree(counts)) {
      onRebuild?.()
      await connection.query(['START TRANSACTION', ...rebuildCountsStatements(tables), 'COMMIT'].join(';\n'))
    }
  } finally {
    await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {})
    await connection.end().catch(() => {})
  }
}
