/**
 * `bun run bench`: the service's throughput, latency, memory, start-up and collector storage speed,
 * each measured against a baseline in the same run (these machines are noisy: ratios travel, absolute
 * figures less so).
 *
 *   bun run bench [--scale small|large|analysis|compression|all] [--duration 10] [--connections 16] [--json file] [--smoke]
 *
 * small  the original's size (about 1,000 tweets): every endpoint against a bare Bun.serve returning
 *        a static JSON body of the same size, both loaded by wrk with the same connections; and the
 *        same service with LOG_LEVEL=warn (no access lines), to show what the access log costs.
 * large  1,000,000 tweets and 300,000 users (seeded once by scripts/seed.ts, reused afterwards): p99
 *        of every aggregate, top5, a filtered query and pages of every list up to page 10,000, with
 *        the response cache on (the default) and off (every request reaches MySQL); RSS under load.
 *        Then the analysis endpoints and the exports (also alone with --scale analysis).
 * analysis  the same million tweets, the response cache off: timelines, top tweets, related
 *        hashtags, one tweet or user by id and by_hour/by_lang over a range, each against a bare
 *        Bun.serve returning the scenario's own body (req/s and p99 as ratios), with its p99 target;
 *        then tweets/all exported whole as CSV and as NDJSON to a client reading as fast as it can:
 *        tweets/s against a bare Bun.serve sending the same bytes, and the service's RSS during the
 *        export over its RSS at rest.
 * compression  a 100-tweet page of the small data set asked for plain, gzip, br and zstd, with the
 *        cache on (variants kept) and off (every request computed and compressed): bytes on the
 *        wire per answer and req/s, each beside the plain answer's (with --scale small, compression, all).
 * Also (every scale but analysis): cold start to ready, and collector storage (recorded pages parsed
 * and stored, against plain multi-row INSERTs of the same rows).
 *
 * Targets are reported (met or missed, in the table and the JSON report), not enforced: the run ends
 * with 0 whatever the figures, as a benchmark on a shared machine should; a broken run (a scenario
 * whose first request is not answered 200, a service that does not start) still fails.
 *
 * --smoke runs everything tiny and fast, to check that the bench works and reports well-formed results.
 * Needs wrk (Debian package "wrk") and a MySQL/MariaDB server (MYSQL_URL).
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { parsePage, type SearchPage } from '../src/collector/page'
import { storePage } from '../src/collector/store'
import { commandLine, flag, oneOfWords, someText, wholeNumber } from '../src/command-line'
import { loadConfig, type MysqlConfig } from '../src/config'
import { applySchema } from '../src/db/schema'
import { connectionOptions } from '../src/db/session'
import { systemClock } from '../src/domain/clock'
import { encodeCursor } from '../src/http/pagination'
import { createWriterPool } from '../src/root'
import { type LoadResult, runWrk } from './bench/wrk'
import { freePort, mysqlUrl, startService, waitForOk } from './lib/service-process'
import { mulberry32, pick } from './random'
import { HASHTAGS, seed, zipf } from './seed'

const values = commandLine({
  name: 'bun run bench',
  summary:
    "The service's throughput, latency, memory, start-up and collector storage speed, each against a baseline measured in the same run. Needs wrk and the MySQL/MariaDB server of MYSQL_URL.",
  options: {
    scale: {
      value: 'SCALE',
      description: 'small, large, analysis, compression or all',
      default: 'all',
      parse: oneOfWords('small', 'large', 'analysis', 'compression', 'all'),
    },
    duration: { value: 'S', description: 'seconds per load run', default: '10', parse: wholeNumber(1, 3600) },
    connections: { value: 'N', description: 'wrk connections', default: '16', parse: wholeNumber(1, 10_000) },
    json: { value: 'FILE', description: 'also write the report as JSON to FILE', parse: someText },
    smoke: flag('everything tiny and fast: checks that the bench works and reports well-formed results'),
  },
})

const ROOT = join(import.meta.dir, '..')
const smoke = values.smoke
const duration = smoke ? 1 : values.duration
const connections = values.connections
const work = mkdtempSync(join(tmpdir(), 'bench-'))
const base = loadConfig().mysql
if (Bun.which('wrk') === null) throw new Error('wrk is not installed: apt-get install wrk')
/**
 * The bench's databases. The smoke run (part of the test suite) has its own: it never replaces the
 * million tweets a full run seeded, nor seeds under a full run going on.
 */
const dbName = (name: string) => (smoke ? `${name}_smoke` : name)
const SMALL_DB = dbName('th_bench_small')
const LARGE_DB = dbName('th_bench_large')

interface Row {
  section: string
  name: string
  result: LoadResult
  baseline?: LoadResult
  ratio?: number
  /** The same service with LOG_LEVEL=warn: what the access log (one line per request) costs. */
  withoutAccessLog?: LoadResult
  /** The same request without Accept-Encoding: what a compressed answer is compared with. */
  plain?: LoadResult
  /** The p99 the scenario should stay under, in ms. */
  targetP99Ms?: number
  note?: string
}

const rows: Row[] = []
const facts: Record<string, unknown> = {}

/** A figure against its target: reported met or missed, never a reason to fail the run (see above). */
interface Target {
  name: string
  figure: string
  value: number
  /** The value must stay below (max) or reach (min) the limit. */
  max?: number
  min?: number
  met: boolean
}
const targets: Target[] = []

/** One export of the whole selection, beside the same bytes sent by a bare Bun.serve. */
interface ExportRow {
  format: string
  tweets: number
  mb: number
  seconds: number
  tweets_per_s: number
  bare_tweets_per_s: number
  ratio: number
  rss_idle_mb: number
  rss_peak_mb: number
  rss_growth_mb: number
}
const exportRows: ExportRow[] = []

