import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type mysql from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { clauseInEffect, declaredShape, readShape, type Shape, shapeDifferences } from './catalogue'
import { type CountsRow, compareCounts, countsDisagree, rebuildCountsStatements } from './counts'
import { asUnavailable, DatabaseUnavailableError } from './errors'
import { type Step, statementsOf, stepOf } from './migration-steps'
import { openConnection } from './session'
import type { Row } from './sql'

/**
 * Applies sql/*.sql, in name order, when a process starts: the same files the MySQL container loads
 * on first boot. The files are applied statement by statement so that a start killed between any
 * two of them (OOM, SIGKILL, a failover) leaves a database the next start completes:
 *
 * - every CREATE TABLE IF NOT EXISTS and ALTER TABLE of every file runs at every start, each
 *   ALTER clause only when the catalogue does not show its effect yet; so a step a killed start
 *   made is not made again, and a table dropped and re-created in its first shape gets the later
 *   columns and indexes back;
 * - the data statements (backfills) of a file not recorded in schema_migrations run in one
 *   transaction with the file's record, so the record says exactly whether they ran; those of a
 *   file whose first line says `-- repeatable:` (INSERT IGNORE only) run at every start;
 * - at the end the catalogue is compared with the shape the files declare (columns, types,
 *   nullability, indexes), and a database that does not hold it is refused, naming what differs.
 *
 * A named lock serialises processes that start together: one migrates, the others wait for it
 * (up to `waitMs`) and then find the work done.
 */

/** The file that creates the record itself: run first, on every start. */
const RECORD_FILE = '000_migrations.sql'

/** The name a file is recorded under: its file name without `.sql`. */
export const migrationName = (file: string): string => file.replace(/\.sql$/, '')

const SQL_DIR = join(import.meta.dir, '..', '..', 'sql')

export interface SqlFile {
  name: string
  text: string
  /** Its statements as steps (see migration-steps.ts). */
  steps: Step[]
  repeatable: boolean
}

/** The schema files, each split into steps; a statement that could not be applied again safely is refused here. */
export function readSqlFiles(dir = SQL_DIR): SqlFile[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => {
      const text = readFileSync(join(dir, name), 'utf8')
      const steps = statementsOf(text).map((sql, i) => {
        try {
          return stepOf(sql)
        } catch (error) {
          throw new Error(`sql/${name}, statement ${i + 1}: ${(error as Error).message}`)
        }
      })
      return { name, text, steps, repeatable: text.startsWith('-- repeatable:') }
    })
}

/** The shape of the tables the files declare: what a process checks the database against. */
export const schemaShape = (files: readonly SqlFile[]): Shape => declaredShape(files.flatMap((file) => file.steps))

/** Names of the tables the schema files create: what readiness expects to find. */
export const tablesOf = (files: readonly SqlFile[]): string[] => [...schemaShape(files).keys()]

/**
 * The schema cannot be applied, and waiting will not change that: a statement the server refused,
 * or a database whose tables do not hold the declared shape. `code` is the server's error code, or
 * SCHEMA_MISMATCH.
 */
