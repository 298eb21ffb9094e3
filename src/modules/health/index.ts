import { Elysia, type Static } from 'elysia'
import { readShape, type Shape, shapeDifferences } from '../../db/catalogue'
import { DatabaseUnavailableError } from '../../db/errors'
import type { Database } from '../../db/sql'
import { type Lifecycle, type StartState, schemaUsable } from '../../domain/lifecycle'
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

/** The start's own states, as the schema check names them. */
const STARTING: Record<StartState['phase'], ReadinessBody['checks']['schema']> = {
  schema: 'applying',
  migrating: 'migrating',
  waiting: 'waiting',
  failed: 'failed',
  collecting: 'present',
}

/** Differences named in the detail; the rest are counted. */
const NAMED_DIFFERENCES = 5

async function readiness(db: Database, schema: Shape, lifecycle: Lifecycle): Promise<ReadinessBody> {
  const checks: ReadinessBody['checks'] = { database: 'unknown', schema: 'unknown', shutting_down: lifecycle.shuttingDown }
  const starting = lifecycle.starting
  // Until the schema is there the tables are not read: a migration may be changing them.
  if (starting !== null && !schemaUsable(lifecycle)) {
    checks.schema = STARTING[starting.phase]
    if (starting.phase !== 'schema') checks.database = 'up'
    return { status: 'not_ready', checks, detail: starting.detail }
  }
  const tables = [...schema.keys()]
  try {
    await readEveryTable(db, tables)
    checks.schema = 'present'
    // The shape, not only the names: a table dropped and re-created by hand in an older shape is there, but unusable.
    const differences = shapeDifferences(schema, await readShape(db))
    if (differences.length > 0) {
      checks.database = 'up'
      checks.schema = 'mismatch'
      const named = differences.slice(0, NAMED_DIFFERENCES).join('; ')
      const more = differences.length > NAMED_DIFFERENCES ? ` (and ${differences.length - NAMED_DIFFERENCES} more)` : ''
      return {
        status: 'not_ready',
        checks,
        detail: `schema: the tables differ from the schema files: ${named}${more}; restart to migrate`,
      }
    }
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
  if (starting !== null) return { status: 'not_ready', checks, detail: starting.detail }
  return { status: 'ready', checks }
}

export const healthModule = (db: Database, schema: Shape, lifecycle: Lifecycle) =>
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
            "200 when the start is done, the database answers, the service's user may read every table and the tables have the columns and indexes of the schema files; 503 otherwise (the body says which: down, missing, denied, mismatch; or, while starting, applying, migrating, waiting for another process's migration, failed), and while shutting down.",
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
          const body = await readiness(db, schema, lifecycle)
          if (body.status !== 'ready') set.status = 503
          return body
        },
      ),
    )