function checkTarget(target: Omit<Target, 'met'>): boolean {
  const met = (target.max === undefined || target.value < target.max) && (target.min === undefined || target.value >= target.min)
  targets.push({ ...target, met })
  return met
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// --- processes -------------------------------------------------------------------------------

interface Process {
  url: string
  pid: number
  stop(): Promise<void>
}

async function startBenchService(database: string, env: Record<string, string> = {}): Promise<Process> {
  const service = await startService(
    {
      ...(process.env as Record<string, string>),
      MYSQL_URL: mysqlUrl({ ...base, database }),
      COLLECT_SOURCE: 'off',
      SERVICE_ENVIRONMENT: 'bench',
      ...env,
    },
    30_000,
  )
  return { url: service.url, pid: service.child.pid, stop: service.stop }
}

async function startBaseline(bodyFile: string): Promise<Process> {
  const port = await freePort()
  const child = Bun.spawn(['bun', join(import.meta.dir, 'bench', 'static-server.ts'), bodyFile, String(port)], {
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const url = `http://127.0.0.1:${port}`
  await waitForOk(url, 30_000)
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill()
      await child.exited
    },
  }
}

/** Resident memory of a process, from /proc. */
const rssOf = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

const load = (url: string, paths: string[], seconds = duration, headers: Record<string, string> = {}): Promise<LoadResult> =>
  runWrk(url, paths, { connections, seconds, headers })

// --- scales ----------------------------------------------------------------------------------

/**
 * The end of the seeded seven days (the seed's own default, passed on so that it stays fixed here):
 * the analysis scenarios' ranges are written against it, so every run asks for the same rows.
 */
const SEED_NOW = Date.UTC(2026, 10, 28)

/**
 * What a seeded database was made by: the seed's code and the size asked for. A database seeded by
 * another version of the seed (one that filled fewer tables, say) is seeded again.
 */
const seedFingerprint = (tweets: number, users: number) =>
  Bun.hash(
    [
      readFileSync(join(ROOT, 'scripts', 'seed.ts'), 'utf8'),
      readFileSync(join(ROOT, 'scripts', 'random.ts'), 'utf8'),
      tweets,
      users,
      SEED_NOW,
    ].join('\n'),
  ).toString(36)

async function seeded(database: string, tweets: number, users: number): Promise<MysqlConfig> {
  const config = { ...base, database }
  const fingerprint = seedFingerprint(tweets, users)
  const connect = () => mysql.createConnection(connectionOptions(base))
  const existing = await connect().then(async (c) => {
    try {
      const [[row]] = (await c.query(
        `SELECT (SELECT COALESCE(SUM(first_seen), 0) FROM ${c.escapeId(database)}.hashtag_counts) AS tweets, (SELECT COUNT(*) FROM ${c.escapeId(database)}.users) AS users, (SELECT MAX(fingerprint) FROM ${c.escapeId(database)}.bench_seed) AS fingerprint`,
      )) as any
      return { tweets: Number(row.tweets), users: Number(row.users), fingerprint: String(row.fingerprint) }
    } catch {
      return { tweets: -1, users: -1, fingerprint: '' }
    } finally {
      await c.end()
    }
  })
  if (existing.tweets === tweets && existing.users === users && existing.fingerprint === fingerprint) {
    console.log(`reusing ${database}: ${tweets} tweets, ${users} users`)
    // Schema files added since it was seeded (an index, say) are applied here, where no start-up deadline runs.
    await applySchema(config)
  } else {
    console.log(`seeding ${database}: ${tweets} tweets, ${users} users`)
    await seed(config, { tweets, users, seed: 42, now: SEED_NOW, onProgress: (m) => console.log(`  ${m}`) })
    const c = await connect()
    try {
      // The bench's own note, beside the service's tables: which seed made these rows.
      await c.query(
        `CREATE TABLE IF NOT EXISTS ${c.escapeId(database)}.bench_seed (fingerprint VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY)`,
      )
      await c.query(`DELETE FROM ${c.escapeId(database)}.bench_seed`)
      await c.query(`INSERT INTO ${c.escapeId(database)}.bench_seed (fingerprint) VALUES (?)`, [fingerprint])
    } finally {
      await c.end()
    }
  }
  return config
}

const ENDPOINTS: [string, string][] = [
  ['tweets/all', '/api/v1/resources/tweets/all'],
  ['tweets?hash&lang', '/api/v1/resources/tweets?hash=devops&lang=en'],
  ['tweets/by_hour', '/api/v1/resources/tweets/by_hour?tz=-03:00'],
  ['tweets/by_lang', '/api/v1/resources/tweets/by_lang'],
  ['users/all', '/api/v1/resources/users/all'],
  ['users/top5', '/api/v1/resources/users/top5'],
  ['hashtags/all', '/api/v1/resources/hashtags/all'],
]

async function small() {
  const tweets = smoke ? 300 : 1_000
  await seeded(SMALL_DB, tweets, smoke ? 100 : 300)
  const service = await startBenchService(SMALL_DB)
  // Access lines are logged at info: at warn, the same service writes none.
  const quiet = await startBenchService(SMALL_DB, { LOG_LEVEL: 'warn' })
  try {
    for (const [name, path] of smoke ? ENDPOINTS.slice(0, 2) : ENDPOINTS) {
      const body = await (await fetch(service.url + path)).arrayBuffer()
      const bodyFile = join(work, `${name.replace(/\W/g, '_')}.json`)
      writeFileSync(bodyFile, Buffer.from(body))
      const baseline = await startBaseline(bodyFile)
      try {
        // Warm all three (the JIT needs a few seconds), then measure them one after the other.
        await load(baseline.url, ['/'], smoke ? 1 : 2)
        await load(service.url, [path], smoke ? 1 : 3)
        await load(quiet.url, [path], smoke ? 1 : 3)
        const bare = await load(baseline.url, ['/'])
        const ours = await load(service.url, [path])
        const withoutAccessLog = await load(quiet.url, [path])
        rows.push({
          section: `small (${tweets} tweets)`,
          name,
          result: ours,
          baseline: bare,
          ratio: ours.rps / bare.rps,
          withoutAccessLog,
          note: `${body.byteLength} B`,
        })
      } finally {
        await baseline.stop()
      }
    }
  } finally {
    await service.stop()
    await quiet.stop()
  }
}

/** The first page of tweets/all: 100 tweets (the default limit), about 25 KB of JSON. */
const PAGE = '/api/v1/resources/tweets/all'
const CODINGS = [
  ['plain', null],
  ['gzip', 'gzip'],
  ['br', 'br'],
  ['zstd', 'zstd'],
] as const

async function compression() {
  await seeded(SMALL_DB, smoke ? 300 : 1_000, smoke ? 100 : 300)
  for (const [cache, env] of [
    ['cache on', {}],
    ['cache off', { RESPONSE_CACHE_MB: '0' }],
  ] as const) {
    const service = await startBenchService(SMALL_DB, env)
    try {
      const headersOf = (coding: string | null): Record<string, string> => (coding === null ? {} : { 'accept-encoding': coding })
      // Each coding checked and warmed first (JIT, kept variants), then all measured one after the other.
      for (const [, coding] of CODINGS) {
        const response = await fetch(service.url + PAGE, { headers: headersOf(coding), decompress: false })
        await response.arrayBuffer()
        const sent = response.headers.get('content-encoding')
        if (sent !== coding) throw new Error(`${PAGE} with Accept-Encoding ${coding}: sent ${sent ?? 'plain'}`)
        await load(service.url, [PAGE], smoke ? 1 : 3, headersOf(coding))
      }
      let plain: LoadResult | undefined
      for (const [name, coding] of CODINGS) {
        const headers = headersOf(coding)
        const body = await (await fetch(service.url + PAGE, { headers, decompress: false })).arrayBuffer()
        const result = await load(service.url, [PAGE], duration, headers)
        plain ??= result
        rows.push({
          section: `compression (100-tweet page of ${smoke ? 300 : 1_000} tweets), ${cache}`,
          name,
          result,
          ...(coding === null ? {} : { plain }),
          note: `${body.byteLength} B body`,
        })
        const label = `compression_${cache.replace(' ', '_')}_${name}`
        facts[`${label}_body_bytes`] = body.byteLength
        facts[`${label}_rps`] = result.rps
      }
    } finally {
      await service.stop()
    }
  }
}

/** Cursors of the given pages of a list whose ids (newest or smallest first) `ids` holds. */
const cursorsFor = (ids: string[], pages: number[], limit: number) =>
  pages.filter((page) => page > 1 && (page - 1) * limit <= ids.length).map((page) => encodeCursor(ids[(page - 1) * limit - 1]!))

/**
 * MySQL's buffer pool must hold the data set, or random deep pages measure the disk. The default
 * (128 MiB) does not hold a million tweets: about 450 MiB for tweets and its indexes, 950 MiB with
 * the analysis tables (tweet_metrics, tweet_hashtags and the counts). Raised for the run and put back
 * afterwards; docker-compose.yml gives MySQL 1 GiB (MYSQL_BUFFER_POOL), which no longer holds it all.
 */
async function withBufferPool<T>(bytes: number, work: () => Promise<T>): Promise<T> {
  const admin = await mysql.createConnection({ ...connectionOptions(base), database: LARGE_DB })
  const [[row]] = (await admin.query('SELECT @@innodb_buffer_pool_size AS size')) as any
  const before = Number(row.size)
  if (before < bytes) await admin.query('SET GLOBAL innodb_buffer_pool_size = ?', [bytes])
  facts.innodb_buffer_pool_mb = Math.max(before, bytes) / 1024 / 1024
  // Steady state, as on a server that has been serving: every table and every index in memory.
  const [indexes] = (await admin.query(
    'SELECT DISTINCT TABLE_NAME AS t, INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()',
  )) as any
  for (const { t, i } of indexes as { t: string; i: string }[]) {
    await admin.query(`SELECT COUNT(*) FROM ${admin.escapeId(t)} FORCE INDEX (${admin.escapeId(i)})`)
  }
  await admin.query('SELECT SUM(LENGTH(text)) FROM tweets')
  await admin.query('SELECT SUM(followers_count), MAX(username) FROM users')
  try {
    return await work()
  } finally {
    if (before < bytes) await admin.query('SET GLOBAL innodb_buffer_pool_size = ?', [before]).catch(() => {})
    await admin.end()
  }
}

async function large(parts: { lists: boolean; analysis: boolean }) {
  const tweets = smoke ? 5_000 : 1_000_000
  const users = smoke ? 1_500 : 300_000
  const config = await seeded(LARGE_DB, tweets, users)
  const run = async () => {
    if (parts.lists) await loadLarge(config, tweets, users)
    if (parts.analysis) {
      await analysis(config, tweets, users)
      await exports(config, tweets)
      await exportsBesideProbe(config)
    }
  }
  // The smoke run's few thousand rows fit the default pool: it leaves the server's settings alone.
  if (smoke) await run()
  else await withBufferPool(2 * 1024 * 1024 * 1024, run)
}

async function loadLarge(config: MysqlConfig, tweets: number, users: number) {
  const admin = await mysql.createConnection({
    ...connectionOptions(config),
    database: config.database,
    supportBigNumbers: true,
    bigNumberStrings: true,
  })
  const [tweetIds] = (await admin.query('SELECT id FROM tweets GROUP BY id ORDER BY id DESC')) as any
  const [devopsIds] = (await admin.query(
    "SELECT id FROM tweets WHERE hashtag = 'devops' AND lang = 'en' ORDER BY id DESC",
  )) as any
  const [userIds] = (await admin.query('SELECT id FROM users ORDER BY id')) as any
  await admin.end()
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id)
  const random = mulberry32(7)
  const deepest = Math.floor(tweets / 100)
  const pages = [2, 10, 100, 1_000, 5_000, 10_000, ...Array.from({ length: 40 }, () => 2 + Math.floor(random() * (deepest - 2)))]
  const tweetPages = cursorsFor(ids(tweetIds), pages, 100).map((c) => `/api/v1/resources/tweets/all?cursor=${c}`)
  const filteredPages = cursorsFor(ids(devopsIds), pages, 100).map(
    (c) => `/api/v1/resources/tweets?hash=devops&lang=en&cursor=${c}`,
  )
  const userPages = cursorsFor(ids(userIds), [...pages, Math.floor(users / 100)], 100).map(
    (c) => `/api/v1/resources/users/all?cursor=${c}`,
  )
  facts.large_deepest_tweet_page = Math.max(...pages.filter((p) => (p - 1) * 100 <= tweetIds.length))
  const groups: [string, string[]][] = [
    [
      'tweets/by_hour',
      [
        '/api/v1/resources/tweets/by_hour',
        '/api/v1/resources/tweets/by_hour?hash=devops&tz=%2B05:30',
        '/api/v1/resources/tweets/by_hour?lang=ja&tz=-03:00',
      ],
    ],
    ['tweets/by_lang', ['/api/v1/resources/tweets/by_lang', '/api/v1/resources/tweets/by_lang?hash=sre']],
    ['hashtags/all', ['/api/v1/resources/hashtags/all']],
    ['users/top5', ['/api/v1/resources/users/top5']],
    ['tweets?hash&lang (first page)', ['/api/v1/resources/tweets?hash=devops&lang=en']],
    [
      'tweets?author_id',
      ids(userIds)
        .slice(0, 50)
        .map((id) => `/api/v1/resources/tweets?author_id=${id}`),
    ],
    ['tweets/all (first page)', ['/api/v1/resources/tweets/all']],
    [`tweets/all (pages 2..${facts.large_deepest_tweet_page})`, tweetPages],
    ['tweets?hash&lang (deep pages)', filteredPages],
    [`users/all (pages 2..${Math.floor(users / 100)})`, userPages],
  ]
  for (const [cache, env] of [
    ['cache on', {}],
    ['cache off', { RESPONSE_CACHE_MB: '0' }],
  ] as const) {
    const service = await startBenchService(LARGE_DB, env)
    let peak = rssOf(service.pid)
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(service.pid))
    }, 200)
    try {
      for (const [name, paths] of smoke ? groups.slice(0, 3) : groups) {
        await load(service.url, paths, smoke ? 1 : 3)
        const result = await load(service.url, paths)
        rows.push({ section: `large (${tweets} tweets, ${users} users), ${cache}`, name, result, note: `${paths.length} paths` })
      }
    } finally {
      clearInterval(sampler)
      facts[`large_rss_peak_mb_${cache.replace(' ', '_')}`] = Math.round(peak / 1024 / 1024)
      await service.stop()
    }
  }
}

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
/** What every analysis scenario's p99 should stay under, at a million tweets and 16 connections. */
const ANALYSIS_P99_MS = 50
/** Ids asked for by the by-id scenarios, cycled through. */
const ID_COUNT = 1_000

