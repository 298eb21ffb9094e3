import type { Row, Sql } from './sql'

/**
 * The version of the stored data (table data_version, one row). Writers bump it inside the
 * transaction that changes what the API shows; readers compare it to decide whether a cached answer
 * still holds, and it is the first part of every ETag. It lives in the database, so every replica
 * sees the same one.
 *
 * ETags must never repeat across data that differs, so a version is never handed out twice: a new
 * row starts at a random point of a 62-bit range, not at 1 (a database dropped and created again
 * does not count 1, 2, 3 … a second time), and a bump re-creates a deleted row instead of updating
 * nothing for ever.
 */

const RANDOM_START = 'FLOOR(RAND() * 4611686018427387904)'

export const BUMP_VERSION = `INSERT INTO data_version (id, version) VALUES (1, ${RANDOM_START}) ON DUPLICATE KEY UPDATE version = version + 1`

export async function bumpVersion(tx: Pick<Sql, 'run'>): Promise<void> {
  await tx.run(BUMP_VERSION)
}

/**
 * The current version. Without the row (deleted by hand) nothing can be cached: every read is a
 * version of its own, until the next write re-creates the row.
 */
export async function readVersion(sql: Sql): Promise<string> {
  const [row] = await sql.rows<Row & { version: string }>('SELECT version FROM data_version WHERE id = 1')
  return row?.version ?? `none.${crypto.randomUUID()}`
}

/*
 * Which version a request may trust. An answer is served for the version of a read of data_version
 * that started at most FRESHNESS_MS before the request arrived:
 *
 * - under load, reads run back to back and requests rarely wait for one;
 * - a collector that waits FRESHNESS_MS after its commit before it reports the commit done
 *   ("commit wait") knows that every request arriving afterwards, in any replica, sees it;
 * - in this process, the collector's commits also mark the last read as too old at once.
 */

/** How old (by its start) a version read may be and still be trusted; the collector's commit wait. */
export const FRESHNESS_MS = 50

/**
 * Versions read through `read`: current() answers from a read that started at most `freshnessMs`
 * ago, or makes one (shared by every request that waits for it); known() answers without waiting or
 * says null; invalidate() forgets the last read (a commit in this process).
 */
export function versionGate(read: () => Promise<string>, freshnessMs = FRESHNESS_MS) {
  let latest: { version: string; startedAt: number } | null = null
  let running: { promise: Promise<string>; startedAt: number } | null = null
  let generation = 0

  const start = (): Promise<string> => {
    const startedAt = performance.now()
    const started = generation
    const promise = read()
    running = { promise, startedAt }
    promise.then(
      (version) => {
        if (started === generation && (latest === null || latest.startedAt < startedAt)) latest = { version, startedAt }
      },
      () => {},
    )
    const clear = () => {
      if (running?.promise === promise) running = null
    }
    promise.then(clear, clear)
    return promise
  }

  const known = (): string | null => {
    const now = performance.now()
    if (latest === null || now - latest.startedAt > freshnessMs) return null
    // Fresh enough; start the next read early, so that one is always recent under load.
    if (running === null && now - latest.startedAt > freshnessMs / 2) start().catch(() => {})
    return latest.version
  }

  return {
    known,
    current() {
      const version = known()
      if (version !== null) return Promise.resolve(version)
      if (running !== null && performance.now() - running.startedAt <= freshnessMs) return running.promise
      return start()
    },
    invalidate() {
      generation++
      latest = null
      running = null
    },
  }
}

/** The version gate of a database's data_version. */
export const dataVersions = (sql: Sql) => versionGate(() => readVersion(sql))

/** The commit wait a writer owes before it reports a commit done: past it, every replica serves the commit. */
export const commitWait = (): Promise<void> => Bun.sleep(FRESHNESS_MS)
