import { Elysia, type Static } from 'elysia'
import { DatabaseUnavailableError } from '../../db/errors'
import type { Database } from '../../db/sql'
import type { Lifecycle } from '../../domain/lifecycle'
import { apiRoute } from '../../http/route'
import { NoQuery } from '../../http/schemas'
import { Liveness, Readiness } from './model'
import { readEveryTable } from './repository'

type ReadinessBody = Static<typeof Readiness>

/** Server error numbers: access refused to the database or at login; to a table or a column; no such table. */
const DATABASE_DENIED = new Set([1044, 1045])
const TABLE_DENIED = new Set([1142, 1143])
const NO_SUCH_TABLE = 1146

/** The server's error number, on a driver error or on the cause of the error it was mapped to. */
function errnoOf(error: unknown): number | undefined {
  for (let e = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const errno = (e as { errno?: unknown }).errno
    if (typeof errno === 'number') return errno
  }
  return undefined
}

/**
 * Why the database is not usable, in words for whoever is on call. Never the server's message: it
 * names the database, the user, tables and statements.
 */
function unusable(error: unknown): { check: 'down' | 'denied'; detail: string } {
  if (DATABASE_DENIED.has(errnoOf(error) ?? 0)) {
    return { check: 'denied', detail: "database: access refused to the service's user (a missing privilege or a wrong password)" }
  }
  if (error instanceof DatabaseUnavailableError) return { check: 'down', detail: `database: ${error.message}` }
  const code = (error as { code?: unknown } | null)?.code
  return { check: 'down', detail: `database: the check failed (${typeof code === 'string' ? code : 'unknown error'})` }
}

async function readiness(db: Database, tables: string[], lifecycle: Lifecycle): Promise<ReadinessBody> {
  const checks: ReadinessBody['checks'] = { database: 'unknown', schema: 'unknown', shutting_down: lifecycle.shuttingDown }
  try {
    await readEveryTable(db, tables)
    checks.schema = 'present'
  } catch (error) {
    const errno = errnoOf(error)
    if (errno === NO_SUCH_TABLE) {
      checks.database = 'up'
      checks.schema = 'missing'
      return { status: 'not_ready', checks, detail: `schema: a table of ${tables.join(', ')} is missing` }
    }
    if (TABLE_DENIED.has(errno ?? 0)) {
      checks.database = 'up'
      checks.schema = 'denied'
      return {
        status: 'not_ready',
        checks,
        detail: "schema: the database refused the service's user access to a table (a missing privilege)",
      }
    }
    const { check, detail } = unusable(error)
    checks.database = check
    return { status: 'not_ready', checks, detail }
  }
  checks.database = 'up'
  if (lifecycle.shuttingDown) return { status: 'not_ready', checks, detail: 'shutting down' }
  return { status: 'ready', checks }
}

export const healthModule = (db: Database, tables: string[], lifecycle: Lifecycle) =>
  new Elysia({ name: 'health' })
    .use(
      apiRoute(
        {
          path: '/health/live',
          operationId: 'live',
          tag: 'health',
          summary: 'Liveness',
          description: 'Answers 200 while the process serves HTTP.',
          query: NoQuery,
          success: Liveness,
          answering: 'direct',
        },
        () => ({ status: 'ok' as const }),
      ),
    )
    .use(
      apiRoute(
        {
          path: '/health/ready',
          operationId: 'ready',
          tag: 'health',
          summary: 'Readiness',
          description:
            "200 when the database answers and the service's user may read every table; 503 otherwise (the body says which: down, missing, or access denied), and while shutting down.",
          query: NoQuery,
          success: Readiness,
          answering: 'direct',
          answers: {
            503: {
              schema: Readiness,
              description: 'Not ready: the body says which check failed, or that the process is shutting down.',
            },
          },
        },
        async ({ set }) => {
          const body = await readiness(db, tables, lifecycle)
          if (body.status !== 'ready') set.status = 503
          return body
        },
      ),
    )
