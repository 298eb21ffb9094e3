import { afterEach, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { loadConfig, type MysqlConfig } from '../../src/config'
import { applySchema, readSqlFiles, type SchemaProgress } from '../../src/db/schema'
import { connectionOptions } from '../../src/db/session'
import { HASHTAGS, TWEETS, USERS } from '../support/core-data'
import { insertHashtags, insertUsers } from '../support/fixtures'

/**
 * A start killed between any two statements of the schema files (DDL commits by itself, so a
 * killed start leaves whatever it got to) must leave a database that the next start completes, with
 * the schema and rows of a start that was never killed. The kill points are not listed by hand:
 * every statement a start runs is one, from each starting point a deployed database can be at, so
 * a new migration file is covered the day it is added.
 */

const FILES = readSqlFiles()
const BEFORE_MIGRATIONS = readFileSync(join(import.meta.dir, '..', 'support', 'schema-before-migrations.sql'), 'utf8')
const base = loadConfig(process.env).mysql
const databases: string[] = []

const connect = (config: MysqlConfig, database?: string) =>
  mysql.createConnection({
    ...connectionOptions(config),
    ...(database === undefined ? {} : { database }),
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    timezone: 'Z',
  })

afterEach(async () => {
  const root = await connect(base)
  for (const name of databases.splice(0)) await root.query(`DROP DATABASE IF EXISTS ${root.escapeId(name)}`)
  await root.end()
})

async function emptyDatabase(): Promise<MysqlConfig> {
  const config = { ...base, database: `th_test_crash_${process.pid}_${randomBytes(4).toString('hex')}` }
  databases.push(config.database)
  const root = await connect(base)
  await root.query(`CREATE DATABASE ${root.escapeId(config.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await root.end()
  return config
}

async function withConnection<T>(config: MysqlConfig, work: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await connect(config, config.database)
  try {
    return await work(connection)
  } finally {
    await connection.end()
  }
}

/** Rows stored by the release before kinds: ids, hashtags, texts, one of them a retweet by its text. */
async function insertLegacyTweets(connection: mysql.Connection) {
  const tweets = [...TWEETS, { ...TWEETS[0]!, id: '1000000000000000009', text: 'RT @bob: SLOs #DevOps' }]
  const values = tweets.flatMap((t) =>
    t.hashtags.map((tag) => [t.id, tag, t.author_id, t.lang, t.text, t.created_at.replace('T', ' ').replace('Z', '')]),
  )
  await connection.query('INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at) VALUES ?', [values])
}

/** The states a deployed database can be in when a new release starts on it. */
const STARTING_POINTS: Record<string, (config: MysqlConfig) => Promise<void>> = {
  'an empty database': async () => {},
  'the first released schema, with data': (config) =>
    withConnection(config, async (c) => {
      await c.query(BEFORE_MIGRATIONS)
      await insertHashtags(c, HASHTAGS)
      await insertUsers(c, USERS)
      await insertLegacyTweets(c)
    }),
  'the release before kinds, with data': async (config) => {
    await applySchema(
      config,
      FILES.filter((file) => file.name < '004'),
    )
    await withConnection(config, async (c) => {
      await insertHashtags(c, HASHTAGS)
      await insertUsers(c, USERS)
      await insertLegacyTweets(c)
    })
  },
}

/**
 * Columns whose values differ from one database to another whatever happens: when a file was
 * recorded, the random first data version, when the fixture's hashtags were inserted.
 */
const VARYING: Record<string, string[]> = {
  schema_migrations: ['applied_at'],
  data_version: ['version'],
  hashtags: ['created_at'],
}

/** The whole database: each table as the server would create it again, and every row in a stable order. */
async function snapshot(config: MysqlConfig) {
  return withConnection(config, async (c) => {
    const [tables] = (await c.query('SHOW TABLES')) as any
    const result: Record<string, unknown> = {}
    for (const row of tables as Record<string, string>[]) {
      const table = Object.values(row)[0]!
      const [[create]] = (await c.query(`SHOW CREATE TABLE ${c.escapeId(table)}`)) as any
      const [rows] = (await c.query(`SELECT * FROM ${c.escapeId(table)}`)) as any
      const varying = Object.hasOwn(VARYING, table) ? VARYING[table]! : []
      const kept = (rows as Record<string, unknown>[])
        .map((row) => JSON.stringify(Object.entries(row).filter(([column]) => !varying.includes(column))))
        .sort()
      result[table] = { create: create['Create Table'], rows: kept }
    }
    return result
  })
}

class Killed extends Error {}

/** A start that dies just before its `at`-th step (counted from 0); resolves with the steps it saw. */
async function startKilledAt(config: MysqlConfig, at: number): Promise<SchemaProgress[]> {
  const seen: SchemaProgress[] = []
  const error = await applySchema(config, FILES, {
    onProgress(progress) {
      if (progress.phase === 'waiting') return
      if (seen.length === at) throw new Killed(`killed before step ${at}`)
      seen.push(progress)
    },
  }).catch((e: unknown) => e)
  if (at !== Number.POSITIVE_INFINITY) expect(error).toBeInstanceOf(Killed)
  return seen
}

describe('a start killed at any statement of the schema files', () => {
  for (const [name, prepare] of Object.entries(STARTING_POINTS)) {
    test(`from ${name}, every kill point leaves a database the next start completes, as if never killed`, async () => {
      const clean = await emptyDatabase()
      await prepare(clean)
      const steps = await startKilledAt(clean, Number.POSITIVE_INFINITY)
      const expected = await snapshot(clean)
      // Every file that changes something is among the kill points.
      expect(steps.length).toBeGreaterThanOrEqual(FILES.length)
      for (let at = 0; at < steps.length; at++) {
        const config = await emptyDatabase()
        await prepare(config)
        await startKilledAt(config, at)
        await applySchema(config)
        const step = steps[at]!
        const where = step.phase === 'statement' ? `${step.file} statement ${step.statement}` : step.phase
        expect({ killedBefore: where, database: await snapshot(config) }).toEqual({ killedBefore: where, database: expected })
      }
    }, 240_000)
  }
})
