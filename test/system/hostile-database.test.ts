import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import mysql from 'mysql2/promise'
import { createSampleSource } from '../../src/collector/sample-source'
import { type CollectorConfig, loadConfig, type MysqlConfig } from '../../src/config'
import { createDatabase } from '../../src/db/database'
import { applySchema, readSqlFiles, tablesOf as tablesOfFiles } from '../../src/db/schema'
import type { Database } from '../../src/db/sql'
import { createWriterPool } from '../../src/root'
import { startApp } from '../support/app'
import { addSlowPages, collectorConfigFor, collectorHarness, countsTable } from '../support/collector'
import { createTestDatabase } from '../support/database'
import { type FakeUser, FakeXApi } from '../support/fake-x-api'
import { PrivateMariaDb } from '../support/private-mariadb'

/**
 * The data path on database servers set up unusually, or changed under the service: a server whose
 * sql_mode makes backslashes plain characters and double quotes identifiers, one that closes idle
 * sessions after two seconds, a collector lock whose connection is killed, a data_version row
 * deleted, counts that disagree with the rows.
 */

const alice: FakeUser = { id: '1999999999999999999', username: "o'hara\\", name: 'Alice "A" \\ 🚀', followers_count: 1200 }

/** Texts that change meaning when escaped with backslashes for a server that does not read them so. */
const HOSTILE_TEXTS = [
  "it's #devops",
  "\\'); DROP TABLE users; -- #devops",
  "\\\\' OR 1=1 -- #devops",
  '"quoted" and `ticked` #devops',
  'a \\0 NUL-looking \\n escape #devops',
  '100%_wild #devops',
]

/** The tables the schema files create, in name order: whatever ran as SQL must not have added or dropped one. */
const TABLES = tablesOfFiles(readSqlFiles()).sort()

async function tablesOf(admin: mysql.Connection): Promise<string[]> {
  const [rows] = (await admin.query(
    'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
  )) as any
  return rows.map((row: any) => row.t).sort()
}

describe('a server whose sql_mode has NO_BACKSLASH_ESCAPES and ANSI_QUOTES, and wait_timeout 2 s', () => {
  const server = new PrivateMariaDb(['--sql-mode=NO_BACKSLASH_ESCAPES,ANSI_QUOTES', '--wait-timeout=2'])
  let fake: FakeXApi
  let config: MysqlConfig
  let writer: Database
  let reader: Database
  let admin: mysql.Connection

  beforeAll(async () => {
    await server.start()
    fake = await new FakeXApi().start()
    config = server.config('th_hostile')
    await applySchema(config)
    writer = createWriterPool(config)
    reader = createDatabase(config, { statementTimeoutMs: config.queryTimeoutMs })
    admin = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, database: 'th_hostile' })
  }, 60_000)

  afterAll(async () => {
    await admin?.end().catch(() => {})
    await writer?.close().catch(() => {})
    await reader?.close().catch(() => {})
    fake?.stop()
    await server.remove()
  })

  const collectorConfig = (env: Record<string, string> = {}): CollectorConfig =>
    collectorConfigFor(fake, { HASHTAGS: 'devops', MYSQL_URL: server.url('th_hostile'), ...env })

  test('when tweets carry quotes and backslashes, then they are stored byte for byte and no text runs as SQL', async () => {
    const [[mode]] = (await admin.query('SELECT @@GLOBAL.sql_mode AS m')) as any
    expect(mode.m).toContain('NO_BACKSLASH_ESCAPES')
    fake.addTweets(
      alice,
      HOSTILE_TEXTS.map((text, i) => ({ text, tags: ['devops'], minutesAgo: 10 - i })),
    )
    const result = await collectorHarness(writer, collectorConfig()).collector.run()
    expect(result.outcome).toBe('success')
    expect(await tablesOf(admin)).toEqual(TABLES)
    const [rows] = (await admin.query('SELECT text FROM tweets ORDER BY id')) as any
    expect(rows.map((row: any) => row.text)).toEqual(HOSTILE_TEXTS)
    const [[user]] = (await admin.query('SELECT username, name FROM users')) as any
    expect([user.username, user.name]).toEqual([alice.username, alice.name])
  })

  test('when a client sends quotes and backslashes as filters, then they are values, never SQL', async () => {
    const app = startApp(reader)
    try {
      for (const value of ["'", "\\'", "\\' OR 1=1 -- ", '"', "o'hara\\"]) {
        for (const path of [
          '/api/v1/resources/tweets?hash=',
          '/api/v1/resources/tweets?lang=',
          '/api/v1/resources/tweets?author_id=',
        ]) {
          const response = await fetch(`${app.url}${path}${encodeURIComponent(value)}`)
          expect(response.status).toBeLessThan(500)
          if (response.status === 200) expect(((await response.json()) as any).data).toEqual([])
          else expect(response.headers.get('content-type')).toContain('application/problem+json')
        }
      }
      expect(await tablesOf(admin)).toEqual(TABLES)
    } finally {
      await app.stop()
    }
  })

  test('when a run outlasts wait_timeout, then the lock stays held and a second collector stays out', async () => {
    addSlowPages(fake, alice, 5, { pages: 5, delayMs: 1_000 })
    const first = collectorHarness(writer, collectorConfig({ MAX_PAGES_PER_HASHTAG: '20' })).collector.run()
    // Past wait_timeout: an idle lock connection would have been closed by now.
    await Bun.sleep(3_500)
    const second = createWriterPool(config)
    try {
      const other = await collectorHarness(second, collectorConfig()).collector.run()
      expect(other.outcome).toBe('skipped')
    } finally {
      await second.close()
    }
    expect((await first).outcome).toBe('success')
  }, 30_000)
})

