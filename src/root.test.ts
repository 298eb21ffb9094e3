import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { createTestDatabase, type TestDatabase } from '../test/support/database'
import { createWriterPool } from './root'

const SRC = import.meta.dir

/** Production sources: not tests, not test helpers. */
const productionFiles = (dir = SRC): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : productionFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })

/** What only the root builds (a logger's default LogValues, bounds without secrets, is the logger's own). */
const BUILDERS = ['loadConfig', 'secretValues', 'createLogger', 'createDatabase', 'createWriterPool', 'createCollector']

describe('the composition root', () => {
  test('when the production code is read, then only src/root.ts builds config, logger, pools and collector', () => {
    const calls = productionFiles()
      .filter((path) => relative(SRC, path) !== 'root.ts')
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          // Comments may name them; definitions (`function createLogger(`) are not calls.
          .filter((line) => !/^\s*(\*|\/\/)/.test(line))
          .flatMap((line) =>
            BUILDERS.filter((name) => new RegExp(`(?<!function )\\b${name}\\(`).test(line)).map(
              (name) => `${relative(SRC, path)}: ${name}`,
            ),
          ),
      )
    expect(calls).toEqual([])
  })

  describe('the writer pool', () => {
    let database: TestDatabase
    beforeAll(async () => {
      database = await createTestDatabase()
    })
    afterAll(async () => {
      await database.drop()
    })

    test('when the collector writes a page, then its pool holds two connections and runs statements in batches', async () => {
      const writer = createWriterPool(database.config)
      try {
        expect(writer.config.poolSize).toBe(2)
        const results = await writer.transaction((tx) =>
          tx.batch([{ sql: 'SELECT ? AS a', params: [1] }, { sql: 'SELECT 2 AS b' }]),
        )
        expect(results).toHaveLength(2)
      } finally {
        await writer.close()
      }
    })
  })
})
