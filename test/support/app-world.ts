import { afterAll, beforeAll } from 'bun:test'
import { type RunningApp, startApp } from './app'
import { loadCoreData } from './core-data'
import { createTestDatabase, type TestDatabase } from './database'

export interface AppWorld {
  database: TestDatabase
  app: RunningApp
}

/**
 * For the tests of one file: a throwaway database (with the core data set when asked, then whatever
 * `arrange` adds) and the real app on a port, made before the first test and removed after the last.
 * Read the fields inside tests (they are set by then).
 */
export function useTestApp(options: { coreData?: boolean; arrange?: (database: TestDatabase) => Promise<void> } = {}): AppWorld {
  const world = {} as AppWorld
  beforeAll(async () => {
    world.database = await createTestDatabase()
    if (options.coreData === true) await loadCoreData(world.database)
    await options.arrange?.(world.database)
    world.app = startApp(world.database.db)
  })
  afterAll(async () => {
    await world.app?.stop()
    await world.database?.drop()
  })
  return world
}
