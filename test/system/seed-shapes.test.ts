import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FAVOURITES, HASHTAGS, seed, UNTRACKED } from '../../scripts/seed'
import { createTestDatabase, type TestDatabase } from '../support/database'

/**
 * `bun run seed` fills the analysis tables with the shapes of real hashtag traffic: the four kinds
 * in realistic shares, heavy-tailed likes, impressions sometimes missing, one metrics row per tweet
 * and every hashtag a tweet carries, with each tracked hashtag's own favourite companions.
 */

const TWEETS = 20_000
const OPTIONS = { tweets: TWEETS, users: 4_000, seed: 11 }
const TRACKED = new Set(HASHTAGS)
let database: TestDatabase

beforeAll(async () => {
  database = await createTestDatabase()
  await seed(database.config, OPTIONS)
}, 120_000)

afterAll(async () => {
  await database?.drop()
})

const rows = async (sql: string) => ((await database.admin.query(sql)) as any)[0] as any[]
const one = async (sql: string) => (await rows(sql))[0]
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!

/** Checksums of every table the seed writes: equal when the rows are equal. */
async function checksums(db: TestDatabase) {
  const [tables] = (await db.admin.query(
    'CHECKSUM TABLE tweets, users, tweet_metrics, tweet_hashtags, hashtag_counts, tweet_counts, related_counts',
  )) as any
  return Object.fromEntries((tables as { Table: string; Checksum: string }[]).map((t) => [t.Table.split('.')[1], t.Checksum]))
}

