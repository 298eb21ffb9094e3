import type { Pool } from 'mysql2'
import type { PoolStats } from './sql'

/**
 * The pool's connections in use and idle, and the requests waiting for one. mysql2 keeps no counters
 * of its own: these are its pool's private arrays, read in this one place (pinned mysql2 version;
 * src/db/database.test.ts checks the numbers against a pool under load).
 */
export function poolStats(pool: Pool): PoolStats {
  const internal = pool as unknown as {
    _allConnections: { length: number }
    _freeConnections: { length: number }
    _connectionQueue: { length: number }
  }
  const all = internal._allConnections.length
  const idle = internal._freeConnections.length
  return { inUse: all - idle, idle, queued: internal._connectionQueue.length }
}
