/**
 * Fills a database with a large synthetic data set, quickly and reproducibly (same seed, same rows):
 *
 *   bun scripts/seed.ts --tweets 1000000 --users 300000 [--seed 42] [--database twitter_bench]
 *
 * Distributions follow the real thing: a few hashtags take most tweets (Zipf), languages are skewed
 * towards English, follower counts are heavy-tailed (Pareto), a few authors write a lot, about one
 * tweet in ten carries a second tracked hashtag, and ids are snowflakes that grow with created_at
 * over the last seven days. Kinds come in the shares of hashtag traffic (about 45% originals, 35%
 * retweets, 12% replies, 8% quotes); every tweet has its metrics (likes heavy-tailed and bigger for
 * bigger accounts, the other reactions rarer, impressions missing for about 15%, retweets with the
 * retweeted post's retweet count and nothing else, as the API gives them) and every hashtag it
 * carries: its tracked ones and 0 to 3 untracked ones, drawn by Zipf, most often among its tracked
 * hashtag's favourite companions. The counts the aggregates read are rebuilt at the end, and the
 * data version bumped, as the collector would have left them.
 */
import mysql from 'mysql2/promise'
import { registerHashtags } from '../src/collector/store'
import { commandLine, someText, wholeNumber } from '../src/command-line'
import { loadConfig, type MysqlConfig } from '../src/config'
import { rebuildCounts } from '../src/db/counts'
import { createDatabase } from '../src/db/database'
import { applySchema } from '../src/db/schema'
import { connectionOptions } from '../src/db/session'
import type { Database } from '../src/db/sql'
import { toMysqlUtc } from '../src/domain/time'
import type { TweetKind } from '../src/domain/tweet-kind'
import { mulberry32, pareto, pick, roundRandomly, weighted, zipf } from './random'

export { zipf }

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
/** Kinds of post in the shares of real hashtag traffic: mostly originals and retweets. */
const KINDS: [TweetKind, number][] = [
  ['original', 45],
  ['retweet', 35],
  ['reply', 12],
  ['quote', 8],
]
/** How a kind's text starts: X writes "RT @user: " before every retweet, and replies start with whom they answer. */
const PREFIX: Record<TweetKind, (user: number) => string> = {
  original: () => '',
  retweet: (user) => `RT @user_${user}: `,
  reply: (user) => `@user_${user} `,
  quote: () => '',
}
/** Likes a kind gets, relative to an original of the same author. */
const KIND_REACH: Record<Exclude<TweetKind, 'retweet'>, number> = { original: 1, reply: 0.3, quote: 0.6 }
const MAX_LIKES = 2_000_000
/** Share of tweets the API gives no impression_count for (older posts, some access levels). */
const NO_IMPRESSIONS = 0.15
/** How many untracked hashtags a tweet carries besides its tracked ones. */
const UNTRACKED_PER_TWEET: [number, number][] = [
  [0, 40],
  [1, 30],
  [2, 20],
  [3, 10],
]

/** Hashtags that are not tracked, most used first (drawn by Zipf over this order). */
export const UNTRACKED = [
  'kubernetes',
  'cloud',
  'aws',
  'golang',
  'python',
  'ai',
  'terraform',
  'linux',
  'security',
  'grafana',
  'prometheus',
  'docker',
  'azure',
  'opentelemetry',
  'cicd',
  'gcp',
  'gitops',
  'platformengineering',
  'opensource',
  'automation',
  'serverless',
  'rust',
  'java',
  'api',
  'devsecops',
  'cybersecurity',
  'monitoring',
  'logging',
  'tracing',
  'infosec',
  'javascript',
  'programming',
  'machinelearning',
  'sysadmin',
  'kafka',
  'postgres',
  'database',
  'elasticsearch',
  'ansible',
  'alerting',
  'oncall',
  'incidentresponse',
  'chaosengineering',
  'performance',
  'architecture',
  'eventdriven',
  'ddd',
  'jaeger',
  'zipkin',
  'identity',
  'oidc',
  'jwt',
  'zerotrust',
  'fintech',
  'banking',
  'psd2',
  'vulnerability',
  'patching',
  'dataengineering',
  'splunk',
]

