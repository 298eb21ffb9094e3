/**
 * `bun run bench`: the service's throughput, latency, memory, start-up and collector storage speed,
 * each measured against a baseline in the same run (these machines are noisy: ratios travel, absolute
 * figures less so).
 *
 *   bun run bench [--scale small|large|compression|all] [--duration 10] [--connections 16] [--json file] [--smoke]
 *
 * small  the original's size (about 1,000 tweets): every endpoint against a bare Bun.serve returning
 *        a static JSON body of the same size, both loaded by wrk with the same connections; and the
 *        same service with LOG_LEVEL=warn (no access lines), to show what the access log costs.
 * large  1,000,000 tweets and 300,000 users (seeded once by scripts/seed.ts, reused afterwards): p99
 *        of every aggregate, top5, a filtered query and pages of every list up to page 10,000, with
 *        the response cache on (the default) and off (every request reaches MySQL); RSS under load.
 * compression  a 100-tweet page of the small data set asked for plain, gzip, br and zstd, with the
 *        cache on (variants kept) and off (every request computed and compressed): bytes on the
 *        wire per answer and req/s, each beside the plain answer's (with --scale small, compression, all).
 * Also: cold start to ready, and collector storage (recorded pages parsed and stored, against plain
 * multi-row INSERTs of the same rows).
 *
 * --smoke runs everything tiny and fast, to check that the bench works and reports well-formed results.
 * Needs wrk (Debian package "wrk") and a MySQL/MariaDB server (MYSQL_URL).
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import mysql from 'mysql2/promise'
import { parsePage, type SearchPage } from '../src/collector/page'
import { storePage } from '../src/collector/store'
import { loadConfig, type MysqlConfig } from '../src/config'
import { applySchema } from '../src/db/schema'
import { connectionOptions } from '../src/db/session'
import { encodeCursor } from '../src/http/pagination'
import { createWriterPool } from '../src/root'
import { type LoadResult, runWrk } from './bench/wrk'
import { freePort, mysqlUrl, startService, waitForOk } from './lib/service-process'
import { mulberry32, pick } from './random'
import { HASHTAGS, seed, zipf } from './seed'

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'all' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    json: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
})

const ROOT = join(import.meta.dir, '..')
const smoke = values.smoke
const duration = smoke ? 1 : Number(values.duration)
const connections = Number(values.connections)
const work = mkdtempSync(join(tmpdir(), 'bench-'))
const base = loadConfig().mysql
if (Bun.which('wrk') === null) throw new Error('wrk is not installed: apt-get install wrk')

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
  note?: string
}

const rows: Row[] = []
const facts: Record<string, unknown> = {}

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

async function seeded(database: string, tweets: number, users: number): Promise<MysqlConfig> {
  const config = { ...base, database }
  const existing = await mysql.createConnection(connectionOptions(base)).then(async (c) => {
    try {
      const [[row]] = (await c.query(
        `SELECT (SELECT COALESCE(SUM(first_seen), 0) FROM ${c.escapeId(database)}.hashtag_counts) AS tweets, (SELECT COUNT(*) FROM ${c.escapeId(database)}.users) AS users`,
      )) as any
      return { tweets: Number(row.tweets), users: Number(row.users) }
    } catch {
      return { tweets: -1, users: -1 }
    } finally {
      await c.end()
    }
  })
  if (existing.tweets === tweets && existing.users === users) {
    console.log(`reusing ${database}: ${tweets} tweets, ${users} users`)
  } else {
    console.log(`seeding ${database}: ${tweets} tweets, ${users} users`)
    await seed(config, { tweets, users, seed: 42, onProgress: (m) => console.log(`  ${m}`) })
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
  await seeded('th_bench_small', tweets, smoke ? 100 : 300)
  const service = await startBenchService('th_bench_small')
  // Access lines are logged at info: at warn, the same service writes none.
  const quiet = await startBenchService('th_bench_small', { LOG_LEVEL: 'warn' })
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
  await seeded('th_bench_small', smoke ? 300 : 1_000, smoke ? 100 : 300)
  for (const [cache, env] of [
    ['cache on', {}],
    ['cache off', { RESPONSE_CACHE_MB: '0' }],
  ] as const) {
    const service = await startBenchService('th_bench_small', env)
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
 * (128 MiB) does not hold a million tweets (about 350 MiB with indexes): raised for the run, as
 * docker-compose.yml configures MySQL, and put back afterwards.
 */
