import mysql, { type PoolConnection, type ResultSetHeader } from 'mysql2/promise'
import type { Param, Row, Sql, TransactionSql } from './sql'

/** Statements on one borrowed connection: one by one, or as a transaction written in batches. */

export const connectionSql = (connection: PoolConnection, timeoutMs: number): Sql => ({
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
export function transactionSql(connection: PoolConnection, timeoutMs: number) {
  const plain = connectionSql(connection, timeoutMs)
  const state = { begun: false, committed: false }
  const begin = async () => {
    if (state.begun) return
    await connection.query({ sql: 'START TRANSACTION', timeout: timeoutMs })
    state.begun = true
  }
  const tx: TransactionSql = {
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
