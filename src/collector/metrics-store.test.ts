import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { withNamedLock } from '../db/lock'
import { storeMetrics, tweetsToRefresh } from './metrics-store'

let database: TestDatabase

beforeEach(async () => {
  database = await createTestDatabase()
  await database.admin.query(`INSERT INTO hashtags (tag) VALUES ('devops'), ('sre')`)
  await database.admin.query(
    `INSERT INTO users (id, username, name, followers_count, updated_at) VALUES (9, 'a', 'A', 1, UTC_TIMESTAMP(3))`,
  )
  // 1, 2, 4 and 5 young (2 under two hashtags), 3 old; 1 and 5 never measured, 4 before 2.
  await database.admin.query(`INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at, kind) VALUES
    (1, 'devops', 9, 'en', 'a', '2026-12-01 10:00:00.000', 'original'),
    (2, 'devops', 9, 'pt', 'b', '2026-12-01 09:00:00.000', 'quote'),
    (2, 'sre', 9, 'pt', 'b', '2026-12-01 09:00:00.000', 'quote'),
    (3, 'devops', 9, 'en', 'c', '2026-11-20 09:00:00.000', 'reply'),
    (4, 'sre', 9, 'en', 'd', '2026-12-01 11:00:00.000', 'retweet'),
    (5, 'devops', 9, 'en', 'e', '2026-12-01 11:50:00.000', 'original')`)
  await database.admin.query(`INSERT INTO tweet_metrics (id, created_at, lang, kind, likes, retweets, replies, quotes, impressions, engagement, updated_at) VALUES
    (2, '2026-12-01 09:00:00.000', 'pt', 'quote', 1, 1, 1, 1, NULL, 4, '2026-12-01 11:45:00.000'),
    (4, '2026-12-01 11:00:00.000', 'en', 'retweet', 1, 1, 1, 1, NULL, 4, '2026-12-01 11:30:00.000')`)
})
afterEach(() => database.drop())

const version = async () => ((await database.admin.query('SELECT version FROM data_version')) as any)[0][0]?.version ?? null
/** The refresh's clock, pinned: a written row is dated by it, not by the machine's date. */
const MEASURED_AT = Date.UTC(2026, 11, 1, 12, 5, 6, 789)
const clock = () => MEASURED_AT
const m = (likes: number, impressions: number | null = null) => ({ likes, retweets: 2, replies: 3, quotes: 4, impressions })

describe('which tweets the refresh measures', () => {
  test('young ones only, each once, never measured first, then the least recently measured, ties oldest first', async () => {
    expect(await tweetsToRefresh(database.writer, '2026-11-30 00:00:00.000', 10)).toEqual(['1', '5', '4', '2'])
    expect(await tweetsToRefresh(database.writer, '2026-11-30 00:00:00.000', 3)).toEqual(['1', '5', '4'])
    expect(await tweetsToRefresh(database.writer, '2026-12-01 09:30:00.000', 10)).toEqual(['1', '5', '4'])
    expect(await tweetsToRefresh(database.writer, '2026-11-30 00:00:00.000', 0)).toEqual([])
  })

  test('when a bound of the last measure is given, then tweets measured since are left out', async () => {
    expect(await tweetsToRefresh(database.writer, '2026-11-30 00:00:00.000', 10, '2026-12-01 11:40:00.000')).toEqual([
      '1',
      '5',
      '4',
    ])
  })
})

describe('writing what a lookup answered', () => {
  test('rows are inserted and updated with the facts of the stored tweet, engagement summed, and the data version moves', async () => {
    const before = await version()
    const written = await storeMetrics(
      database.writer,
      [
        { id: '1', metrics: m(10, 100) },
        { id: '2', metrics: m(20) },
        { id: '404', metrics: m(1) },
      ],
      clock,
    )
    expect(written).toBe(2)
    const [rows] = (await database.admin.query(
      'SELECT id, created_at, lang, kind, likes, impressions, engagement, updated_at FROM tweet_metrics ORDER BY id',
    )) as any
    expect(rows).toEqual([
      {
        id: '1',
        created_at: '2026-12-01 10:00:00.000',
        lang: 'en',
        kind: 'original',
        likes: '10',
        impressions: '100',
        engagement: '19',
        updated_at: '2026-12-01 12:05:06.789',
      },
      {
        id: '2',
        created_at: '2026-12-01 09:00:00.000',
        lang: 'pt',
        kind: 'quote',
        likes: '20',
        impressions: null,
        engagement: '29',
        updated_at: '2026-12-01 12:05:06.789',
      },
      {
        id: '4',
        created_at: '2026-12-01 11:00:00.000',
        lang: 'en',
        kind: 'retweet',
        likes: '1',
        impressions: null,
        engagement: '4',
        updated_at: '2026-12-01 11:30:00.000',
      },
    ])
    expect(await version()).not.toBe(before)
  })

  test('when nothing of the answer is stored, then nothing is written and the data version stays', async () => {
    await storeMetrics(database.writer, [{ id: '1', metrics: m(1) }], clock)
    const before = await version()
    expect(await storeMetrics(database.writer, [], clock)).toBe(0)
    expect(await storeMetrics(database.writer, [{ id: '404', metrics: m(1) }], clock)).toBe(0)
    expect(await version()).toBe(before)
  })

  test('when the collector lock is no longer held, then nothing is written', async () => {
    const name = `test.metrics.${database.config.database}`
    // The fence of a lock released since: its check answers that the lock is not held.
    const held = await withNamedLock(database.config, name, async (hold) => hold.fence)
    if (!held.acquired) throw new Error('the test could not take the lock')
    const fence = held.result
    await expect(storeMetrics(database.writer, [{ id: '1', metrics: m(1) }], clock, fence)).rejects.toThrow('lock was lost')
    const [rows] = (await database.admin.query('SELECT id FROM tweet_metrics WHERE id = 1')) as any
    expect(rows).toEqual([])
  })
})
