import { afterAll, beforeAll } from 'bun:test'
import { mysqlUrl, type RunningService, startService } from '../../scripts/lib/service-process'
import { createTestDatabase, type TestDatabase } from './database'

export interface SampleService {
  database: TestDatabase
  service: RunningService
  /** The service's port, for raw sockets. */
  port: number
}

/**
 * For the tests of one file: the service as a real process on a throwaway database filled from the
 * bundled sample, started before the first test and stopped after the last. Read the fields inside
 * tests (they are set by then).
 */
export function useSampleService(): SampleService {
  const world = {} as SampleService
  beforeAll(async () => {
    world.database = await createTestDatabase()
    world.service = await startService({
      MYSQL_URL: mysqlUrl(world.database.config),
      COLLECT_SOURCE: 'sample',
      LOG_LEVEL: 'warn',
    })
    world.port = Number(new URL(world.service.url).port)
  }, 60_000)
  afterAll(async () => {
    await world.service?.stop()
    await world.database?.drop()
  })
  return world
}