/** Each tracked hashtag's favourite companions, most frequent first: /hashtags/{tag}/related differs per tag. */
export const FAVOURITES: Record<string, string[]> = {
  devops: ['kubernetes', 'docker', 'cicd', 'terraform', 'aws', 'gitops', 'ansible', 'platformengineering'],
  sre: ['oncall', 'incidentresponse', 'kubernetes', 'prometheus', 'chaosengineering', 'alerting', 'linux'],
  observability: ['opentelemetry', 'grafana', 'prometheus', 'tracing', 'monitoring', 'logging', 'elasticsearch'],
  microservices: ['architecture', 'kubernetes', 'eventdriven', 'kafka', 'java', 'golang', 'ddd', 'api'],
  metrics: ['prometheus', 'grafana', 'monitoring', 'dataengineering', 'alerting', 'performance', 'database'],
  oauth: ['security', 'identity', 'oidc', 'jwt', 'api', 'zerotrust', 'cybersecurity'],
  openbanking: ['fintech', 'banking', 'psd2', 'api', 'security', 'identity'],
  opentracing: ['jaeger', 'opentelemetry', 'tracing', 'zipkin', 'performance', 'golang'],
  remediation: ['vulnerability', 'security', 'patching', 'cybersecurity', 'devsecops', 'automation', 'infosec'],
  logmonitoring: ['logging', 'elasticsearch', 'splunk', 'monitoring', 'linux', 'sysadmin', 'alerting'],
}
/** Share of untracked hashtags drawn from the tracked hashtag's favourites rather than from all of them. */
const FAVOURITE_SHARE = 0.65

/** The untracked hashtags of a tweet stored under `tag`: `count` draws, without repeats. */
function companionsOf(random: () => number): (tag: string, count: number) => string[] {
  const overall = zipf(random, UNTRACKED.length, 1.1)
  const favourite = new Map(Object.entries(FAVOURITES).map(([tag, list]) => [tag, zipf(random, list.length, 1)]))
  return (tag, count) => {
    const drawn = new Set<string>()
    for (let i = 0; i < count; i++) {
      const list = FAVOURITES[tag]!
      drawn.add(random() < FAVOURITE_SHARE ? list[favourite.get(tag)!()]! : UNTRACKED[overall()]!)
    }
    return [...drawn]
  }
}

/** Tables of the analysis endpoints the seed fills or (for the counts) has rebuilt. */
const ANALYSIS_TABLES = ['tweet_metrics', 'tweet_hashtags', 'tweet_counts', 'related_counts']
/** The table whose secondary keys are built after its rows are loaded. */
const DEFERRED_KEYS = 'tweet_metrics'
const SNOWFLAKE_EPOCH = 1288834974657n
const WEEK_MS = 7 * 24 * 3_600_000
const BATCH = 2_000
const WRITERS = 3

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

/**
 * Runs `load` on `table` without its secondary keys, then adds them back as SHOW CREATE TABLE gave
 * them (sorting the rows once per key instead of inserting into every key row by row). The keys come
 * back when the load fails too; a process killed in between leaves them off, which the next seed
 * repairs by making the table again.
 */
