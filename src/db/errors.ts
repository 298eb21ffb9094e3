import { withDeadline } from '../domain/deadline'
import { UnavailableError } from '../domain/unavailable'

/**
 * Which database errors mean "the database cannot answer now", as opposed to a bad statement. The
 * HTTP layer answers them with 503, the collector stops its run.
 */

/** The database cannot answer now (down, unreachable, too slow, pool exhausted). */
export class DatabaseUnavailableError extends UnavailableError {
  override name = 'DatabaseUnavailableError'
  constructor(
    /** Why, briefly and without internals (a driver code, a timeout). */
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`the database is unavailable (${reason}); retry later`, 1, { cause })
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

export const stoppedByServer = (error: unknown): boolean => STOPPED_BY_SERVER.has((error as { errno?: number }).errno ?? 0)

export const asUnavailable = (error: unknown): unknown => {
  if (error instanceof UnavailableError) return error
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

/** Resolves with `promise`, or rejects as unavailable after `ms`; `onLate` receives what arrives too late. */
export const withinDeadline = <T>(promise: Promise<T>, ms: number, onLate?: (value: T) => void): Promise<T> =>
  withDeadline(promise, ms, () => new DatabaseUnavailableError(`no answer within ${ms} ms`), onLate)

/** The server kept a session mode under which values escaped by the client would change meaning. */
export class UnsafeSessionError extends Error {
  override name = 'UnsafeSessionError'
  constructor(readonly modes: string[]) {
    super(`the server keeps sql_mode ${modes.join(', ')} on our sessions; refusing to send values through it`)
  }
}
