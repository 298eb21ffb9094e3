import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { HttpProblem } from '../http/problem'

/**
 * The pool and the only way the rest of the code reaches MySQL. Repositories receive a `Sql` —
 * the pool or a connection holding a transaction — and never see mysql2 directly.
 *
 * Every statement is bounded by `queryTimeoutMs`, waiting for a pooled connection included (mysql2
 * has no acquire timeout): a database that is down or stuck turns into a 503 within that time
 * instead of requests piling up behind it.
 */

export type Row = RowDataPacket
/** A bound value; arrays (of values, or of rows) expand into lists. */
export type Param = string | number | bigint | null | Param[]

export interface Sql {
  /**
   * Runs a SELECT; rows come back with BIGINTs and DECIMALs as strings, DATETIMEs as
   * 'YYYY-MM-DD hh:mm:ss.sss'. Sent as text with values escaped by mysql2, not prepared: decoding
   * binary-protocol rows (64-bit ids through Long.js, dates field by field) costs this process more
   * than text rows do — deep pages answered about 1.75 times faster without it.
   */
  rows<T extends Row>(sql: string, params?: Param[]): Promise<T[]>
  /** Runs an INSERT, UPDATE or DELETE, sent as text like `rows`. */
  run(sql: string, params?: Param[]): Promise<ResultSetHeader>
}

export interface Statement {
  sql: string
  params?: Param[]
}

/** What a transaction can do: statements one by one, or several in one round trip. */
export interface TransactionSql extends Sql {
  /**
   * Runs the statements in one round trip, in order, and returns their results; with `commit`,
   * the transaction commits in the same round trip. Only on a database created with
   * `batches: true` (a connection that accepts several statements per query); values are escaped by
   * mysql2, never concatenated.
   */
  batch(statements: Statement[], options?: { commit?: boolean }): Promise<unknown[]>
}

export interface PoolStats {
  inUse: number
  idle: number
  queued: number
}

export interface Database extends Sql {
  readonly config: MysqlConfig
  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T>
  stats(): PoolStats
  close(): Promise<void>
}

/** The database cannot answer now (down, unreachable, too slow, pool exhausted): a 503 for clients. */
export class DatabaseUnavailableError extends HttpProblem {
  override name = 'DatabaseUnavailableError'
  constructor(reason: string, cause?: unknown) {
    super(503, `the database is unavailable (${reason}); retry later`, { headers: { 'Retry-After': '1' } }, { cause })
  }
}

/** Error codes that mean "the server is not reachable or gave up on us", as opposed to a bad statement. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_CLOSED',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CLIENT_INTERACTION_TIMEOUT',
])

/**
 * Statements the server stopped by itself, by error number (mysql2 has no code name for MariaDB's
 * 1969): unavailable for the client, but the connection is in a clean state and can be reused.
 */
const STOPPED_BY_SERVER = new Set([
  1969, // MariaDB ER_STATEMENT_TIMEOUT: max_statement_time exceeded
  3024, // MySQL ER_QUERY_TIMEOUT: max_execution_time exceeded
  1317, // ER_QUERY_INTERRUPTED
  1205, // ER_LOCK_WAIT_TIMEOUT
])

const stoppedByServer = (error: unknown): boolean => STOPPED_BY_SERVER.has((error as { errno?: number }).errno ?? 0)

const asUnavailable = (error: unknown): unknown => {
  if (error instanceof HttpProblem) return error
  if (error instanceof UnsafeSessionError) return new DatabaseUnavailableError('unsafe sql_mode', error)
  const code = (error as { code?: unknown }).code
  const fatal = (error as { fatal?: unknown }).fatal === true
  if (stoppedByServer(error)) return new DatabaseUnavailableError('statement stopped by the server', error)
  // mysql2 gives its pool's queue-limit refusal no code, only this message.
  if ((error as Error).message === 'Queue limit reached.') return new DatabaseUnavailableError('too many requests waiting', error)
  if (fatal || (typeof code === 'string' && UNAVAILABLE_CODES.has(code))) {
    return new DatabaseUnavailableError(typeof code === 'string' ? code : 'connection failed', error)
  }
  return error
}

/** Resolves with `promise`, or rejects with 503 after `ms`; `onLate` receives what arrives too late. */
export function withDeadline<T>(promise: Promise<T>, ms: number, onLate: (value: T) => void = () => {}): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  let expired = false
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true
      reject(new DatabaseUnavailableError(`no answer within ${ms} ms`))
    }, ms)
  })
  promise.then(
    (value) => expired && onLate(value),
    () => {},
  )
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

const connectionSql = (connection: PoolConnection, timeoutMs: number): Sql => ({
  async rows<T extends Row>(sql: string, params: Param[] = []) {
    const [rows] = await connection.query<T[]>({ sql, timeout: timeoutMs }, params)
    return rows
  },
  async run(sql: string, params: Param[] = []) {
    const [result] = await connection.query<ResultSetHeader>({ sql, timeout: timeoutMs }, params)
    return result
  },
})

/**
 * A transaction on one connection. START TRANSACTION goes out with the first statement and COMMIT
 * with a batch that asks for it, so a unit of work written as two batches costs two round trips.
 */
