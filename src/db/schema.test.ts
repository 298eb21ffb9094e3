import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { loadConfig } from '../config'
import { readShape, shapeDifferences } from './catalogue'
import { applySchema, readSqlFiles, schemaShape, tablesOf } from './schema'
import { connectionOptions } from './session'

const config = { ...loadConfig({}).mysql, database: `th_test_schema_${randomBytes(4).toString('hex')}` }
let admin: mysql.Connection

beforeAll(async () => {
  admin = await mysql.createConnection({ host: config.host, port: config.port, user: config.user, password: config.password })
})

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(config.database)}`)
  await admin.end()
})

const columns = async () =>
  (
    await admin.query(
      'SELECT TABLE_NAME t, COLUMN_NAME c, COLUMN_TYPE ty, CHARACTER_SET_NAME cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY t, c',
      [config.database],
    )
  )[0] as { t: string; c: string; ty: string; cs: string | null }[]

describe('schema', () => {
  test('when the database does not exist, then starting creates it with every table, the record of applied files included', async () => {
    await applySchema(config)
    const [tables] = (await admin.query(
      'SELECT TABLE_NAME name, ENGINE engine, TABLE_COLLATION collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY name',
      [config.database],
    )) as any
    const names = [
      'data_version',
      'hashtag_counts',
      'hashtags',
      'related_counts',
      'schema_migrations',
      'tweet_counts',
      'tweet_hashtags',
      'tweet_metrics',
      'tweets',
      'users',
    ]
    expect([...tables].sort((a: any, b: any) => (a.name < b.name ? -1 : 1))).toEqual(
      names.map((name) => ({ name, engine: 'InnoDB', collation: 'utf8mb4_unicode_ci' })),
    )
    expect(tablesOf(readSqlFiles()).sort()).toEqual(names)
  })

  test('then the catalogue holds exactly the shape the files declare: every table, column, type, nullability and index', async () => {
    const connection = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
    try {
      const held = await readShape({ rows: async (sql: string) => (await connection.query(sql))[0] as any[] })
      const declared = schemaShape(readSqlFiles())
      expect(shapeDifferences(declared, held)).toEqual([])
      // Nothing more either: the declaration is complete, not a subset that happens to hold.
      expect(shapeDifferences(held, declared)).toEqual([])
      expect([...held.keys()].sort()).toEqual([...declared.keys()].sort())
    } finally {
      await connection.end()
    }
  })

  test('then ids are unsigned 64-bit and every text column is utf8mb4 or ascii', async () => {
    const all = await columns()
    const ids = all.filter((col) => ['tweets', 'users', 'hashtags'].includes(col.t) && (col.c === 'id' || col.c.endsWith('_id')))
    expect(ids.length).toBe(4)
    for (const { t, c, ty } of ids) {
      expect({ t, c, ty: ty.replace('(20)', '') }).toEqual({ t, c, ty: 'bigint unsigned' })
    }
    for (const { t, c, cs } of all.filter((col) => col.cs !== null))
      expect({ t, c, ok: ['utf8mb4', 'ascii'].includes(cs!) }).toEqual({ t, c, ok: true })
    expect(all.find((col) => col.t === 'tweets' && col.c === 'text')!.cs).toBe('utf8mb4')
  })

  test('when applied again, and by five replicas at once, then nothing changes and nothing fails', async () => {
    await admin.query(`INSERT INTO ${admin.escapeId(config.database)}.hashtags (tag) VALUES ('kept')`)
    const versionOf = async () =>
      ((await admin.query(`SELECT id, version FROM ${admin.escapeId(config.database)}.data_version`)) as any)[0].map(
        (row: any) => [row.id, row.version],
      )
    const versionBefore = await versionOf()
    const before = await columns()
    await Promise.all(Array.from({ length: 5 }, () => applySchema(config)))
    expect(await columns()).toEqual(before)
    const [rows] = (await admin.query(`SELECT tag FROM ${admin.escapeId(config.database)}.hashtags`)) as any
    expect(rows).toEqual([{ tag: 'kept' }])
    expect(versionBefore).toHaveLength(1)
    expect(await versionOf()).toEqual(versionBefore)
  })

  test('then every index of tweets and users carries a comment-line saying which query it serves', () => {
    const text = readSqlFiles()
      .map((f) => f.text)
      .join('\n')
    const keys = text.split('\n').filter((line) => /^\s*(PRIMARY KEY|KEY)\b/.test(line))
    expect(keys.length).toBeGreaterThanOrEqual(9)
    for (const line of keys.filter((l) => !l.includes('(tag)'))) expect(line).toMatch(/ -- \S/)
  })
})
