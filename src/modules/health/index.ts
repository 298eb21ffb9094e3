import { Elysia, type Static } from 'elysia'
import type { Database } from '../../db/database'
import { schemaPresent } from '../../db/schema'
import { strictQuery } from '../../shared/query'
import { Liveness, NoQuery, Readiness } from './model'

export interface Lifecycle {
  /** Set once a shutdown has begun: readiness then fails so load balancers stop sending traffic. */
  shuttingDown: boolean
}

type ReadinessBody = Static<typeof Readiness>

async function readiness(db: Database, tables: string[], lifecycle: Lifecycle): Promise<ReadinessBody> {
  const checks: ReadinessBody['checks'] = { database: 'unknown', schema: 'unknown', shutting_down: lifecycle.shuttingDown }
  try {
    checks.schema = (await schemaPresent(db, tables)) ? 'present' : 'missing'
    checks.database = 'up'
  } catch (error) {
    checks.database = 'down'
    return { status: 'not_ready', checks, detail: `database: ${(error as Error).message}` }
  }
  if (checks.schema === 'missing')
    return { status: 'not_ready', checks, detail: `schema: a table of ${tables.join(', ')} is missing` }
  if (lifecycle.shuttingDown) return { status: 'not_ready', checks, detail: 'shutting down' }
  return { status: 'ready', checks }
}

export const healthModule = (db: Database, tables: string[], lifecycle: Lifecycle) =>
  new Elysia({ name: 'health' })
    .get('/health/live', () => ({ status: 'ok' as const }), {
      query: NoQuery,
      transform: strictQuery(NoQuery),
      response: { 200: Liveness },
      detail: { tags: ['health'], summary: 'Liveness', description: 'Answers 200 while the process serves HTTP.' },
    })
    .get(
      '/health/ready',
      async ({ set }) => {
        const body = await readiness(db, tables, lifecycle)
        if (body.status !== 'ready') set.status = 503
        return body
      },
      {
        query: NoQuery,
        transform: strictQuery(NoQuery),
        response: { 200: Readiness, 503: Readiness },
        detail: {
          tags: ['health'],
          summary: 'Readiness',
          description: '200 when the database answers and the schema is present; 503 otherwise, and while shutting down.',
        },
      },
    )
