import type { RowDataPacket } from 'mysql2/promise'
import type { MysqlConfig } from '../config'
import { withinDeadline } from './errors'
import { openConnection } from './session'
import type { Statement } from './sql'

/**
 * A MySQL named lock (GET_LOCK) held on a connection of its own for as long as `work` runs. Named
 * locks belong to a connection, so a pooled one would be handed back with the lock still held; and
 * if this process dies, the server drops the connection and frees the lock by itself.
 *
 * The flip side: when the server closes that connection (wait_timeout on an idle session, a
 * failover, KILL), the lock is gone and another process may take it while `work` still runs. So the
 * holder is told: a heartbeat keeps the session busy and checks that the lock is still its own,
 * aborting `hold.signal` when not; and writers check `holds` inside their own transactions, so a
 * write that would race another holder is rolled back instead of committed.
 */

/**
 * The collector's lock, one per database: held by the process that collects, for as long as it runs
 * (a session's named lock dies with its connection). What says a collection is running is read from
 * it, never from a row a killed process could leave behind.
 */
export const COLLECTOR_LOCK_PREFIX = 'twitter_hashtags.collector.'
export const collectorLockName = (database: string): string => `${COLLECTOR_LOCK_PREFIX}${database}`

export interface LockHold {
  /** Aborted, with a LockLostError as its reason, once the lock is no longer held. */
  readonly signal: AbortSignal
  /**
   * A SELECT answering one row with `held` = 1 while this process holds the lock: writers run it in
   * their transaction and roll back when it answers otherwise (see `stillHeld`).
   */
  readonly fence: Statement
}

/** The lock is no longer this process's: its connection closed, or another session took it. */
export class LockLostError extends Error {
  override name = 'LockLostError'
  constructor(cause: string) {
    super(`the collector lock was lost (${cause}); stopping so that two collectors never write at once`)
  }
}

/** VERSION() of a TiDB server carries its name (e.g. 8.0.11-TiDB-v8.5.1). */
const TIDB = /TiDB/i

/** The heartbeat's bounds: often enough for any wait_timeout, never busier than this. */
const MIN_HEARTBEAT_MS = 200
const MAX_HEARTBEAT_MS = 5_000

interface HolderRow extends RowDataPacket {
  holder: string | null
}

export async function withNamedLock<T>(
  config: MysqlConfig,
  name: string,
  work: (hold: LockHold) => Promise<T>,
): Promise<{ acquired: true; result: T } | { acquired: false }> {
  const connection = await openConnection(config)
  const lost = new AbortController()
  const lose = (cause: string) => {
    if (!lost.signal.aborted) lost.abort(new LockLostError(cause))
  }
  // A connection closed by the server emits 'error' when no statement is waiting on it.
  connection.on('error', (error: { code?: string }) => lose(error.code ?? 'connection error'))
  // Every statement here is bounded: a server that accepts the connection and then hangs must not
  // hold the run (or its release) for ever.
  const timeout = config.queryTimeoutMs
  try {
    // Timeout 0: a lock held elsewhere means another process is doing the work; do not queue behind it.
    const [[row]] = await connection.query<RowDataPacket[]>(
      {
        sql: 'SELECT GET_LOCK(?, 0) AS got, CONNECTION_ID() AS me, @@SESSION.wait_timeout AS idle, VERSION() AS version',
        timeout,
      },
      [name],
    )
    if (Number(row?.got) !== 1) return { acquired: false }
    const me = String(row!.me)
    // A quarter of the idle timeout: the session never idles long enough for the server to close it.
    const everyMs = Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, (Number(row!.idle) * 1000) / 4))
    let beating = false
    const heartbeat = setInterval(() => {
      if (beating || lost.signal.aborted) return
      beating = true
      connection
        .query<HolderRow[]>({ sql: 'SELECT IS_USED_LOCK(?) AS holder', timeout: everyMs * 2 }, [name])
        .then(
          ([[check]]) => {
            if (String(check?.holder) !== me) lose('another session holds it now')
          },
          (error: { code?: string }) => lose(error.code ?? 'heartbeat failed'),
        )
        .finally(() => {
          beating = false
        })
    }, everyMs)
    const hold: LockHold = {
      signal: lost.signal,
      fence: {
        // TiDB's IS_USED_LOCK, asked from another session, answers 1 when it cannot name the holder
        // (https://docs.pingcap.com/tidb/stable/locking-functions/): there the fence can only tell
        // that the lock is still held by someone, and the heartbeat (asked from the holding session,
        // which TiDB does name) tells that it is ours. Elsewhere the holder's id is compared exactly.
        sql: TIDB.test(String(row!.version)) ? 'SELECT IS_USED_LOCK(?) IN (?, 1) AS held' : 'SELECT IS_USED_LOCK(?) = ? AS held',
        params: [name, me],
      },
    }
    try {
      return { acquired: true, result: await work(hold) }
    } finally {
      clearInterval(heartbeat)
      if (!lost.signal.aborted) await connection.query({ sql: 'SELECT RELEASE_LOCK(?)', timeout }, [name]).catch(() => {})
    }
  } finally {
    // A connection the server already closed cannot say goodbye: ending it could wait forever.
    if (lost.signal.aborted) connection.destroy()
    else await withinDeadline(connection.end(), config.connectTimeoutMs).catch(() => connection.destroy())
  }
}

/** What a fence statement answered: true while the lock is still held. */
export const stillHeld = (rows: unknown): boolean => Number((rows as { held?: unknown }[])[0]?.held) === 1