interface Range {
  since: number
  until: number
}

/**
 * Ranges of the analysis scenarios, one per path: each path is a different question, so that every
 * request is computed (identical requests in flight at once share one computation, which would
 * measure the sharing, not the query). Unaligned weeks start 7m13s into a quarter hour and end
 * 2m31s before one, moved by k × 13 s and k × 11 s; unaligned days end 1h2m31s before the seed's now,
 * moved by k × 11 s: their edges are counted from the rows. Aligned weeks start on a quarter hour,
 * moved by whole quarter hours, and end at now: only kept counts are read.
 */
function rangesOf(span: 'week' | 'day', aligned: boolean): Range[] {
  return Array.from({ length: smoke ? 8 : 64 }, (_, k) => {
    if (aligned) return { since: SEED_NOW - 7 * DAY_MS + k * 15 * MINUTE_MS, until: SEED_NOW }
    const until = SEED_NOW - (span === 'day' ? HOUR_MS : 0) - 2 * MINUTE_MS - 31_000 - k * 11_000
    const since = span === 'day' ? until - DAY_MS : SEED_NOW - 7 * DAY_MS + 7 * MINUTE_MS + 13_000 + k * 13_000
    return { since, until }
  })
}

const instant = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')

/** The path with the range's since and until among its parameters. */
const withRange = (path: string, params: Record<string, string>, range: Range) =>
  `${path}?${new URLSearchParams({ ...params, since: instant(range.since), until: instant(range.until) })}`

