import mysql from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { connectionOptions } from './database'

/**
 * A MySQL named lock (GET_LOCK) held on a connection of its own for as long as `work` runs. Named
 * locks belong to a connection, so a pooled one would be handed back with the lock still held; and
 * if this process dies, the server drops the connection and frees the lock by itself.
 */
export async function withNamedLock<T>(
  config: MysqlConfig,
  name: string,
  work: () => Promise<T>,
): Promise<{ acquired: true; result: T } | { acquired: false }> {
  const connection = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
  try {
    // Timeout 0: a lock held elsewhere means another process is doing the work; do not queue behind it.
    const [[row]] = await connection.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [name])
    if (row?.got !== 1) return { acquired: false }
    try {
      return { acquired: true, result: await work() }
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => {})
    }
  } finally {
    await connection.end().catch(() => connection.destroy())
  }
}
