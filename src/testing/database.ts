import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { loadConfig, type MysqlConfig } from '../config'
import { createDatabase, type Database } from '../db/database'
import { applySchema } from '../db/schema'

/**
 * A throwaway database on the MySQL/MariaDB server the tests are given (MYSQL_URL, or
 * root@127.0.0.1:3306 by default), with the schema applied. `drop()` removes it.
 */
export interface TestDatabase {
  config: MysqlConfig
  db: Database
  /** Runs raw SQL outside the service's pool, for arranging and inspecting data. */
  admin: mysql.Connection
  drop(): Promise<void>
}

export async function createTestDatabase(overrides: Partial<MysqlConfig> = {}): Promise<TestDatabase> {
  const name = `th_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const config: MysqlConfig = { ...loadConfig(process.env).mysql, database: name, ...overrides }
  await applySchema(config)
  const db = createDatabase(config)
  const admin = await mysql.createConnection({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: name,
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
    multipleStatements: true,
  })
  return {
    config,
    db,
    admin,
    async drop() {
      await db.close().catch(() => {})
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(name)}`)
      await admin.end()
    },
  }
}
