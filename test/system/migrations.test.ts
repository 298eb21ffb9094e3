import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { freePort, mysqlUrl, spawnBun, startService } from '../../scripts/lib/service-process'
import { loadConfig, type MysqlConfig } from '../../src/config'
import { readShape } from '../../src/db/catalogue'
import { type CountsRow, compareCounts, countsDisagree } from '../../src/db/counts'
import { applySchema, migrationName, readSqlFiles, SchemaError, schemaShape, tablesOf } from '../../src/db/schema'
import { connectionOptions } from '../../src/db/session'
import { HASHTAGS, TWEETS, USERS } from '../support/core-data'
import { insertHashtags, insertUsers } from '../support/fixtures'
import { jsonLines } from '../support/json-lines'

/**
 * Schema changes on databases already deployed: a database built with the schema as first released
 * (no record of applied files) and holding data is migrated by the next start, by one process or by
 * three starting at once, and keeps every row.
 */

const BEFORE = readFileSync(join(import.meta.dir, '..', 'support', 'schema-before-migrations.sql'), 'utf8')
const FILES = readSqlFiles()

let config: MysqlConfig
let admin: mysql.Connection

/** A database with the schema before migrations and the core data set in it. */
beforeEach(async () => {
  config = { ...loadConfig(process.env).mysql, database: `th_test_migrate_${process.pid}_${randomBytes(4).toString('hex')}` }
  const root = await mysql.createConnection({ ...connectionOptions(config), multipleStatements: true })
  await root.query(`CREATE DATABASE ${root.escapeId(config.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await root.end()
  admin = await mysql.createConnection({
    ...connectionOptions(config),
    database: config.database,
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  })
  await admin.query(BEFORE)
  await insertHashtags(admin, HASHTAGS)
  await insertUsers(admin, USERS)
  await insertLegacyTweets(admin, LEGACY_TWEETS)
})

/** The core data set as a release without kinds stored it, and a retweet, recognisable by its text. */
const LEGACY_TWEETS = [
  ...TWEETS,
  {
    id: '1000000000000000009',
    hashtags: ['devops', 'sre'],
    author_id: '100',
    lang: 'en',
    text: 'RT @bob: SLOs for everyone #DevOps #SRE',
    created_at: '2026-11-20T01:20:00.000Z',
  },
]

/** Rows in the columns every release before kinds had. */
async function insertLegacyTweets(connection: mysql.Connection, tweets: typeof LEGACY_TWEETS) {
  const values = tweets.flatMap((t) =>
    t.hashtags.map((tag) => [t.id, tag, t.author_id, t.lang, t.text, t.created_at.replace('T', ' ').replace('Z', '')]),
  )
  await connection.query('INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at) VALUES ?', [values])
}

/** The test's database built again as the release before kinds left it, with the same data. */
async function toReleaseBeforeKinds() {
  await admin.query(`DROP DATABASE ${admin.escapeId(config.database)}`)
  await applySchema(
    config,
    FILES.filter((file) => file.name < '004'),
  )
  await admin.query(`USE ${admin.escapeId(config.database)}`)
  await insertHashtags(admin, HASHTAGS)
  await insertUsers(admin, USERS)
  await insertLegacyTweets(admin, LEGACY_TWEETS)
}

afterEach(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(config.database)}`)
  await admin.end()
})

const textType = async () =>
  (
    (await admin.query(
      "SELECT DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tweets' AND COLUMN_NAME = 'text'",
    )) as any
  )[0][0].type
const recorded = async () =>
  ((await admin.query('SELECT name FROM schema_migrations ORDER BY name')) as any)[0].map((r: any) => r.name)
const shapeOf = (connection: mysql.Connection) =>
  readShape({ rows: async (sql: string) => (await connection.query(sql))[0] as any[] })
const rows = async () => ((await admin.query('SELECT id, hashtag, text FROM tweets ORDER BY id, hashtag')) as any)[0]
const everyFile = FILES.filter((file) => file.name !== '000_migrations.sql').map((file) => migrationName(file.name))

