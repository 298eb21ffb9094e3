import mysql from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { asUnavailable, UnsafeSessionError } from './errors'

/**
 * What every connection of ours is: the server, the account, utf8mb4, and a session whose SQL mode
 * and time zone are set and checked before it carries any value.
 */

/** What every connection of ours shares: the server, the account, utf8mb4 and the connect timeout. */
export const connectionOptions = (config: MysqlConfig) => ({
  host: config.host,
  port: config.port,
  user: config.user,
  password: config.password,
  charset: 'utf8mb4_unicode_ci',
  connectTimeout: config.connectTimeoutMs,
})

/**
 * The SQL mode every session of ours runs in, whatever the server's default. mysql2 escapes values
 * on the client with backslashes (text protocol, statement batches): a server whose sql_mode has
 * NO_BACKSLASH_ESCAPES would read `\'` in a tweet as the end of a string and run the rest as SQL, and
 * ANSI_QUOTES would turn "…" into identifiers. Strict mode makes a value that does not fit an error
 * instead of a silent truncation. MySQL 8.4's default minus ONLY_FULL_GROUP_BY, which MariaDB lacks.
 */
export const SESSION_SQL_MODE =
  'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'

/** Modes under which client-side escaping or our quoting would change meaning. */
const UNSAFE_MODES = ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES']

/** The part of a mysql2 connection (promise or callback API) that session setup needs. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>
}

/**
 * Sets the session's SQL mode and time zone, then reads them back: a proxy or an init_connect that
 * rewrites session variables would otherwise leave us escaping for a mode the server does not use.
 * Throws (and the caller drops the connection) when the mode did not take.
 */
export async function prepareSession(connection: Queryable, statementTimeoutMs?: number): Promise<void> {
  await connection.query("SET SESSION sql_mode = ?, time_zone = '+00:00'", [SESSION_SQL_MODE])
  const [rows] = (await connection.query('SELECT @@SESSION.sql_mode AS mode')) as [{ mode: string }[]]
  const modes = String(rows[0]?.mode ?? '').split(',')
  const unsafe = UNSAFE_MODES.filter((mode) => modes.includes(mode))
  if (unsafe.length > 0) throw new UnsafeSessionError(unsafe)
  if (statementTimeoutMs !== undefined) await limitStatementTime(connection, statementTimeoutMs)
}

/**
 * MariaDB's max_statement_time (seconds, any statement), else MySQL's max_execution_time (ms,
 * SELECTs only). 1193 (unknown system variable) tells the two apart.
 */
async function limitStatementTime(connection: Queryable, ms: number): Promise<void> {
  try {
    await connection.query(`SET SESSION max_statement_time = ${ms / 1000}`)
  } catch (error) {
    if ((error as { errno?: number }).errno !== 1193) throw error
    await connection.query(`SET SESSION max_execution_time = ${Math.round(ms)}`)
  }
}

/**
 * A connection of its own (not pooled), prepared like the pool's: for the named locks, which belong
 * to one connection, and for the schema files, which hold several statements.
 */
export async function openConnection(
  config: MysqlConfig,
  options: { database?: boolean; multipleStatements?: boolean } = {},
): Promise<mysql.Connection> {
  const connection = await mysql
    .createConnection({
      ...connectionOptions(config),
      ...(options.database === false ? {} : { database: config.database }),
      multipleStatements: options.multipleStatements === true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      timezone: 'Z',
    })
    .catch((error: unknown) => {
      throw asUnavailable(error)
    })
  try {
    await prepareSession(connection)
    return connection
  } catch (error) {
    connection.destroy()
    throw asUnavailable(error)
  }
}
