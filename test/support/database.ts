import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { loadConfig, type MysqlConfig } from '../../src/config'
import { createDatabase } from '../../src/db/database'
import { applySchema } from '../../src/db/schema'
import { connectionOptions } from '../../src/db/session'
import type { Database } from '../../src/db/sql'
import { createWriterPool } from '../../src/root'

/**
 * A throwaway database on the MySQL/MariaDB server the tests are given (MYSQL_URL, or
 * root@127.0.0.1:3306 by default), with the schema applied. `drop()` removes it.
 */
export interface TestDatabase {
  config: MysqlConfig
  db: Database
  /** The collector's pool: the same database, batches allowed. */
  writer: Database
  /** Runs raw SQL outside the service's pool, for arranging and inspecting data. */
  admin: mysql.Connection
  drop(): Promise<void>
}

/** Databases left by test processes that died before dropping them (their pid is in the name). */
async function dropAbandoned(config: MysqlConfig): Promise<void> {
  const connection = await mysql.createConnection(connectionOptions(config))
  try {
    const [rows] = (await connection.query(
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'th\\_test\\_%'",
    )) as any
    for (const { name } of rows as { name: string }[]) {
      const pid = Number(/^th_test_(?:[a-z]+_)?(\d+)_/.exec(name)?.[1])
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue
      await connection.query(`DROP DATABASE IF EXISTS ${connection.escapeId(name)}`)
    }
  } finally {
    await connection.end()
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

let cleaned = false

export async function createTestDatabase(overrides: Partial<MysqlConfig> = {}): Promise<TestDatabase> {
  const name = `th_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const config: MysqlConfig = { ...loadConfig(process.env).mysql, database: name, ...overrides }
  if (!cleaned) {
    cleaned = true
    await dropAbandoned(config)
  }
  await applySchema(config)
  const db = createDatabase(config)
  const writer = createWriterPool(config)
  const admin = await mysql.createConnection({
    ...connectionOptions(config),
    database: name,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
    multipleStatements: true,
  })
  return {
    config,
    db,
    writer,
    admin,
    async drop() {
      await db.close().catch(() => {})
      await writer.close().catch(() => {})
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(name)}`)
      await admin.end()
    },
  }
}