const API = '/api/v1/resources'

/**
 * The analysis endpoints at a million tweets with the response cache off (every request reaches
 * MySQL): each scenario against a bare Bun.serve answering with that scenario's own body, both
 * loaded by wrk, warmed first; p99 against ANALYSIS_P99_MS.
 */
async function analysis(config: MysqlConfig, tweets: number, users: number) {
  const admin = await mysql.createConnection({
    ...connectionOptions(config),
    database: config.database,
    supportBigNumbers: true,
    bigNumberStrings: true,
  })
  // Existing ids picked at random, the same ones every run (RAND with a seed, over rows in key order).
  const [tweetIds] = (await admin.query('SELECT id FROM tweets ORDER BY RAND(7) LIMIT ?', [ID_COUNT])) as any
  const [userIds] = (await admin.query('SELECT id FROM users ORDER BY RAND(7) LIMIT ?', [ID_COUNT])) as any
  await admin.end()
  const week = rangesOf('week', false)
  const alignedWeek = rangesOf('week', true)
  const day = rangesOf('day', false)
  const scenarios: [string, string[]][] = [
    ['timeline hour, all (7 d)', week.map((r) => withRange(`${API}/tweets/timeline`, { interval: 'hour' }, r))],
    [
      'timeline hour, #devops (7 d)',
      week.map((r) => withRange(`${API}/tweets/timeline`, { interval: 'hour', hash: 'devops' }, r)),
    ],
    ['timeline day, all (7 d)', week.map((r) => withRange(`${API}/tweets/timeline`, { interval: 'day' }, r))],
    ['timeline day, aligned (7 d)', alignedWeek.map((r) => withRange(`${API}/tweets/timeline`, { interval: 'day' }, r))],
    [
      'top 10 #devops, engagement (7 d)',
      week.map((r) => withRange(`${API}/tweets/top`, { hash: 'devops', by: 'engagement', limit: '10' }, r)),
    ],
    [
      'top 10 #devops, likes (7 d)',
      week.map((r) => withRange(`${API}/tweets/top`, { hash: 'devops', by: 'likes', limit: '10' }, r)),
    ],
    ['related to #devops (7 d)', week.map((r) => withRange(`${API}/hashtags/devops/related`, {}, r))],
    ['tweet by id', tweetIds.map((row: { id: string }) => `${API}/tweets/${row.id}`)],
    ['user by id', userIds.map((row: { id: string }) => `${API}/users/${row.id}`)],
    ['by_hour (24 h)', day.map((r) => withRange(`${API}/tweets/by_hour`, {}, r))],
    ['by_lang (24 h)', day.map((r) => withRange(`${API}/tweets/by_lang`, {}, r))],
  ]
  const section = `analysis (${tweets} tweets, ${users} users), cache off`
  const service = await startBenchService(config.database, { RESPONSE_CACHE_MB: '0' })
  try {
    for (const [name, paths] of scenarios) {
      const response = await fetch(service.url + paths[0])
      const body = await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`${name}: ${paths[0]} answered ${response.status}`)
      const bodyFile = join(work, `analysis_${name.replace(/\W/g, '_')}.json`)
      writeFileSync(bodyFile, Buffer.from(body))
      const baseline = await startBaseline(bodyFile)
      try {
        if (!smoke) {
          await load(baseline.url, ['/'], 2)
          await load(service.url, paths, 3)
        }
        const bare = await load(baseline.url, ['/'])
        const ours = await load(service.url, paths)
        rows.push({
          section,
          name,
          result: ours,
          baseline: bare,
          ratio: ours.rps / bare.rps,
          targetP99Ms: ANALYSIS_P99_MS,
          note: `${paths.length} paths, ${body.byteLength} B`,
        })
        checkTarget({ name, figure: 'p99_ms', value: ours.p99_ms, max: ANALYSIS_P99_MS })
      } finally {
        await baseline.stop()
      }
    }
  } finally {
    await service.stop()
  }
}