async function withKeysBuiltAfter(config: MysqlConfig, table: string, load: () => Promise<void>): Promise<void> {
  const connection = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
  try {
    const [[created]] = (await connection.query(`SHOW CREATE TABLE ${table}`)) as any
    const keys = (created['Create Table'] as string)
      .split('\n')
      .map((line) => line.trim().replace(/,$/, ''))
      .filter((line) => line.startsWith('KEY '))
    const names = keys.map((key) => /^KEY (`[^`]+`)/.exec(key)![1]!)
    if (keys.length > 0) await connection.query(`ALTER TABLE ${table} ${names.map((name) => `DROP KEY ${name}`).join(', ')}`)
    try {
      await load()
    } finally {
      if (keys.length > 0) await connection.query(`ALTER TABLE ${table} ${keys.map((key) => `ADD ${key}`).join(', ')}`)
    }
  } finally {
    await connection.end()
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

/** Memory a session may give a GROUP BY's temporary table before it goes to disk (the server's default is 16 MB). */
const GROUPING_MEMORY = 256 * 1024 * 1024

/**
 * The pool, its transactions allowed to group in memory: past 16 MB, the GROUP BYs that rebuild the
 * counts of a million tweets (some 300,000 groups of hashtag, language, kind and quarter hour) spill
 * to a temporary table on disk, and the rebuild takes two to three times as long.
 */
function withRoomToGroup(db: Database): Database {
  return {
    ...db,
    transaction: (work) =>
      db.transaction(async (tx) => {
        await tx.run(`SET SESSION tmp_table_size = ${GROUPING_MEMORY}, max_heap_table_size = ${GROUPING_MEMORY}`)
        return work(tx)
      }),
  }
}

/** A tweet's row of tweet_metrics, as the collector stores it from public_metrics. */
function metricsRow(
  random: () => number,
  tweet: { id: string; createdAt: string; lang: string; kind: TweetKind; ms: number },
  popularity: number,
  now: number,
): unknown[] {
  let likes = 0
  let retweets = 0
  let replies = 0
  let quotes = 0
  if (tweet.kind === 'retweet') {
    // The API gives a retweet the retweeted post's retweet_count and none of its own likes, replies,
    // quotes or impressions; what gets retweeted is mostly what many people liked.
    retweets = 1 + roundRandomly(random, Math.min(MAX_LIKES, 3 * pareto(random, 1.1)) * 0.3 * random())
  } else {
    likes = Math.floor(Math.min(MAX_LIKES, KIND_REACH[tweet.kind] * popularity * pareto(random, 1.2)))
    // Each reaction rarer than a like, and no more of them than likes.
    retweets = roundRandomly(random, likes * 0.3 * random())
    replies = roundRandomly(random, likes * 0.15 * random())
    quotes = roundRandomly(random, likes * 0.05 * random())
  }
  const impressions =
    random() < NO_IMPRESSIONS
      ? null
      : tweet.kind === 'retweet'
        ? 0
        : Math.floor((likes + 1) * (15 + 185 * random()) + popularity * 50 * random())
  // Read by the last collection or lookup, a while after the post, never after now.
  const updated = Math.min(now, tweet.ms + 60_000 + Math.floor(random() * 36 * 3_600_000))
  return [
    tweet.id,
    tweet.createdAt,
    tweet.lang,
    tweet.kind,
    likes,
    retweets,
    replies,
    quotes,
    impressions,
    likes + retweets + replies + quotes,
    mysqlTime(updated),
  ]
}

export async function seed(config: MysqlConfig, options: SeedOptions): Promise<void> {
  const random = mulberry32(options.seed)
  // What tweets have beyond their tracked rows comes from a stream of its own: ids, hashtags,
  // languages, authors and words stay those of earlier seeds, so bench figures stay comparable.
  const extra = mulberry32(options.seed ^ 0x5eed_ce11)
  const log = options.onProgress ?? (() => {})
  const now = options.now ?? Date.UTC(2026, 10, 28)
  await applySchema(config)
  // Rebuilding the counts of a million rows takes seconds, not the milliseconds a request gets.
  const db = createDatabase({ ...config, queryTimeoutMs: 10 * 60_000 })
  try {
    const admin = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
    for (const table of [
      ...ANALYSIS_TABLES.filter((t) => t !== DEFERRED_KEYS),
      'tweets',
      'users',
      'hashtag_counts',
      'hashtags',
    ]) {
      await admin.query(`DELETE FROM ${table}`)
    }
    // Dropped rather than emptied, and made again by the schema (its file is repeatable): whatever a
    // seed killed while loading it left, it has its keys as the schema declares them.
    await admin.query(`DROP TABLE ${DEFERRED_KEYS}`)
    await admin.end()
    await applySchema(config)
    await registerHashtags(db, HASHTAGS)

    const started = performance.now()
    const userIds = Array.from({ length: options.users }, (_, i) => String(1_000_000_000_000_000_000n + BigInt(i) * 7_919n))
    const popularity = new Float64Array(options.users)
    const users = userIds.map((id, i) => {
      const name = `User ${i}${random() < 0.1 ? ` ${pick(random, WORDS)}` : ''}`
      // Pareto: most accounts have a few hundred followers, a few have millions.
      const followers = Math.min(150_000_000, Math.floor(50 / (1 - random()) ** 1.3))
      // Bigger accounts get more likes, far less than in proportion to their followers.
      popularity[i] = Math.min(10, Math.max(0.3, (followers / 200) ** 0.4))
      return [id, `user_${i}`, name, followers, mysqlTime(now)]
    })
    await insertAll(config, users, 'INSERT INTO users (id, username, name, followers_count, updated_at) VALUES ?')
    log(`${options.users} users in ${((performance.now() - started) / 1000).toFixed(1)} s`)

    const hashtag = zipf(random, HASHTAGS.length - 1, 1.1) // #logmonitoring stays empty, as on the real API
    const author = zipf(random, options.users, 0.8)
    const referenced = zipf(extra, options.users, 0.8)
    const untracked = companionsOf(extra)
    const times = Array.from({ length: options.tweets }, () => now - Math.floor(random() * WEEK_MS)).sort((a, b) => a - b)
    const rows: unknown[][] = []
    const metrics: unknown[][] = []
    const hashtags: unknown[][] = []
    times.forEach((ms, i) => {
      const id = String(((BigInt(ms) - SNOWFLAKE_EPOCH) << 22n) | BigInt(i & 0x3fffff))
      const first = HASHTAGS[hashtag()]!
      const tags = random() < 0.1 ? [...new Set([first, HASHTAGS[hashtag()]!])] : [first]
      const lang = weighted(random, LANGS)
      const words = Array.from({ length: 6 }, () => pick(random, WORDS)).join(' ')
      const authorIndex = author()
      const authorId = userIds[authorIndex]!
      const kind = weighted(extra, KINDS)
      const others = untracked(first, weighted(extra, UNTRACKED_PER_TWEET))
      const text = `${PREFIX[kind](referenced())}${words} ${[...tags, ...others].map((t) => `#${t}`).join(' ')}${kind === 'quote' ? ` https://t.co/${id.slice(-10)}` : ''}`
      const createdAt = mysqlTime(ms)
      for (const tag of tags) rows.push([id, tag, authorId, lang, text, createdAt, kind])
      for (const tag of [...tags, ...others]) hashtags.push([id, tag])
      metrics.push(metricsRow(extra, { id, createdAt, lang, kind, ms }, popularity[authorIndex]!, now))
    })
    const tweetsStarted = performance.now()
    // Three tables without foreign keys between them: loaded side by side, the server is kept busy.
    // tweet_metrics' six secondary keys are built once its rows are in: a third faster than keeping
    // them up to date row by row.
    await Promise.all([
      insertAll(config, rows, 'INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at, kind) VALUES ?'),
      withKeysBuiltAfter(config, DEFERRED_KEYS, () =>
        insertAll(
          config,
          metrics,
          'INSERT INTO tweet_metrics (id, created_at, lang, kind, likes, retweets, replies, quotes, impressions, engagement, updated_at) VALUES ?',
        ),
      ),
      insertAll(config, hashtags, 'INSERT INTO tweet_hashtags (id, tag) VALUES ?'),
    ])
    log(
      `${options.tweets} tweets (${rows.length} rows, ${hashtags.length} hashtags) in ${((performance.now() - tweetsStarted) / 1000).toFixed(1)} s`,
    )

    const countsStarted = performance.now()
    await rebuildCounts(withRoomToGroup(db))
    log(`counts in ${((performance.now() - countsStarted) / 1000).toFixed(1)} s`)
    const statisticsStarted = performance.now()
    const analyze = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
    await analyze.query(`ANALYZE TABLE tweets, users, hashtag_counts, ${ANALYSIS_TABLES.join(', ')}`)
    await analyze.end()
    log(`statistics in ${((performance.now() - statisticsStarted) / 1000).toFixed(1)} s`)
  } finally {
    await db.close()
  }
}

if (import.meta.main) {
  const values = commandLine({
    name: 'bun run seed',
    summary:
      'Fills a database with a large synthetic data set, reproducibly (the same seed gives the same rows), on the server of MYSQL_URL.',
    options: {
      tweets: { value: 'N', description: 'tweets to write', default: '1000000', parse: wholeNumber(1, 1_000_000_000) },
      users: { value: 'N', description: 'authors to write', default: '300000', parse: wholeNumber(1, 1_000_000_000) },
      seed: { value: 'N', description: 'seed of the random choices', default: '42', parse: wholeNumber(0, 2 ** 32 - 1) },
      database: { value: 'NAME', description: "database to fill (default: MYSQL_URL's)", parse: someText },
    },
  })
  const base = loadConfig().mysql
  const config = { ...base, database: values.database ?? base.database }
  const started = performance.now()
  await seed(config, {
    tweets: values.tweets,
    users: values.users,
    seed: values.seed,
    onProgress: console.log,
  })
  console.log(`seeded ${config.database} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