describe('bun run seed', () => {
  test('when seeded, then every tweet has one kind, of all four, originals and retweets the majority and retweets written as X writes them', async () => {
    const kinds = await rows(
      'SELECT kind, COUNT(*) AS n FROM (SELECT id, MIN(kind) AS kind FROM tweets GROUP BY id) AS t GROUP BY kind',
    )
    const share = Object.fromEntries(kinds.map((k) => [k.kind, Number(k.n) / TWEETS]))
    expect(Object.keys(share).sort()).toEqual(['original', 'quote', 'reply', 'retweet'])
    expect(share.original! + share.retweet!).toBeGreaterThan(0.7)
    expect(share.original!).toBeGreaterThan(share.retweet!)
    expect(share.retweet!).toBeGreaterThan(share.reply!)
    expect(share.reply!).toBeGreaterThan(share.quote!)
    expect(share.quote!).toBeGreaterThan(0.04)
    // One kind per tweet, on all its rows, and the text of a retweet (which 005_kinds.sql reads) agrees with it.
    expect(
      await one('SELECT COUNT(*) AS n FROM (SELECT id FROM tweets GROUP BY id HAVING COUNT(DISTINCT kind) > 1) AS t'),
    ).toEqual({ n: '0' })
    expect(
      await one("SELECT COUNT(*) AS n FROM tweets WHERE (kind = 'retweet') <> (LEFT(text, 4) COLLATE utf8mb4_bin = 'RT @')"),
    ).toEqual({ n: '0' })
  })

  test('when seeded, then every tweet has exactly one metrics row, copying its creation, language and kind, with engagement the sum of its reactions', async () => {
    expect(await one('SELECT COUNT(*) AS n FROM tweet_metrics')).toEqual({ n: String(TWEETS) })
    const mismatched = await one(`
      SELECT COUNT(*) AS n FROM (SELECT id, MIN(created_at) AS created_at, MIN(lang) AS lang, MIN(kind) AS kind FROM tweets GROUP BY id) AS t
        LEFT JOIN tweet_metrics m ON m.id = t.id
       WHERE m.id IS NULL OR m.created_at <> t.created_at OR m.lang <> t.lang OR m.kind <> t.kind
          OR m.engagement <> m.likes + m.retweets + m.replies + m.quotes
          OR m.updated_at < m.created_at OR m.updated_at > '2026-11-28 00:00:00'`)
    expect(mismatched).toEqual({ n: '0' })
  })

  test('when seeded, then likes are heavy-tailed and the other reactions rarer, retweets carrying only the retweeted post’s retweet count', async () => {
    const likes = (await rows("SELECT likes FROM tweet_metrics WHERE kind <> 'retweet' ORDER BY likes")).map((r) =>
      Number(r.likes),
    )
    const median = quantile(likes, 0.5)
    const p99 = quantile(likes, 0.99)
    expect(median).toBeLessThanOrEqual(5)
    expect(likes.filter((n) => n <= 5).length / likes.length).toBeGreaterThan(0.6)
    expect(p99).toBeGreaterThan(20 * Math.max(median, 1))
    expect(likes.at(-1)!).toBeGreaterThan(10 * p99)
    expect(likes.at(-1)!).toBeGreaterThan(1_000)
    const sums = await one(
      "SELECT SUM(likes) AS likes, SUM(retweets) AS retweets, SUM(replies) AS replies, SUM(quotes) AS quotes FROM tweet_metrics WHERE kind <> 'retweet'",
    )
    expect(Number(sums.retweets)).toBeLessThan(Number(sums.likes) / 2)
    expect(Number(sums.replies)).toBeLessThan(Number(sums.retweets))
    expect(Number(sums.quotes)).toBeLessThan(Number(sums.replies))
    const retweets = await one(
      "SELECT MAX(likes + replies + quotes) AS own, MIN(retweets) AS fewest, MAX(COALESCE(impressions, 0)) AS impressions FROM tweet_metrics WHERE kind = 'retweet'",
    )
    expect(retweets).toEqual({ own: '0', fewest: '1', impressions: '0' })
  })

  test('when seeded, then impressions are missing (NULL, never an invented 0) for some tweets but not most', async () => {
    const { missing, zero } = await one(
      "SELECT AVG(impressions IS NULL) AS missing, SUM(impressions = 0 AND kind <> 'retweet') AS zero FROM tweet_metrics",
    )
    expect(Number(missing)).toBeGreaterThan(0.1)
    expect(Number(missing)).toBeLessThan(0.2)
    expect(zero).toBe('0')
  })

  test('when seeded, then tweet_hashtags holds every hashtag a tweet carries: its tracked ones and up to three untracked ones', async () => {
    const lost = await one(
      'SELECT COUNT(*) AS n FROM tweets t LEFT JOIN tweet_hashtags g ON g.id = t.id AND g.tag = t.hashtag WHERE g.id IS NULL',
    )
    expect(lost).toEqual({ n: '0' })
    const orphans = await one(
      'SELECT COUNT(*) AS n FROM tweet_hashtags g LEFT JOIN tweet_metrics m ON m.id = g.id WHERE m.id IS NULL',
    )
    expect(orphans).toEqual({ n: '0' })
    const tags = await rows('SELECT tag, COUNT(*) AS n FROM tweet_hashtags GROUP BY tag ORDER BY n DESC')
    const untracked = tags.filter((t) => !TRACKED.has(t.tag))
    expect(untracked.every((t) => UNTRACKED.includes(t.tag))).toBe(true)
    expect(untracked.length).toBeGreaterThan(40)
    // Tracked rows beyond tweets' stored rows would be tracked tags the tweets were not stored under.
    const tracked = tags.filter((t) => TRACKED.has(t.tag)).reduce((sum, t) => sum + Number(t.n), 0)
    expect(tracked).toBe(Number((await one('SELECT COUNT(*) AS n FROM tweets')).n))
    const perTweet = await rows(`
      SELECT others, COUNT(*) AS tweets FROM (
        SELECT g.id, SUM(g.tag NOT IN (${HASHTAGS.map((t) => `'${t}'`).join(', ')})) AS others FROM tweet_hashtags g GROUP BY g.id
      ) AS t GROUP BY others ORDER BY others`)
    expect(perTweet.map((r) => Number(r.others))).toEqual([0, 1, 2, 3])
    const withOthers = perTweet.filter((r) => Number(r.others) > 0).reduce((sum, r) => sum + Number(r.tweets), 0)
    expect(withOthers / TWEETS).toBeGreaterThan(0.4)
    expect(withOthers / TWEETS).toBeLessThan(0.8)
    // Zipf: the most used untracked hashtag is used far more than the median one.
    expect(Number(untracked[0].n)).toBeGreaterThan(10 * Number(untracked[Math.floor(untracked.length / 2)].n))
  })

  test('when seeded, then each tracked hashtag has its own favourite companions, so its related hashtags differ from the others’', async () => {
    const top = await rows(`
      SELECT t.hashtag, g.tag, COUNT(*) AS n FROM tweets t JOIN tweet_hashtags g ON g.id = t.id AND g.tag <> t.hashtag
       WHERE t.hashtag IN ('devops', 'sre', 'observability', 'oauth', 'openbanking')
       GROUP BY t.hashtag, g.tag ORDER BY t.hashtag, n DESC, g.tag`)
    const topThree = (tag: string) =>
      top
        .filter((r) => r.hashtag === tag && !TRACKED.has(r.tag))
        .slice(0, 3)
        .map((r) => r.tag)
    const answers = ['devops', 'sre', 'observability', 'oauth', 'openbanking'].map(topThree)
    expect(new Set(answers.map((a) => a.join())).size).toBe(answers.length)
    for (const [i, tag] of ['devops', 'sre', 'observability', 'oauth', 'openbanking'].entries()) {
      expect([tag, answers[i]![0]]).toEqual([tag, FAVOURITES[tag]![0]])
    }
  })

  test('when seeded, then every table has the columns and keys the schema gives it (keys left off while loading are back)', async () => {
    const fresh = await createTestDatabase()
    try {
      const shape = async (db: TestDatabase) => {
        const [tables] = (await db.admin.query('SHOW TABLES')) as any
        const names = tables.map((row: any) => Object.values(row)[0] as string).sort()
        const created: string[] = []
        for (const name of names) {
          const [[row]] = (await db.admin.query(`SHOW CREATE TABLE ${name}`)) as any
          created.push(row['Create Table'])
        }
        return created
      }
      expect(await shape(database)).toEqual(await shape(fresh))
    } finally {
      await fresh.drop()
    }
  })

  test('when seeded twice with the same seed, then the rows are the same; with another seed, they differ', async () => {
    const first = await checksums(database)
    const again = await createTestDatabase()
    try {
      await seed(again.config, OPTIONS)
      expect(await checksums(again)).toEqual(first)
      // Seeding over a seeded database replaces every row: none of the first seed's is left.
      await seed(again.config, { ...OPTIONS, seed: OPTIONS.seed + 1 })
      const other = await checksums(again)
      for (const table of ['tweets', 'tweet_metrics', 'tweet_hashtags']) expect(other[table]).not.toBe(first[table])
      const [[left]] = (await again.admin.query(`
        SELECT (SELECT COUNT(*) FROM tweet_metrics) AS metrics,
               (SELECT COUNT(*) FROM tweet_hashtags g LEFT JOIN tweets t ON t.id = g.id WHERE t.id IS NULL) AS orphans`)) as any
      expect(left).toEqual({ metrics: String(TWEETS), orphans: '0' })
    } finally {
      await again.drop()
    }
  }, 120_000)
})