describe('migrations', () => {
  test('when a database with the first released schema holds data, then the next start migrates it and keeps every row', async () => {
    const before = await rows()
    expect(before.length).toBeGreaterThan(0)
    expect(await textType()).toBe('text')
    await applySchema(config)
    expect(await textType()).toBe('mediumtext')
    expect(await recorded()).toEqual(everyFile)
    expect(await rows()).toEqual(before)
    // The counts, left empty by the rows loaded by hand, were rebuilt from the rows on the way.
    const [counts] = (await admin.query(compareCounts(tablesOf(FILES)))) as [CountsRow[], unknown]
    expect(countsDisagree(counts)).toBe(false)
    // And a post longer than TEXT now fits.
    const long = '𠜎'.repeat(25_000)
    await admin.query('UPDATE tweets SET text = ? WHERE id = ?', [long, before[0].id])
    const [[stored]] = (await admin.query('SELECT text FROM tweets WHERE id = ? LIMIT 1', [before[0].id])) as any
    expect(stored.text).toBe(long)
  })

  test('when a database of the release before kinds holds data, then kinds are backfilled where the text tells, hashtags from the rows, and the counts rebuilt', async () => {
    await toReleaseBeforeKinds()
    const before = await rows()
    await applySchema(config)
    expect(await recorded()).toEqual(everyFile)
    expect(await rows()).toEqual(before)
    const [kinds] = (await admin.query('SELECT DISTINCT id, kind FROM tweets ORDER BY id')) as any
    const retweets = LEGACY_TWEETS.filter((t) => t.text.startsWith('RT @')).map((t) => t.id)
    expect(retweets.length).toBe(1)
    for (const { id, kind } of kinds) expect({ id, kind }).toEqual({ id, kind: retweets.includes(id) ? 'retweet' : 'unknown' })
    const [tags] = (await admin.query('SELECT id, tag FROM tweet_hashtags ORDER BY id, tag')) as any
    expect(tags).toEqual(
      LEGACY_TWEETS.flatMap((t) => t.hashtags.map((tag) => ({ id: t.id, tag }))).sort((a, b) =>
        BigInt(a.id) === BigInt(b.id) ? (a.tag < b.tag ? -1 : 1) : BigInt(a.id) < BigInt(b.id) ? -1 : 1,
      ),
    )
    const [[metrics]] = (await admin.query('SELECT COUNT(*) AS n FROM tweet_metrics')) as any
    expect(Number(metrics.n)).toBe(0)
    const [counts] = (await admin.query(compareCounts(tablesOf(FILES)))) as [CountsRow[], unknown]
    expect(countsDisagree(counts)).toBe(false)
    const [[total]] = (await admin.query(
      "SELECT SUM(tweets) AS n FROM tweet_counts WHERE hashtag = '' AND lang = '' AND kind = 'retweet'",
    )) as any
    expect(Number(total.n)).toBe(1)
  })

  test('when a file is recorded but the catalogue lacks its effect (a table dropped and re-created in its first shape), then its DDL runs again and its data steps do not', async () => {
    await applySchema(config)
    await admin.query('SET FOREIGN_KEY_CHECKS = 0')
    await admin.query('DROP TABLE tweets')
    await admin.query('SET FOREIGN_KEY_CHECKS = 1')
    // What an older start would do: the repeatable files only, with 003 and 005 recorded.
    await admin.query(FILES.find((file) => file.name === '001_schema.sql')!.text)
    expect(await textType()).toBe('text')
    await insertLegacyTweets(admin, LEGACY_TWEETS)
    await applySchema(config)
    expect(await textType()).toBe('mediumtext')
    expect(await shapeOf(admin)).toEqual(schemaShape(FILES))
    // The backfill of 005 is not run again on rows stored after it: kinds stay as stored.
    const [[retweets]] = (await admin.query("SELECT COUNT(*) AS n FROM tweets WHERE kind = 'retweet'")) as any
    expect(Number(retweets.n)).toBe(0)
  })

  test('when the record of a file that ran is deleted, or schema_migrations is dropped, then the next start completes and keeps every row', async () => {
    await applySchema(config)
    const before = await rows()
    await admin.query("DELETE FROM schema_migrations WHERE name = '005_kinds'")
    await applySchema(config)
    expect(await recorded()).toEqual(everyFile)
    await admin.query('DROP TABLE schema_migrations')
    await applySchema(config)
    expect(await recorded()).toEqual(everyFile)
    expect(await rows()).toEqual(before)
    expect(await shapeOf(admin)).toEqual(schemaShape(FILES))
  })

  test('when an index was dropped by hand and no file brings it back, then the start fails naming it, not as an unreachable database', async () => {
    await applySchema(config)
    await admin.query('ALTER TABLE tweets DROP KEY tweets_by_lang')
    const error = await applySchema(config).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SchemaError)
    expect(error).toMatchObject({ code: 'SCHEMA_MISMATCH' })
    expect((error as Error).message).toContain('index tweets.tweets_by_lang is missing')
  })

  test('when the server refuses a statement of a file, then the error names the file and the server code', async () => {
    // The release before kinds, with a column of that name an operator added with another type.
    await toReleaseBeforeKinds()
    await admin.query('ALTER TABLE tweets ADD COLUMN kind DATE NULL')
    const error = await applySchema(config).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SchemaError)
    expect(error).toMatchObject({ file: '005_kinds.sql' })
    expect((error as Error).message).toMatch(/^sql\/005_kinds\.sql failed: ER_[A-Z_]+ \(\d+\)$/)
  })

  test('when three service processes start at once on it, then each becomes ready and every file is applied once', async () => {
    const before = await rows()
    const env = { MYSQL_URL: mysqlUrl(config), COLLECT_SOURCE: 'off', LOG_LEVEL: 'warn' }
    const services = await Promise.all([startService(env, 60_000), startService(env, 60_000), startService(env, 60_000)])
    try {
      for (const service of services) expect((await fetch(`${service.url}/health/ready`)).status).toBe(200)
      expect(await recorded()).toEqual(everyFile)
      expect(await textType()).toBe('mediumtext')
      expect(await rows()).toEqual(before)
      for (const service of services) expect(service.stderr()).toBe('')
    } finally {
      await Promise.all(services.map((service) => service.stop()))
    }
  }, 90_000)

  test('every schema file but the record itself ends by recording itself under its name', () => {
    for (const file of FILES.filter((f) => f.name !== '000_migrations.sql')) {
      const last = file.text.trim().split('\n').at(-1)
      expect({ file: file.name, last }).toEqual({
        file: file.name,
        last: `INSERT IGNORE INTO schema_migrations (name) VALUES ('${migrationName(file.name)}');`,
      })
    }
  })
})