async function withBufferPool<T>(bytes: number, work: () => Promise<T>): Promise<T> {
  const admin = await mysql.createConnection({ ...connectionOptions(base), database: 'th_bench_large' })
  const [[row]] = (await admin.query('SELECT @@innodb_buffer_pool_size AS size')) as any
  const before = Number(row.size)
  if (before < bytes) await admin.query('SET GLOBAL innodb_buffer_pool_size = ?', [bytes])
  facts.innodb_buffer_pool_mb = Math.max(before, bytes) / 1024 / 1024
  // Steady state, as on a server that has been serving: the table and its indexes in memory.
  for (const index of ['PRIMARY', 'tweets_by_hashtag', 'tweets_by_lang', 'tweets_by_hashtag_lang', 'tweets_by_author']) {
    await admin.query(`SELECT COUNT(*), MAX(id) FROM tweets FORCE INDEX (${index})`)
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

async function large() {
  const tweets = smoke ? 5_000 : 1_000_000
  const users = smoke ? 1_500 : 300_000
  const config = await seeded('th_bench_large', tweets, users)
  // The smoke run's few thousand rows fit the default pool: it leaves the server's settings alone.
  if (smoke) await loadLarge(config, tweets, users)
  else await withBufferPool(1024 * 1024 * 1024, () => loadLarge(config, tweets, users))
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
    const service = await startBenchService('th_bench_large', env)
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

async function coldStart() {
  await seeded('th_bench_small', smoke ? 300 : 1_000, smoke ? 100 : 300)
  const times: number[] = []
  const bare: number[] = []
  const body = join(work, 'cold.json')
  writeFileSync(body, '{"data":[]}')
  for (let i = 0; i < (smoke ? 1 : 5); i++) {
    const started = performance.now()
    const service = await startBenchService('th_bench_small')
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
    const config = await fresh('th_bench_store')
    const db = createWriterPool({ ...config, queryTimeoutMs: 30_000 })
    const tracked = new Set(HASHTAGS)
    await db.run('INSERT INTO hashtags (tag) VALUES ?', [HASHTAGS.map((t) => [t])])
    // As in a run: one memory of stored users across pages.
    const storedUsers = new Map<string, string>()
    try {
      return await timed((page) => storePage(db, 'devops', parsePage(page, 'devops', tracked), 100, storedUsers))
    } finally {
      await db.close()
    }
  }

  // Baseline: the same rows, plain multi-row INSERTs of 100, no checks, counts or transactions.
  async function plain(): Promise<number> {
    const config = await fresh('th_bench_store_plain')
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
  await collectorStorage()
  await coldStart()
  if (scale === 'large' || scale === 'all') await large()
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
    ...(r.plain ? { plain_rps: r.plain.rps, ratio_to_plain: Number((r.result.rps / r.plain.rps).toFixed(2)) } : {}),
    ...(r.withoutAccessLog && r.baseline
      ? {
          without_access_log_rps: r.withoutAccessLog.rps,
          ratio_without_access_log: Number((r.withoutAccessLog.rps / r.baseline.rps).toFixed(2)),
        }
      : {}),
    note: r.note,
  })),
}

const pad = (text: string, width: number) => text.padEnd(width)
let section = ''
for (const row of rows) {
  if (row.section !== section) {
    section = row.section
    console.log(`\n${section}`)
    console.log(
      `  ${pad('endpoint', 34)}${pad('req/s', 9)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('errors', 8)}${pad('B/answer', 10)}${row.baseline ? `${pad('bare Bun', 10)}${pad('ratio', 7)}` : ''}${row.withoutAccessLog ? 'no access log: req/s, ratio' : ''}${section.startsWith('compression') ? 'plain: req/s, ratio' : ''}`,
    )
  }
  const r = row.result
  console.log(
    `  ${pad(row.name, 34)}${pad(String(r.rps), 9)}${pad(r.p50_ms.toFixed(2), 9)}${pad(r.p99_ms.toFixed(2), 9)}${pad(String(r.errors), 8)}${pad(String(r.bytes_per_response), 10)}${row.baseline ? `${pad(String(row.baseline.rps), 10)}${pad(row.ratio!.toFixed(2), 7)}` : ''}${row.withoutAccessLog && row.baseline ? `${row.withoutAccessLog.rps}, ${(row.withoutAccessLog.rps / row.baseline.rps).toFixed(2)}` : ''}${row.plain ? `${row.plain.rps}, ${(r.rps / row.plain.rps).toFixed(2)}` : ''}`,
  )
}
console.log(`\n${JSON.stringify(facts)}`)
const out = values.json ?? join(ROOT, 'bench-results', `bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`)
mkdirSync(join(out, '..'), { recursive: true })
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
console.log(`results written to ${out}`)