export class SchemaError extends Error {
  override name = 'SchemaError'
  constructor(
    message: string,
    readonly code: string,
    readonly file: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** Another process held the schema lock for longer than a start waits: not an unreachable database, not retried. */
export class SchemaWaitError extends Error {
  override name = 'SchemaWaitError'
}

/** What a start is doing, for its log and its readiness. */
export type SchemaProgress =
  | { phase: 'waiting'; waitedMs: number }
  | {
      phase: 'statement'
      file: string
      /** The statement (from 1), the first of a data transaction. */
      statement: number
      statements: number
      kind: Step['kind']
      /** What runs at every start and changes nothing once done: CREATE … IF NOT EXISTS, a repeatable file's data. */
      routine: boolean
    }
  | { phase: 'counts' }

export interface ApplyOptions {
  /**
   * Told before each statement that runs (a CREATE IF NOT EXISTS, the clauses of an ALTER the
   * catalogue lacks, a data transaction), before a counts rebuild, and while waiting for the lock.
   */
  onProgress?: (progress: SchemaProgress) => void
  /** How long to wait for another process that holds the schema lock (it is migrating). */
  waitMs?: number
}

/** Seconds of one GET_LOCK call: the wait is made of such calls, each followed by a progress report. */
const LOCK_POLL_SECONDS = 5
const DEFAULT_WAIT_MS = 30_000

export async function applySchema(config: MysqlConfig, files = readSqlFiles(), options: ApplyOptions = {}): Promise<void> {
  // A connection of its own, held from the lock to its release: the named lock belongs to it.
  const connection = await openConnection(config, { database: false })
  const lock = `twitter_hashtags.schema.${config.database}`
  try {
    await takeLock(connection, lock, options)
    // Checked first so that a user with rights on its own database only never needs CREATE DATABASE.
    const [existing] = (await statement(
      connection,
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [config.database],
      null,
    )) as [Row[], unknown]
    if (existing.length === 0) {
      await statement(
        connection,
        `CREATE DATABASE IF NOT EXISTS ${connection.escapeId(config.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        [],
        null,
      )
    }
    await statement(connection, `USE ${connection.escapeId(config.database)}`, [], null)
    const record = files.find((file) => file.name === RECORD_FILE)
    if (record === undefined) throw new SchemaError(`sql/${RECORD_FILE} is missing`, 'SCHEMA_FILES')
    await applyFile(connection, record, true, options)
    const [rows] = await statement(connection, 'SELECT name FROM schema_migrations', [], RECORD_FILE)
    const applied = new Set((rows as Row[]).map((row) => String(row.name)))
    for (const file of files) {
      if (file !== record) await applyFile(connection, file, file.repeatable || !applied.has(migrationName(file.name)), options)
    }
    const declared = schemaShape(files)
    const tables = [...declared.keys()]
    const [counts] = (await statement(connection, compareCounts(tables), [], null)) as [CountsRow[], unknown]
    if (countsDisagree(counts)) {
      options.onProgress?.({ phase: 'counts' })
      await inTransaction(connection, rebuildCountsStatements(tables), null)
    }
    const differences = shapeDifferences(declared, await readShape(sqlOf(connection)))
    if (differences.length > 0) {
      throw new SchemaError(
        `the database does not hold the schema the service expects: ${differences.join('; ')}`,
        'SCHEMA_MISMATCH',
      )
    }
  } finally {
    await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {})
    await connection.end().catch(() => {})
  }
}

/** Takes the schema lock, reporting the wait while another process holds it, for at most `waitMs`. */
async function takeLock(connection: mysql.Connection, lock: string, options: ApplyOptions): Promise<void> {
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS
  const started = performance.now()
  for (;;) {
    const waitedMs = performance.now() - started
    const seconds = Math.max(1, Math.min(LOCK_POLL_SECONDS, Math.ceil((waitMs - waitedMs) / 1000)))
    const [[acquired]] = (await statement(connection, 'SELECT GET_LOCK(?, ?) AS got', [lock, seconds], null)) as [Row[], unknown]
    if (acquired?.got === 1) return
    const waited = performance.now() - started
    if (waited >= waitMs) {
      throw new SchemaWaitError(
        `another process held the schema lock ${lock} (migrating) for longer than ${Math.round(waitMs / 1000)} s (SCHEMA_WAIT_TIMEOUT)`,
      )
    }
    options.onProgress?.({ phase: 'waiting', waitedMs: Math.round(waited) })
  }
}

/**
 * One file: its CREATE and ALTER steps, each only as far as the catalogue lacks it; with `withData`,
 * its data steps, in one transaction per run of consecutive ones (DDL commits by itself between).
 */
async function applyFile(connection: mysql.Connection, file: SqlFile, withData: boolean, options: ApplyOptions) {
  const total = file.steps.length
  let pending: { sql: string; index: number }[] = []
  const flush = async () => {
    if (pending.length === 0) return
    report(options, file, pending[0]!.index, total, 'data', file.repeatable)
    await inTransaction(
      connection,
      pending.map((p) => p.sql),
      file.name,
    )
    pending = []
  }
  for (const [index, step] of file.steps.entries()) {
    if (step.kind === 'data') {
      if (withData) pending.push({ sql: step.sql, index })
      continue
    }
    await flush()
    if (step.kind === 'create') {
      report(options, file, index, total, 'create', true)
      await statement(connection, step.sql, [], file.name)
      continue
    }
    const shape = await readShape(sqlOf(connection))
    const missing = step.clauses.filter((clause) => !clauseInEffect(shape.get(step.table), clause))
    if (missing.length === 0) continue
    report(options, file, index, total, 'alter', false)
    const sql = `ALTER TABLE ${connection.escapeId(step.table)} ${missing.map((clause) => clause.text).join(', ')}`
    await statement(connection, sql, [], file.name)
  }
  await flush()
}

function report(options: ApplyOptions, file: SqlFile, index: number, total: number, kind: Step['kind'], routine: boolean) {
  options.onProgress?.({ phase: 'statement', file: file.name, statement: index + 1, statements: total, kind, routine })
}

async function inTransaction(connection: mysql.Connection, statements: string[], file: string | null) {
  await statement(connection, 'START TRANSACTION', [], file)
  try {
    for (const sql of statements) await statement(connection, sql, [], file)
    await statement(connection, 'COMMIT', [], file)
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/**
 * One statement; a refusal by the server becomes a SchemaError naming the file and the server's
 * code, a lost or refused connection stays an unavailable database (worth waiting for).
 */
async function statement(connection: mysql.Connection, sql: string, params: unknown[], file: string | null) {
  try {
    return await connection.query(sql, params)
  } catch (error) {
    const unavailable = asUnavailable(error)
    if (unavailable instanceof DatabaseUnavailableError) throw unavailable
    const { code, errno } = error as { code?: unknown; errno?: unknown }
    const name = typeof code === 'string' ? code : 'ERROR'
    const where = file === null ? 'preparing the schema' : `sql/${file}`
    throw new SchemaError(`${where} failed: ${name}${typeof errno === 'number' ? ` (${errno})` : ''}`, name, file, {
      cause: error,
    })
  }
}

/** The connection as the catalogue reader's `rows`. */
const sqlOf = (connection: mysql.Connection) => ({
  rows: async <T extends Row>(sql: string) => (await statement(connection, sql, [], null))[0] as T[],
})