/** What an export of the whole million should reach: tweets per second, and memory over idle. */
const EXPORT_MIN_TWEETS_PER_S = 50_000
const EXPORT_MAX_RSS_GROWTH_MB = 50
const MB = 1024 * 1024

interface Drained {
  status: number
  content_type: string | null
  bytes: number
  lines: number
  first_byte_ms: number | null
  seconds: number
}

/** scripts/bench/drain.ts: one GET read to its end as fast as it comes (optionally saved to a file). */
async function drain(url: string, headers: Record<string, string>, save?: string): Promise<Drained> {
  const run = Bun.spawn(
    [
      'bun',
      join(import.meta.dir, 'bench', 'drain.ts'),
      url,
      ...(save === undefined ? [] : ['--save', save]),
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const out = await new Response(run.stdout).text()
  if ((await run.exited) !== 0) throw new Error(`drain ${url} failed:\n${out}${await new Response(run.stderr).text()}`)
  return JSON.parse(out.trim().split('\n').at(-1)!)
}

/** Median of a process's resident memory over about a second, sampled every 50 ms: its memory at rest. */
async function idleRss(pid: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < 20; i++) {
    samples.push(rssOf(pid))
    await Bun.sleep(50)
  }
  return median(samples)
}

/**
 * The whole selection of tweets/all exported once per format (Accept: text/csv and
 * application/x-ndjson), read by a client as fast as it can: tweets per second against a bare
 * Bun.serve sending the same bytes to the same client, and the service's peak RSS during the
 * export (sampled every 50 ms) over its RSS at rest. Each format gets a fresh service, at rest
 * after a small export has loaded the path, so that the one before does not count.
 */
async function exports(config: MysqlConfig, tweets: number) {
  const admin = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
  const [[{ n }]] = (await admin.query('SELECT COUNT(DISTINCT id) AS n FROM tweets')) as any
  const [[{ author }]] = (await admin.query(
    'SELECT author_id AS author FROM tweets GROUP BY author_id ORDER BY COUNT(*) LIMIT 1',
  )) as any
  await admin.end()
  const expected = Number(n)
  const path = '/api/v1/resources/tweets/all'
  for (const [format, accept] of [
    ['csv', 'text/csv'],
    ['ndjson', 'application/x-ndjson'],
  ] as const) {
    // A CSV export starts with its header row; the seed's texts hold no line breaks.
    const tweetsOf = (drained: Drained) => drained.lines - (format === 'csv' ? 1 : 0)
    const file = join(work, `export.${format}`)
    const service = await startBenchService(config.database, { RESPONSE_CACHE_MB: '0' })
    let ours: Drained
    let idle: number
    let peak: number
    try {
      await drain(`${service.url}/api/v1/resources/tweets?author_id=${author}`, { accept })
      idle = await idleRss(service.pid)
      peak = idle
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssOf(service.pid))
      }, 50)
      try {
        ours = await drain(service.url + path, { accept })
      } finally {
        clearInterval(sampler)
      }
      if (ours.status !== 200 || tweetsOf(ours) !== expected) {
        throw new Error(`export ${format}: ${ours.status}, ${tweetsOf(ours)} of ${expected} tweets (${ours.content_type})`)
      }
      // The same bytes again, kept for the baseline.
      await drain(service.url + path, { accept }, file)
    } finally {
      await service.stop()
    }
    const baseline = await startBaseline(file)
    let bare: Drained
    try {
      bare = await drain(`${baseline.url}/`, {})
    } finally {
      await baseline.stop()
      rmSync(file, { force: true })
    }
    if (bare.bytes !== ours.bytes)
      throw new Error(`export ${format}: the baseline sent ${bare.bytes} B, the service ${ours.bytes} B`)
    const rate = tweetsOf(ours) / ours.seconds
    const bareRate = tweetsOf(bare) / bare.seconds
    const growth = (peak - idle) / MB
    const row: ExportRow = {
      format,
      tweets: tweetsOf(ours),
      mb: Number((ours.bytes / MB).toFixed(1)),
      seconds: Number(ours.seconds.toFixed(2)),
      tweets_per_s: Math.round(rate),
      bare_tweets_per_s: Math.round(bareRate),
      ratio: Number((rate / bareRate).toFixed(3)),
      rss_idle_mb: Math.round(idle / MB),
      rss_peak_mb: Math.round(peak / MB),
      rss_growth_mb: Number(growth.toFixed(1)),
    }
    exportRows.push(row)
    for (const [key, value] of Object.entries(row)) if (key !== 'format') facts[`export_${format}_${key}`] = value
    facts[`export_${format}_first_byte_ms`] = Math.round(ours.first_byte_ms ?? 0)
    checkTarget({
      name: `export ${format} (${tweets} tweets)`,
      figure: 'tweets_per_s',
      value: Math.round(rate),
      min: EXPORT_MIN_TWEETS_PER_S,
    })
    checkTarget({
      name: `export ${format} (${tweets} tweets)`,
      figure: 'rss_growth_mb',
      value: Number(growth.toFixed(1)),
      max: EXPORT_MAX_RSS_GROWTH_MB,
    })
  }
}

