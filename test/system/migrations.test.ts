import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { mysqlUrl, startService } from '../../scripts/lib/service-process'
import { loadConfig, type MysqlConfig } from '../../src/config'
import { type CountsRow, compareCounts, countsDisagree } from '../../src/db/counts'
import { applySchema, migrationName, readSqlFiles, tablesOf } from '../../src/db/schema'
import { connectionOptions } from '../../src/db/session'
import { HASHTAGS, TWEETS, USERS } from '../support/core-data'
import { insertHashtags, insertUsers } from '../support/fixtures'

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
    await admin.query(`DROP DATABASE ${admin.escapeId(config.database)}`)
    await applySchema(
      config,
      FILES.filter((file) => file.name < '004'),
    )
    await admin.query(`USE ${admin.escapeId(config.database)}`)
    await insertHashtags(admin, HASHTAGS)
    await insertUsers(admin, USERS)
    await insertLegacyTweets(admin, LEGACY_TWEETS)
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

  test('when a file is already recorded, then it is not run again', async () => {
    await applySchema(config, FILES.slice(0, 3))
    await admin.query("INSERT INTO schema_migrations (name) VALUES ('003_long_posts')")
    await applySchema(config)
    expect(await textType()).toBe('text')
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