/** The service as a process on this test's database, not waited for: its start is what is looked at. */
async function startOn(env: Record<string, string> = {}) {
  const port = await freePort()
  const child = spawnBun('index.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    MYSQL_URL: mysqlUrl(config),
    COLLECT_SOURCE: 'off',
    ...env,
  })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    child,
    ready: () => fetch(`${url}/health/ready`).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
  }
}

const children: ReturnType<typeof spawnBun>[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
})

/** Polls `probe` until `done` holds of its answer; the answer. */
async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const started = performance.now()
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined && done(value)) return value
    if (performance.now() - started > timeoutMs)
      throw new Error(`not reached within ${timeoutMs} ms; last: ${JSON.stringify(value)}`)
    await Bun.sleep(20)
  }
}

describe('what a start says about the schema', () => {
  test('when the server refuses a statement, then the service stays up, not ready, naming the file and the code, and never retries it as an unreachable database', async () => {
    await admin.query('ALTER TABLE tweets ADD COLUMN kind DATE NULL')
    const service = await startOn()
    const { status, body } = await until(service.ready, (r) => r.body.checks?.schema === 'failed')
    expect(status).toBe(503)
    expect(body.detail).toMatch(/^schema: sql\/005_kinds\.sql failed: ER_[A-Z_]+ \(\d+\)$/)
    const data = await fetch(`${service.url}/api/v1/resources/tweets/all`)
    expect(data.status).toBe(503)
    expect(data.headers.get('content-type')).toStartWith('application/problem+json')
    expect(((await data.json()) as any).detail).toContain('sql/005_kinds.sql')
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200)
    await Bun.sleep(1_000)
    service.child.kill('SIGTERM')
    expect(await service.child.exited).toBe(0)
    const actions = jsonLines(await new Response(service.child.stdout).text())
    const failed = actions.filter((l) => l.event?.action === 'schema-failed')
    expect(failed).toHaveLength(1)
    expect(failed[0]!.twitter).toMatchObject({ schema_file: '005_kinds.sql', schema_code: expect.stringMatching(/^ER_/) })
    expect(actions.filter((l) => l.event?.action === 'database-waiting')).toEqual([])
  })

  test('when bun run collect meets a schema it cannot apply, then it exits 1 with one line naming the file and the code', async () => {
    await admin.query('ALTER TABLE tweets ADD COLUMN kind DATE NULL')
    const child = spawnBun('collect.ts', { MYSQL_URL: mysqlUrl(config), COLLECT_SOURCE: 'sample', HASHTAGS: 'devops' })
    const [code, err] = await Promise.all([child.exited, new Response(child.stderr).text()])
    expect(code).toBe(1)
    // Besides the log's warning that the sample is synthetic (JSON), one line for a person.
    const said = err
      .trimEnd()
      .split('\n')
      .filter((line) => !line.startsWith('{'))
    expect(said).toEqual([expect.stringMatching(/sql\/005_kinds\.sql failed: ER_[A-Z_]+ \(\d+\)$/)])
  })

  test('when a table is changed by hand under a running service, then readiness says which column or index differs', async () => {
    const service = await startOn()
    await until(service.ready, (r) => r.status === 200)
    await admin.query('ALTER TABLE tweets DROP KEY tweets_by_time')
    const { status, body } = await service.ready()
    expect(status).toBe(503)
    expect(body.checks.schema).toBe('mismatch')
    expect(body.detail).toContain('index tweets.tweets_by_time is missing')
  })

  test('when another process holds the schema lock (it migrates), then a start waits, saying so, and is ready once it is released', async () => {
    const holder = await mysql.createConnection(connectionOptions(config))
    try {
      await holder.query('SELECT GET_LOCK(?, 0)', [`twitter_hashtags.schema.${config.database}`])
      const service = await startOn({ LOG_LEVEL: 'info' })
      const { status, body } = await until(service.ready, (r) => r.body.checks?.schema === 'waiting')
      expect(status).toBe(503)
      expect(body.detail).toContain('another process holds the schema lock and is migrating')
      expect((await fetch(`${service.url}/api/v1/resources/tweets/all`)).status).toBe(503)
      await holder.query('SELECT RELEASE_LOCK(?)', [`twitter_hashtags.schema.${config.database}`])
      await until(service.ready, (r) => r.status === 200, 30_000)
    } finally {
      await holder.end()
    }
  })

  test('when another process holds the schema lock past SCHEMA_WAIT_TIMEOUT, then the start gives up and exits 1 naming the wait', async () => {
    const holder = await mysql.createConnection(connectionOptions(config))
    try {
      await holder.query('SELECT GET_LOCK(?, 0)', [`twitter_hashtags.schema.${config.database}`])
      const service = await startOn({ SCHEMA_WAIT_TIMEOUT: '2s' })
      const started = performance.now()
      expect(await service.child.exited).toBe(1)
      expect(performance.now() - started).toBeLessThan(10_000)
      const lines = jsonLines(await new Response(service.child.stdout).text())
      expect(lines.find((l) => l.event?.action === 'schema-gave-up')?.message).toContain('for longer than 2 s')
    } finally {
      await holder.end()
    }
  })

  test('when a start migrates a table another session keeps busy, then readiness says which file and statement it is at', async () => {
    await admin.query('START TRANSACTION')
    await admin.query('SELECT * FROM tweets LIMIT 1 FOR UPDATE')
    try {
      const service = await startOn()
      const { body } = await until(service.ready, (r) => r.body.checks?.schema === 'migrating')
      expect(body.detail).toBe('migrating the schema: sql/003_long_posts.sql, statement 1 of 2 (changing a table)')
    } finally {
      await admin.query('ROLLBACK')
    }
  })
})