/** How much an export may add to the p99 of a cheap request answered beside it, in ms. */
const EXPORTS_MAX_PROBE_P99_GROWTH_MS = 40

/**
 * Exports must not starve the API: /health/live loaded by wrk alone (its idle p99), then again while
 * EXPORT_CONCURRENCY exports of the whole selection run, each downloaded again as soon as it ends.
 * The baseline is the same endpoint of the same service in the same run: the figure is the growth.
 */
async function exportsBesideProbe(config: MysqlConfig) {
  const service = await startBenchService(config.database, { RESPONSE_CACHE_MB: '0' })
  const exporting = loadConfig({}).exportConcurrency
  try {
    const idle = await load(service.url, ['/health/live'])
    let stop = false
    const loops = Array.from({ length: exporting }, async (_, i) => {
      let done = 0
      while (!stop) {
        const drained = await drain(`${service.url}/api/v1/resources/tweets/all`, {
          accept: i % 2 === 0 ? 'text/csv' : 'application/x-ndjson',
        })
        if (drained.status !== 200) throw new Error(`export beside the probe answered ${drained.status}`)
        done++
      }
      return done
    })
    // Every export under way before the probe starts.
    await Bun.sleep(smoke ? 200 : 1_000)
    const loaded = await load(service.url, ['/health/live'])
    stop = true
    const done = await Promise.all(loops)
    const growth = loaded.p99_ms - idle.p99_ms
    rows.push({
      section: `exports beside a probe (${exporting} exports at once), cache off`,
      name: '/health/live',
      result: loaded,
      baseline: idle,
      ratio: loaded.rps / idle.rps,
      note: `baseline: the same endpoint with no export; ${done.reduce((a, b) => a + b, 0)} exports during the run; p99 +${growth.toFixed(1)} ms`,
    })
    facts.exports_probe_p99_idle_ms = idle.p99_ms
    facts.exports_probe_p99_loaded_ms = loaded.p99_ms
    checkTarget({
      name: `/health/live beside ${exporting} exports`,
      figure: 'p99_growth_ms',
      value: Number(growth.toFixed(1)),
      max: EXPORTS_MAX_PROBE_P99_GROWTH_MS,
    })
  } finally {
    await service.stop()
  }
}

