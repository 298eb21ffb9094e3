import mysql, { type Pool, type PoolConnection } from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { asUnavailable, DatabaseUnavailableError, stoppedByServer, withinDeadline } from './errors'
import { poolStats } from './pool-stats'
import { connectionOptions, openConnection, prepareSession } from './session'
import type { Database } from './sql'
import { connectionSql, transactionSql } from './transaction'

/**
 * The pool. Every statement is bounded by `queryTimeoutMs`, waiting for a pooled connection included (mysql2
 * has no acquire timeout): a database that is down or stuck turns into a 503 within that time
 * instead of requests piling up behind it.
 */

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
    const connection = await withinDeadline(pool.getConnection(), deadlineMs, (late) => late.release()).catch(
      (error: unknown) => {
        throw asUnavailable(error)
      },
    )
    const core = connection.connection as unknown as object
    if (prepared.has(core)) return connection
    try {
      await withinDeadline(prepareSession(connection, options.statementTimeoutMs), deadlineMs)
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
            await withinDeadline(connection.rollback(), config.queryTimeoutMs).catch(() => {})
          } else if (state.begun && (error as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
            await killSession(config, connection.threadId).catch(() => {})
          }
          throw error
        }
      }),
    stats: () => poolStats(raw),
    close: () => pool.end(),
  }
}
