import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { seed } from '../../scripts/seed'
import { type RunningApp, startApp } from '../../test/support/app'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { encodeCursor } from '../http/pagination'
import type { Database, Param } from './sql'

/**
 * No request path scans the tweets table. Every statement the real app sends while answering the
 * seven endpoints (filters, deep pages) is recorded, then explained (EXPLAIN: never a full scan of
 * tweets) and run again while the server counts the rows its handlers read (Handler_read_*), which
 * must stay bounded by the page size, not by the table's size.
 */

const TWEETS = 30_000
let database: TestDatabase
let app: RunningApp
const statements: { sql: string; params: Param[] }[] = []

/** The app's pool, recording every statement it is given. */
function recording(db: Database): Database {
  return {
    ...db,
    rows: (sql, params = []) => {
      statements.push({ sql, params })
      return db.rows(sql, params)
    },
  }
}

beforeAll(async () => {
  database = await createTestDatabase()
  await seed(database.config, { tweets: TWEETS, users: 6_000, seed: 7 })
  app = startApp(recording(database.db))
}, 120_000)

afterAll(async () => {
  await app?.stop()
  await database?.drop()
})

async function get(path: string) {
  const response = await fetch(app.url + path)
  expect({ path, status: response.status }).toEqual({ path, status: 200 })
  return (await response.json()) as any
}

/** Rows read by the server's handlers while running one statement. */
async function rowsRead(sql: string, params: Param[]): Promise<number> {
  await database.admin.query('FLUSH STATUS')
  await database.admin.query(sql, params)
  const [status] = (await database.admin.query("SHOW SESSION STATUS LIKE 'Handler_read%'")) as any
  return status.reduce((sum: number, row: { Value: string }) => sum + Number(row.Value), 0)
}

describe('query plans at scale', () => {
  test('every statement behind the seven endpoints avoids scanning tweets and reads rows in proportion to the page', async () => {
    const [[oldest]] = (await database.admin.query('SELECT id FROM tweets ORDER BY id LIMIT 1 OFFSET 100')) as any
    const [[author]] = (await database.admin.query(
      'SELECT author_id, COUNT(*) AS tweets FROM tweets GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1',
    )) as any
    expect(Number(author.tweets)).toBeLessThan(TWEETS / 10)
    const [[lastUser]] = (await database.admin.query('SELECT id FROM users ORDER BY id DESC LIMIT 1 OFFSET 50')) as any
    const deep = encodeCursor(oldest.id)
    // Cursors part-way down filtered lists: an index used for its equality prefix only ('ref', not
    // 'range') skips every entry above the cursor, which the rows-read bound below catches.
    const partWay = async (where: string, fraction: number) => {
      const [[{ count }]] = (await database.admin.query(`SELECT COUNT(*) AS count FROM tweets WHERE ${where}`)) as any
      const [[row]] = (await database.admin.query(`SELECT id FROM tweets WHERE ${where} ORDER BY id DESC LIMIT 1 OFFSET ?`, [
        Math.floor(Number(count) * fraction),
      ])) as any
      return encodeCursor(row.id)
    }
    const paths = [
      '/api/v1/resources/tweets/all',
      `/api/v1/resources/tweets/all?cursor=${deep}`,
      '/api/v1/resources/tweets/all?limit=1000',
      '/api/v1/resources/tweets?hash=devops',
      `/api/v1/resources/tweets?hash=devops&cursor=${deep}`,
      '/api/v1/resources/tweets?lang=ja',
      '/api/v1/resources/tweets?lang=ko&hash=remediation',
      `/api/v1/resources/tweets?lang=en&cursor=${await partWay("lang = 'en'", 0.3)}`,
      `/api/v1/resources/tweets?hash=devops&lang=en&cursor=${await partWay("hashtag = 'devops' AND lang = 'en'", 0.1)}`,
      `/api/v1/resources/tweets?hash=devops&cursor=${await partWay("hashtag = 'devops'", 0.3)}`,
      `/api/v1/resources/tweets?author_id=${author.author_id}`,
      `/api/v1/resources/tweets?author_id=${author.author_id}&hash=sre&lang=en`,
      '/api/v1/resources/tweets/by_hour',
      '/api/v1/resources/tweets/by_hour?hash=devops&lang=en&tz=-03:00',
      '/api/v1/resources/tweets/by_lang',
      '/api/v1/resources/tweets/by_lang?hash=sre',
      '/api/v1/resources/users/all',
      `/api/v1/resources/users/all?cursor=${encodeCursor(lastUser.id)}`,
      '/api/v1/resources/users/top5',
      '/api/v1/resources/hashtags/all',
    ]
    for (const path of paths) await get(path)
    const reads = statements.filter((s) => /\b(FROM|JOIN) tweets\b/.test(s.sql))
    expect(reads.length).toBeGreaterThanOrEqual(9)
    for (const { sql, params } of reads) {
      const [plan] = (await database.admin.query(`EXPLAIN ${sql}`, params)) as any
      for (const step of plan.filter((s: { table: string }) => s.table === 'tweets' || s.table === 't')) {
        expect({ sql: sql.slice(0, 120), table: step.table, type: step.type, key: step.key !== null }).toEqual({
          sql: sql.slice(0, 120),
          table: step.table,
          type: step.type === 'ALL' ? 'not a full scan' : step.type,
          key: true,
        })
      }
      // Below a cursor, the page's ids come from a range of their index, read from the cursor down.
      if (sql.includes('id < CAST')) {
        const pick = plan.find((s: { table: string }) => s.table === 'tweets')
        expect({ sql: sql.slice(0, 120), type: pick?.type }).toEqual({ sql: sql.slice(0, 120), type: 'range' })
      }
      const limit = Number(params.at(-1))
      // Per tweet of the page: its index entry, its rows under each hashtag, its author, the sort.
      const bound = 10 * (Number.isInteger(limit) && limit > 0 ? limit : 100) + 200
      const read = await rowsRead(sql, params)
      // An author's range is read whole when other filters narrow it further (no index holds all
      // three): in proportion to that author's tweets. Every other path: in proportion to the page.
      const narrowedAuthor = sql.includes('author_id = CAST') && /hashtag = \?|lang = \?/.test(sql)
      const allowed = narrowedAuthor ? 4 * Number(author.tweets) + 200 : bound
      expect({ sql: sql.slice(0, 120), read: read <= allowed }).toEqual({ sql: sql.slice(0, 120), read: true })
    }
    // The aggregates read the kept counts, never the tweets.
    const aggregates = statements.filter((s) => s.sql.includes('hashtag_counts'))
    expect(aggregates.length).toBeGreaterThanOrEqual(5)
    for (const { sql } of aggregates) expect(sql).not.toMatch(/\bFROM tweets\b|\bJOIN tweets\b/)
  })
})