async function coldStart() {
  await seeded(SMALL_DB, smoke ? 300 : 1_000, smoke ? 100 : 300)
  const times: number[] = []
  const bare: number[] = []
  const body = join(work, 'cold.json')
  writeFileSync(body, '{"data":[]}')
  for (let i = 0; i < (smoke ? 1 : 5); i++) {
    const started = performance.now()
    const service = await startBenchService(SMALL_DB)
    times.push(performance.now() - started)
    await service.stop()
    const t = performance.now()
    const baseline = await startBaseline(body)
    bare.push(performance.now() - t)
    await baseline.stop()
  }
  facts.cold_start_ms = Math.round(median(times))
  facts.cold_start_bare_bun_ms = Math.round(median(bare))
  facts.cold_start_ratio = Number((median(times) / median(bare)).toFixed(2))
}

/** Recorded pages of a #devops search in the API's shape: 100 tweets each, a few prolific authors among many. */
function recordedPages(count: number): SearchPage[] {
  const random = mulberry32(11)
  const author = zipf(random, 5_000, 0.8)
  const authors = Array.from({ length: 5_000 }, (_, i) => ({
    id: String(3_000_000_000_000_000_000n + BigInt(i)),
    username: `author_${i}`,
    name: `Author ${i}`,
    public_metrics: { followers_count: Math.floor(10 / (1 - random())) },
  }))
  let next = 2_000_000_000_000_000_000n
  return Array.from({ length: count }, () => {
    const data = Array.from({ length: 100 }, () => {
      // Pages of a #devops search: every tweet carries it, one in ten another tracked hashtag too.
      const tags = random() < 0.1 ? ['devops', pick(random, HASHTAGS.slice(1))] : ['devops']
      return {
        id: String(next++),
        text: `recorded tweet ${tags.map((t) => `#${t}`).join(' ')} 🚀`,
        author_id: authors[author()]!.id,
        created_at: new Date(Date.UTC(2026, 10, 20) + Math.floor(random() * 7 * 86_400_000)).toISOString(),
        lang: pick(random, ['en', 'en', 'en', 'es', 'pt', 'ja', 'und']),
        entities: { hashtags: tags.map((tag) => ({ tag })) },
      }
    })
    const used = new Set(data.map((t) => t.author_id))
    return {
      data,
      includes: { users: authors.filter((a) => used.has(a.id)) },
      meta: { result_count: 100, newest_id: data[99]!.id, oldest_id: data[0]!.id },
    }
  })
}

