/**
 * Fills a database with a large synthetic data set, quickly and reproducibly (same seed, same rows):
 *
 *   bun scripts/seed.ts --tweets 1000000 --users 300000 [--seed 42] [--database twitter_bench]
 *
 * Distributions follow the real thing: a few hashtags take most tweets (Zipf), languages are skewed
 * towards English, follower counts are heavy-tailed (Pareto), a few authors write a lot, about one
 * tweet in ten carries a second tracked hashtag, and ids are snowflakes that grow with created_at
 * over the last seven days. The counts the aggregates read are rebuilt at the end, and the data
 * version bumped, as the collector would have left them.
 */
import { parseArgs } from 'node:util'
import mysql from 'mysql2/promise'
import { registerHashtags } from '../src/collector/store'
import { loadConfig, type MysqlConfig } from '../src/config'
import { rebuildCounts } from '../src/db/counts'
import { createDatabase } from '../src/db/database'
import { applySchema } from '../src/db/schema'
import { connectionOptions } from '../src/db/session'
import { toMysqlUtc } from '../src/domain/time'
import { mulberry32, pick, weighted } from './random'

export interface SeedOptions {
  tweets: number
  users: number
  seed: number
  /** Time the seven days end at (ms); fixed by default so that the rows are the same every time. */
  now?: number
  onProgress?: (message: string) => void
}

export const HASHTAGS = [
  'devops',
  'sre',
  'observability',
  'microservices',
  'metrics',
  'oauth',
  'openbanking',
  'opentracing',
  'remediation',
  'logmonitoring',
]
const LANGS: [string, number][] = [
  ['en', 55],
  ['es', 10],
  ['pt', 8],
  ['ja', 7],
  ['de', 5],
  ['fr', 5],
  ['und', 4],
  ['it', 2],
  ['zh', 2],
  ['ko', 1],
  ['nl', 1],
]
const WORDS = [
  'deploy',
  'latency',
  'budget',
  'pipeline',
  'incident',
  'rollback',
  'canary',
  'token',
  'trace',
  'alert',
  'dashboard',
  'SLO',
  '🚀',
  '🔥',
  '📈',
]
const SNOWFLAKE_EPOCH = 1288834974657n
const WEEK_MS = 7 * 24 * 3_600_000
const BATCH = 2_000
const WRITERS = 3

/** Index 0..n-1 drawn with probability ∝ 1/(i+1)^s: a few values take most draws. */
export function zipf(random: () => number, n: number, s: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s)
  const total = weights.reduce((a, b) => a + b, 0)
  const cumulative: number[] = []
  let sum = 0
  for (const w of weights) {
    sum += w / total
    cumulative.push(sum)
  }
  return () => {
    const roll = random()
    let low = 0
    let high = n - 1
    while (low < high) {
      const mid = (low + high) >> 1
      if (cumulative[mid]! < roll) low = mid + 1
      else high = mid
    }
    return low
  }
}

const mysqlTime = (ms: number) => toMysqlUtc(new Date(ms).toISOString())

const DEADLOCK = 1213
const BATCH_ATTEMPTS = 5

/**
 * One multi-row INSERT. Parallel inserts into the same secondary indexes can deadlock in InnoDB; the
 * server rolls the statement back whole, so running it again is safe (what the error itself says).
 */
async function insertBatch(connection: mysql.Connection, statement: string, batch: unknown[][]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connection.query(statement, [batch])
    } catch (error) {
      if ((error as { errno?: number }).errno !== DEADLOCK || attempt === BATCH_ATTEMPTS) throw error
    }
  }
}

/** Runs `insert` over `rows` in batches, a few connections at a time. */
async function insertAll(config: MysqlConfig, rows: unknown[][], statement: string) {
  const connections = await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const connection = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
      // Bulk load of rows known to be consistent: skip the per-row checks.
      await connection.query('SET unique_checks = 0, foreign_key_checks = 0')
      return connection
    }),
  )
  let next = 0
  await Promise.all(
    connections.map(async (connection) => {
      while (next < rows.length) {
        const batch = rows.slice(next, next + BATCH)
        next += BATCH
        await insertBatch(connection, statement, batch)
      }
    }),
  )
  await Promise.all(connections.map((c) => c.end()))
}