describe('the collector lock lost mid-run', () => {
  test('when the lock connection is killed, then the run stops, stores nothing more, and another collector can run', async () => {
    const database = await createTestDatabase()
    const fake = await new FakeXApi().start()
    try {
      addSlowPages(fake, alice, 8, { pages: 8, delayMs: 400 })
      const config = collectorConfigFor(fake, { HASHTAGS: 'devops', MAX_PAGES_PER_HASHTAG: '20' })
      const running = collectorHarness(database.writer, config).collector.run()
      await Bun.sleep(600)
      const name = `twitter_hashtags.collector.${database.config.database}`
      const [[holder]] = (await database.admin.query('SELECT IS_USED_LOCK(?) AS id', [name])) as any
      expect(holder.id).not.toBeNull()
      await database.admin.query('KILL ?', [Number(holder.id)])
      const killedAt = performance.now()
      const result = await running
      expect(performance.now() - killedAt).toBeLessThan(3_000)
      expect(result.outcome).toBe('failed')
      expect(result.hashtags[0]!.reason).toContain('lock was lost')
      const [[count]] = (await database.admin.query('SELECT COUNT(*) AS n FROM tweets')) as any
      expect(Number(count.n)).toBeLessThan(8)
      const next = await collectorHarness(database.writer, config).collector.run()
      expect(next.outcome).toBe('success')
    } finally {
      fake.stop()
      await database.drop()
    }
  }, 30_000)
})

describe('derived state changed under the service', () => {
  test('when the data_version row is deleted, then answers still follow the data and ETags never repeat', async () => {
    const database = await createTestDatabase()
    const app = startApp(database.db)
    try {
      const url = `${app.url}/api/v1/resources/hashtags/all`
      const first = await fetch(url)
      const etag = first.headers.get('etag')!
      await database.admin.query('DELETE FROM data_version')
      app.cache.invalidate()
      const without = await fetch(url, { headers: { 'if-none-match': etag } })
      expect(without.status).toBe(200)
      expect(without.headers.get('etag')).not.toBe(etag)
      // A write re-creates the row, and the answer follows it.
      const collectorConfig = loadConfig({ COLLECT_SOURCE: 'sample', HASHTAGS: 'devops' }).collector
      await collectorHarness(database.writer, collectorConfig, createSampleSource()).collector.run()
      const [[row]] = (await database.admin.query('SELECT COUNT(*) AS n FROM data_version')) as any
      expect(Number(row.n)).toBe(1)
      const after = (await (await fetch(url)).json()) as any
      expect(after.data.find((h: any) => h.hashtag === 'devops').tweet_count).toBeGreaterThan(0)
    } finally {
      await app.stop()
      await database.drop()
    }
  })

  test('when a database is dropped and created again, then its first versions do not repeat the old ETags', async () => {
    const seen = new Set<string>()
    for (let round = 0; round < 3; round++) {
      const database = await createTestDatabase()
      const app = startApp(database.db)
      try {
        const etag = (await fetch(`${app.url}/api/v1/resources/hashtags/all`)).headers.get('etag')!
        expect(seen.has(etag)).toBe(false)
        seen.add(etag)
      } finally {
        await app.stop()
        await database.drop()
      }
    }
  })

  test.each([
    ['emptied', 'DELETE FROM hashtag_counts'],
    ['dropped', 'DROP TABLE hashtag_counts'],
    ['off by some rows', 'UPDATE hashtag_counts SET tweets = tweets + 3 LIMIT 1'],
  ])('when hashtag_counts is %s while tweets exist, then the next start rebuilds it from the rows', async (_, change) => {
    const database = await createTestDatabase()
    try {
      const config = loadConfig({ COLLECT_SOURCE: 'sample' }).collector
      await collectorHarness(database.writer, config, createSampleSource()).collector.run()
      const read = () => countsTable(database.admin)
      const kept = await read()
      expect(kept.length).toBeGreaterThan(0)
      await database.admin.query(change)
      await applySchema(database.config)
      expect(await read()).toEqual(kept)
    } finally {
      await database.drop()
    }
  })
})