async function collectorStorage() {
  const pages = recordedPages(smoke ? 20 : 300)
  const warmup = smoke ? 2 : 30
  const measured = (pages.length - warmup) * 100
  const fresh = async (database: string) => {
    const c = await mysql.createConnection(connectionOptions(base))
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeId(database)}`)
    await c.end()
    const config = { ...base, database }
    await applySchema(config)
    return config
  }
  /** Seconds to store the pages after the first `warmup` (which warm the JIT and the buffer pool). */
  const timed = async (store: (page: SearchPage) => Promise<unknown>) => {
    let started = performance.now()
    for (const [index, page] of pages.entries()) {
      if (index === warmup) started = performance.now()
      await store(page)
    }
    return (performance.now() - started) / 1000
  }

  // The service's way: each page checked, then stored with its counts in one transaction.
  async function service(): Promise<number> {
    const config = await fresh(dbName('th_bench_store'))
    const db = createWriterPool({ ...config, queryTimeoutMs: 30_000 })
    const tracked = new Set(HASHTAGS)
    await db.run('INSERT INTO hashtags (tag) VALUES ?', [HASHTAGS.map((t) => [t])])
    // As in a run: one memory of stored users across pages.
    const storedUsers = new Map<string, string>()
    try {
      return await timed((page) =>
        storePage(db, 'devops', parsePage(page, 'devops', tracked), 100, { storedUsers, clock: systemClock }),
      )
    } finally {
      await db.close()
    }
  }

  // Baseline: the same rows, plain multi-row INSERTs of 100, no checks, counts or transactions.
  async function plain(): Promise<number> {
    const config = await fresh(dbName('th_bench_store_plain'))
    const connection = await mysql.createConnection({ ...connectionOptions(config), database: config.database })
    await connection.query('SET foreign_key_checks = 0')
    try {
      return await timed(async (page) => {
        await connection.query('INSERT IGNORE INTO users (id, username, name, followers_count, updated_at) VALUES ?', [
          page.includes!.users!.map((u) => [u.id, u.username, u.name, u.public_metrics.followers_count, '2026-11-28 00:00:00']),
        ])
        await connection.query('INSERT INTO tweets (id, hashtag, author_id, lang, text, created_at) VALUES ?', [
          page.data!.map((t) => [t.id, 'devops', t.author_id, t.lang!, t.text, t.created_at.replace('T', ' ').replace('Z', '')]),
        ])
      })
    } finally {
      await connection.end()
    }
  }

  // Alternated, three times each (once in the smoke run): one slow moment of the machine does not make the figure.
  const ours: number[] = []
  const baseline: number[] = []
  for (let trial = 0; trial < (smoke ? 1 : 3); trial++) {
    ours.push(await service())
    baseline.push(await plain())
  }
  const seconds = median(ours)
  const plainSeconds = median(baseline)
  facts.collector_tweets_per_second = Math.round(measured / seconds)
  facts.collector_plain_insert_tweets_per_second = Math.round(measured / plainSeconds)
  facts.collector_ratio_to_plain_inserts = Number((plainSeconds / seconds).toFixed(2))
  facts.collector_trials_tweets_per_second = ours.map((s) => Math.round(measured / s))
  facts.collector_pages = pages.length - warmup
}

// --- run ---------------------------------------------------------------------------------------

const scale = values.scale
const started = Date.now()
try {
  // The large scale last: seeding and warming a million rows leaves the server flushing for a while.
  if (scale === 'small' || scale === 'all') await small()
  if (scale === 'small' || scale === 'compression' || scale === 'all') await compression()
  if (scale !== 'analysis') {
    await collectorStorage()
    await coldStart()
  }
  if (scale === 'large' || scale === 'all' || scale === 'analysis') await large({ lists: scale !== 'analysis', analysis: true })
} finally {
  rmSync(work, { recursive: true, force: true })
}

const machine = {
  cpus: navigator.hardwareConcurrency,
  memory_gb: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024),
  bun: Bun.version,
  mysql: await mysql.createConnection(connectionOptions(base)).then(async (c) => {
    const [[row]] = (await c.query('SELECT VERSION() AS v')) as any
    await c.end()
    return row.v as string
  }),
}
const report = {
  date: new Date(started).toISOString(),
  machine,
  settings: { duration_s: duration, connections, smoke },
  facts,
  results: rows.map((r) => ({
    section: r.section,
    name: r.name,
    ...r.result,
    ...(r.baseline ? { baseline_rps: r.baseline.rps, ratio: Number(r.ratio!.toFixed(2)) } : {}),
    ...(r.baseline && r.targetP99Ms !== undefined
      ? {
          baseline_p99_ms: r.baseline.p99_ms,
          p99_ratio: Number((r.result.p99_ms / r.baseline.p99_ms).toFixed(2)),
          target_p99_ms: r.targetP99Ms,
          target_met: r.result.p99_ms < r.targetP99Ms,
        }
      : {}),
    ...(r.plain ? { plain_rps: r.plain.rps, ratio_to_plain: Number((r.result.rps / r.plain.rps).toFixed(2)) } : {}),
    ...(r.withoutAccessLog && r.baseline
      ? {
          without_access_log_rps: r.withoutAccessLog.rps,
          ratio_without_access_log: Number((r.withoutAccessLog.rps / r.baseline.rps).toFixed(2)),
        }
      : {}),
    note: r.note,
  })),
  exports: exportRows,
  targets,
}

const pad = (text: string, width: number) => text.padEnd(width)
let section = ''
for (const row of rows) {
  if (row.section !== section) {
    section = row.section
    console.log(`\n${section}`)
    console.log(
      `  ${pad('endpoint', 34)}${pad('req/s', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 8)}${pad('B/answer', 10)}${row.baseline ? `${pad('bare Bun', 10)}${pad('ratio', 7)}` : ''}${row.targetP99Ms !== undefined ? `${pad('bare p99', 10)}${pad('p99 ratio', 11)}p99 target` : ''}${row.withoutAccessLog ? 'no access log: req/s, ratio' : ''}${section.startsWith('compression') ? 'plain: req/s, ratio' : ''}`,
    )
  }
  const r = row.result
  console.log(
    `  ${pad(row.name, 34)}${pad(String(r.rps), 9)}${pad(r.p50_ms.toFixed(2), 9)}${pad(r.p99_ms.toFixed(2), 9)}${pad(String(r.errors), 8)}${pad(String(r.bytes_per_response), 10)}${row.baseline ? `${pad(String(row.baseline.rps), 10)}${pad(row.ratio!.toFixed(2), 7)}` : ''}${row.baseline && row.targetP99Ms !== undefined ? `${pad(row.baseline.p99_ms.toFixed(2), 10)}${pad((r.p99_ms / row.baseline.p99_ms).toFixed(1), 11)}< ${row.targetP99Ms} ${r.p99_ms < row.targetP99Ms ? 'met' : 'MISSED'}` : ''}${row.withoutAccessLog && row.baseline ? `${row.withoutAccessLog.rps}, ${(row.withoutAccessLog.rps / row.baseline.rps).toFixed(2)}` : ''}${row.plain ? `${row.plain.rps}, ${(r.rps / row.plain.rps).toFixed(2)}` : ''}`,
  )
}
if (exportRows.length > 0) {
  console.log('\nexports of tweets/all, the whole selection, cache off')
  const columns = ['format', 'tweets', 'MB', 's', 'tweets/s', 'bare Bun', 'ratio', 'RSS idle MB', 'peak MB', 'growth MB']
  console.log(`  ${columns.map((c) => pad(c, 12)).join('')}`)
  for (const e of exportRows) {
    const cells = [
      e.format,
      e.tweets,
      e.mb,
      e.seconds,
      e.tweets_per_s,
      e.bare_tweets_per_s,
      e.ratio,
      e.rss_idle_mb,
      e.rss_peak_mb,
      e.rss_growth_mb,
    ]
    console.log(`  ${cells.map((c) => pad(String(c), 12)).join('')}`)
  }
}
console.log(`\n${JSON.stringify(facts)}`)
if (targets.length > 0) {
  const missed = targets.filter((t) => !t.met)
  console.log(
    `\ntargets: ${targets.length - missed.length} met, ${missed.length} missed${smoke ? ' (a smoke run: a tiny data set, cold and brief, not what the targets are for)' : ''}`,
  )
  for (const t of missed) {
    console.log(
      `  missed: ${t.name}: ${t.figure} ${t.value}${t.max !== undefined ? `, should be < ${t.max}` : ''}${t.min !== undefined ? `, should be ≥ ${t.min}` : ''}`,
    )
  }
}
const out = values.json ?? join(ROOT, 'bench-results', `bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`)
mkdirSync(join(out, '..'), { recursive: true })
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
console.log(`results written to ${out}`)