export async function seed(config: MysqlConfig, options: SeedOptions): Promise<void> {
  const random = mulberry32(options.seed)
  const log = options.onProgress ?? (() => {})
  const now = options.now ?? Date.UTC(2026, 10, 28)
  await applySchema(config)
  // Rebuilding the counts of a million rows takes seconds, not the milliseconds a request gets.
  const db = createDatabase({ ...config, queryTimeoutMs: 10 * 60_000 })
  try {
    const admin = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
    for (const table of ['tweets', 'users', 'hashtag_counts', 'hashtags']) await admin.query(`DELETE FROM ${table}`)
    await admin.end()
    await registerHashtags(db, HASHTAGS)

    const started = performance.now()
    const userIds = Array.from({ length: options.users }, (_, i) => String(1_000_000_000_000_000_000n + BigInt(i) * 7_919n))
    const users = userIds.map((id, i) => [
      id,
      `user_${i}`,
      `User ${i}${random() < 0.1 ? ` ${pick(random, WORDS)}` : ''}`,
      // Pareto: most accounts have a few hundred followers, a few have millions.
      Math.min(150_000_000, Math.floor(50 / (1 - random()) ** 1.3)),
      mysqlTime(now),
    ])
    await insertAll(config, users, 'INSERT INTO users (id, username, name, followers_count, updated_at) VALUES ?')
    log(`${options.users} users in ${((performance.now() - started) / 1000).toFixed(1)} s`)

    const hashtag = zipf(random, HASHTAGS.length - 1, 1.1) // #logmonitoring stays empty, as on the real API
    const author = zipf(random, options.users, 0.8)
    const times = Array.from({ length: options.tweets }, () => now - Math.floor(random() * WEEK_MS)).sort((a, b) => a - b)
    const rows: unknown[][] = []
    times.forEach((ms, i) => {
      const id = String(((BigInt(ms) - SNOWFLAKE_EPOCH) << 22n) | BigInt(i & 0x3fffff))
      const first = HASHTAGS[hashtag()]!
      const tags = random() < 0.1 ? [...new Set([first, HASHTAGS[hashtag()]!])] : [first]
      const lang = weighted(random, LANGS)
      const text = `${Array.from({ length: 6 }, () => pick(random, WORDS)).join(' ')} ${tags.map((t) => `#${t}`).join(' ')}`
      const authorId = userIds[author()]!
      for (const tag of tags) rows.push([id, tag, authorId, lang, text, mysqlTime(ms)])
    })
    const tweetsStarted = performance.now()
    await insertAll(config, rows, 'INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at) VALUES ?')
    log(`${options.tweets} tweets (${rows.length} rows) in ${((performance.now() - tweetsStarted) / 1000).toFixed(1)} s`)

    const countsStarted = performance.now()
    await rebuildCounts(db)
    const analyze = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
    await analyze.query('ANALYZE TABLE tweets, users, hashtag_counts')
    await analyze.end()
    log(`counts and statistics in ${((performance.now() - countsStarted) / 1000).toFixed(1)} s`)
  } finally {
    await db.close()
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      tweets: { type: 'string', default: '1000000' },
      users: { type: 'string', default: '300000' },
      seed: { type: 'string', default: '42' },
      database: { type: 'string' },
    },
  })
  const base = loadConfig().mysql
  const config = { ...base, database: values.database ?? base.database }
  const started = performance.now()
  await seed(config, {
    tweets: Number(values.tweets),
    users: Number(values.users),
    seed: Number(values.seed),
    onProgress: console.log,
  })
  console.log(`seeded ${config.database} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