function transactionSql(connection: PoolConnection, timeoutMs: number) {
  const plain = connectionSql(connection, timeoutMs)
  const state = { begun: false, committed: false }
  const begin = async () => {
    if (state.begun) return
    await connection.query({ sql: 'START TRANSACTION', timeout: timeoutMs })
    state.begun = true
  }
  const tx: TransactionSql = {
    async rows(sql, params) {
      await begin()
      return plain.rows(sql, params)
    },
    async run(sql, params) {
      await begin()
      return plain.run(sql, params)
    },
    async batch(statements, { commit = false } = {}) {
      const texts = statements.map((statement) => mysql.format(statement.sql, statement.params ?? []))
      const opening = state.begun ? [] : ['START TRANSACTION']
      const closing = commit ? ['COMMIT'] : []
      const [results] = await connection.query({ sql: [...opening, ...texts, ...closing].join(';\n'), timeout: timeoutMs })
      state.begun = true
      if (commit) state.committed = true
      // One statement's result comes back bare, several as a list: keep only the caller's.
      const all = opening.length + texts.length + closing.length === 1 ? [results] : (results as unknown[])
      return all.slice(opening.length, opening.length + texts.length)
    },
  }
  return { tx, state }
}

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

/** The server kept a session mode under which values escaped by the client would change meaning. */
export class UnsafeSessionError extends Error {
  override name = 'UnsafeSessionError'
  constructor(readonly modes: string[]) {
    super(`the server keeps sql_mode ${modes.join(', ')} on our sessions; refusing to send values through it`)
  }
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

/** Ends a server session by its id (KILL needs no privilege for the account's own sessions). */
async function killSession(config: MysqlConfig, threadId: number): Promise<void> {
  const killer = await openConnection(config, { database: false })
  try {
    await killer.query({ sql: 'KILL ?', timeout: config.queryTimeoutMs }, [threadId])
  } finally {
    killer.destroy()
  }
}

export interface DatabaseOptions {
  /**
   * Allow several statements per query, for TransactionSql.batch: the collector's pool sets it, to
   * write a page in a few round trips; the API's pool does not.
   */
  batches?: boolean
  /**
   * Longest a statement may run on the server before the server itself stops it: the client's
   * deadline frees the request, this frees the connection and the server's work. The API's pool sets
   * it to MYSQL_QUERY_TIMEOUT; the collector's pool does not (a large page may take longer).
   */
  statementTimeoutMs?: number
}

export function createDatabase(config: MysqlConfig, options: DatabaseOptions = {}): Database {
  const pool: Pool = mysql.createPool({
    ...connectionOptions(config),
    database: config.database,
    connectionLimit: config.poolSize,
    maxIdle: config.poolSize,
    idleTimeout: 60_000,
    // A bounded queue: past it, requests get 503 at once instead of waiting out their deadline.
    queueLimit: config.poolSize * 50,
    enableKeepAlive: true,
    // 64-bit ids and counts stay exact strings; DATETIMEs stay strings in UTC (no local-time shifts).
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
    multipleStatements: options.batches === true,
  })
  const raw = pool.pool
  /** Pool connections (mysql2's own objects, which outlive the wrappers handed out) already prepared. */
  const prepared = new WeakSet<object>()

  /** Borrows a connection within the deadline; a connection that arrives after it goes straight back. */
  const acquire = async (deadlineMs: number): Promise<PoolConnection> => {
    const connection = await withDeadline(pool.getConnection(), deadlineMs, (late) => late.release()).catch((error: unknown) => {
      throw asUnavailable(error)
    })
    const core = connection.connection as unknown as object
    if (prepared.has(core)) return connection
    try {
      await withDeadline(prepareSession(connection, options.statementTimeoutMs), deadlineMs)
      prepared.add(core)
      return connection
    } catch (error) {
      connection.destroy()
      throw asUnavailable(error)
    }
  }

  const withConnection = async <T>(work: (connection: PoolConnection, remainingMs: number) => Promise<T>): Promise<T> => {
    const started = performance.now()
    const connection = await acquire(config.queryTimeoutMs)
    const remainingMs = Math.max(1, Math.round(config.queryTimeoutMs - (performance.now() - started)))
    let broken = false
    try {
      return await work(connection, remainingMs)
    } catch (error) {
      const mapped = asUnavailable(error)
      // After a client-side timeout or a lost link the protocol state of this connection is unknown: drop it.
      broken = mapped instanceof DatabaseUnavailableError && !stoppedByServer(error)
      throw mapped
    } finally {
      if (broken) connection.destroy()
      else connection.release()
    }
  }

  return {
    config,
    rows: (sql, params) => withConnection((connection, ms) => connectionSql(connection, ms).rows(sql, params)),
    run: (sql, params) => withConnection((connection, ms) => connectionSql(connection, ms).run(sql, params)),
    transaction: (work) =>
      withConnection(async (connection) => {
        // Transactions belong to the collector, not to requests: their statements get the full
        // timeout each, and a failure anywhere rolls the whole unit back.
        const { tx, state } = transactionSql(connection, config.queryTimeoutMs)
        try {
          const result = await work(tx)
          if (state.begun && !state.committed) await connection.commit()
          return result
        } catch (error) {
          // A connection that lost its link or timed out cannot roll back (the command would queue
          // behind the stuck one forever); it is destroyed instead. The server rolls back when it
          // sees the connection close, but it only looks when it next writes to it: a statement
          // still waiting on a lock there would go on and could commit after we reported failure.
          // So a timed-out transaction is also killed by its id, from a connection of its own.
          if (state.begun && !(asUnavailable(error) instanceof DatabaseUnavailableError)) {
            await withDeadline(connection.rollback(), config.queryTimeoutMs).catch(() => {})
          } else if (state.begun && (error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
            await killSession(config, connection.threadId).catch(() => {})
          }
          throw error
        }
      }),
    stats: () => {
      // mysql2 keeps no counters of its own; these arrays are its pool's state.
      const internal = raw as unknown as {
        _allConnections: { length: number }
        _freeConnections: { length: number }
        _connectionQueue: { length: number }
      }
      const all = internal._allConnections.length
      const idle = internal._freeConnections.length
      return { inUse: all - idle, idle, queued: internal._connectionQueue.length }
    },
    close: () => pool.end(),
  }
}
