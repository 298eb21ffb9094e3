import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import mysql from 'mysql2/promise'
import { Registry } from 'prom-client'
import { freePort, spawnBun, waitReady } from '../../scripts/lib/service-process'
import { type Collector, createCollector } from '../../src/collector'
import type { RunSummary } from '../../src/collector/run'
import { createXApiSource } from '../../src/collector/x-api-source'
import { loadConfig, type MysqlConfig } from '../../src/config'
import { FRESHNESS_MS } from '../../src/db/data-version'
import { applySchema } from '../../src/db/schema'
import { connectionOptions } from '../../src/db/session'
import type { Database } from '../../src/db/sql'
import { createLogger } from '../../src/observability/logger'
import { createCollectorMetrics } from '../../src/observability/metrics'
import { createWriterPool } from '../../src/root'
import { CapturedLog } from '../support/app'
import { ENDPOINTS } from '../support/endpoints'
import { FakeXApi } from '../support/fake-x-api'
import { jsonLines } from '../support/json-lines'
import { PrivateMariaDb } from '../support/private-mariadb'

/**
 * A database outage under load. The service runs as a real process on a MariaDB server of the
 * test's own (the shared one must never stop), with requests arriving from several clients at once
 * and a collection from the fake X API under way; the server is shut down for 10 s and started again
 * on the same port. During the outage requests fail fast with 503 problem+json and readiness says
 * not ready; within 5 s of the database's return every endpoint answers 200 again, from the same
 * process. The collection that was storing a page when the server went away leaves no page
 * half-written, and the next run completes it.
 */

const OUTAGE_MS = 10_000
const FAIL_FAST_MS = 2_000
const RECOVERY_MS = 5_000
/** Load kept up after the database returns: the recovery, then proof that it holds. */
const AFTER_MS = 7_000
const CLIENTS = 8
/** Between one client's requests: a steady load, not a saturating one, so latencies mean something on a small machine. */
const PAUSE_MS = 10
const PROBE_EVERY_MS = 100

/** The collector's world: a few pages per hashtag, each slow to arrive, so a run is under way when the server stops. */
const TAGS = ['devops', 'sre', 'observability']
const PAGE_SIZE = 10
const PAGES_PER_TAG = 6
const PAGE_DELAY_MS = 250
/** The page the outage interrupts half-way (see holdCounts). */
const CUT = { tag: 'sre', page: 3 }

/** One request and its answer, times from performance.now(). */
interface Exchange {
  path: string
  startedAt: number
  endedAt: number
  /** 0 when no answer came (connection refused, 10 s without an answer). */
  status: number
  contentType: string
  retryAfter: string | null
  body: any
}

interface ServedPage {
  tag: string
  page: number
  ids: string[]
}

/** What happened, for the tests below to judge. Times from performance.now(). */
interface Outage {
  requests: Exchange[]
  probes: Exchange[]
  loadStartedAt: number
  /** SIGTERM sent to the server. */
  stopRequestedAt: number
  /** The server has exited. */
  downAt: number
  /** Start asked for again, OUTAGE_MS after downAt. */
  startRequestedAt: number
  /** The server answers again. */
  upAt: number
  firstRun: RunSummary
  firstRunEndedAt: number
  /** Stored rows of each served page, read after the server came back and before the next run. */
  storedPerPage: { tag: string; page: number; served: number; stored: number }[]
  countsAfterOutage: { tag: string; rows: number; counted: number }[]
  secondRun: RunSummary
  countsAfterSecondRun: { tag: string; rows: number; counted: number }[]
  outcomesAfterSecondRun: { tag: string; outcome: string }[]
  serviceAliveAfter: boolean
  serviceExitCode: number | null
  serviceLog: Record<string, any>[]
}

const duration = (r: Exchange) => r.endedAt - r.startedAt

/** Math.max over many values (spreading tens of thousands of arguments is asking for trouble). */
const maxOf = (values: number[], floor = Number.NEGATIVE_INFINITY) => values.reduce((max, v) => Math.max(max, v), floor)

/**
 * When every endpoint was back: the start of the first successful request after the last failed
 * one, and not before the database was (Infinity when failures went on to the end).
 */
function recoveredAt({ requests, upAt }: Outage): number {
  const lastFailure = maxOf(
    requests.filter((r) => r.status !== 200).map((r) => r.startedAt),
    upAt,
  )
  const next = requests.filter((r) => r.startedAt > lastFailure && r.status === 200).map((r) => r.startedAt)
  return next.reduce((min, t) => Math.min(min, t), Number.POSITIVE_INFINITY)
}

const byTag = (a: { tag: string }, b: { tag: string }) => a.tag.localeCompare(b.tag)

const mariadb = new PrivateMariaDb()
const fake = new FakeXApi()
const collectorLog = new CapturedLog()
let service: ReturnType<typeof spawnBun> | undefined
let serviceOutput: Promise<string> = Promise.resolve('')
let url: string
let collectConfig: MysqlConfig
let writer: Database | undefined
let holder: mysql.Connection | undefined
let load: ReturnType<typeof startLoad> | undefined
let outage: Outage

/** One GET; the body is kept (parsed) when it is not a 200 or when asked. */
async function exchange(path: string, keepBody = false): Promise<Exchange> {
  const startedAt = performance.now()
  try {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) })
    const text = await response.text()
    const endedAt = performance.now()
    let body: unknown = null
    if (response.status !== 200 || keepBody) {
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
    }
    return {
      path,
      startedAt,
      endedAt,
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      retryAfter: response.headers.get('retry-after'),
      body,
    }
  } catch (error) {
    return { path, startedAt, endedAt: performance.now(), status: 0, contentType: '', retryAfter: null, body: String(error) }
  }
}

/** CLIENTS clients going round the endpoints, and a readiness probe, until stopped. */
function startLoad() {
  let running = true
  const requests: Exchange[] = []
  const probes: Exchange[] = []
  const client = async (first: number) => {
    for (let i = first; running; i++) {
      requests.push(await exchange(ENDPOINTS[i % ENDPOINTS.length]!))
      await Bun.sleep(PAUSE_MS)
    }
  }
  const probe = async () => {
    while (running) {
      probes.push(await exchange('/health/ready', true))
      await Bun.sleep(PROBE_EVERY_MS)
    }
  }
  const all = Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i)), probe()])
  return {
    async stop() {
      running = false
      await all
      return { requests, probes }
    },
  }
}

const connect = (config: MysqlConfig) =>
  mysql.createConnection({
    ...connectionOptions(config),
    database: config.database,
    supportBigNumbers: true,
    bigNumberStrings: true,
  })

/**
 * Locks the hashtag's rows of hashtag_counts (and the gaps between them) in a transaction left open.
 * A page inserts its tweets first and adds them to the counts next, so the collector's next page of
 * that hashtag waits there with its tweets written and its counts not: the outage strikes in the
 * middle of a page, where a store that was not one transaction would leave tweets without counts.
 */
async function holdCounts(tag: string): Promise<mysql.Connection> {
  const connection = await connect(collectConfig)
  await connection.query('START TRANSACTION')
  await connection.query('SELECT tweets FROM hashtag_counts WHERE hashtag = ? FOR UPDATE', [tag])
  return connection
}

/**
 * Resolves once a transaction waits for a row lock: the collector's page is stuck half-way. Polled
 * every 150 ms: InnoDB refreshes INNODB_TRX only when it has not been read for 100 ms, so faster
 * polling would keep reading the same stale snapshot.
 */
async function lockWaitSeen(connection: mysql.Connection, timeoutMs = 5_000): Promise<void> {
  const until = performance.now() + timeoutMs
  while (performance.now() < until) {
    const [[row]] = (await connection.query(
      "SELECT COUNT(*) AS waiting FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
    )) as any
    if (Number(row.waiting) > 0) return
    await Bun.sleep(150)
  }
  throw new Error(`the collector's page ${CUT.page} of #${CUT.tag} never waited for the hashtag_counts lock`)
}

/** Rows in `tweets` per hashtag, against what hashtag_counts says: the counts travel in each page's transaction. */
async function rowsAndCounts(connection: mysql.Connection) {
  const [rows] = (await connection.query(
    `SELECT h.tag,
            (SELECT COUNT(*) FROM tweets t WHERE t.hashtag = h.tag) AS stored,
            (SELECT COALESCE(SUM(c.tweets), 0) FROM hashtag_counts c WHERE c.hashtag = h.tag) AS counted
       FROM hashtags h ORDER BY h.tag`,
  )) as any
  return (rows as any[]).map((r) => ({ tag: r.tag as string, rows: Number(r.stored), counted: Number(r.counted) }))
}

function createTestCollector(db: Database, onPage: (tag: string, page: number) => void): Collector {
  const config = loadConfig({
    TWITTER_BEARER_TOKEN: fake.token,
    TWITTER_API_BASE_URL: fake.baseUrl,
    TWITTER_API_CA_FILE: fake.caFile,
    HASHTAGS: TAGS.join(','),
    MAX_PAGES_PER_HASHTAG: '20',
  }).collector
  return createCollector({
    db,
    config,
    logger: createLogger({ destination: collectorLog, level: 'debug' }),
    metrics: createCollectorMetrics(new Registry()),
    source: createXApiSource(config),
    onPage: (progress) => onPage(progress.tag, progress.page),
    random: () => 0.5,
  })
}

/** Every page of the first run arrives slowly, and is recorded as the fake serves it. */
function slowPages(served: ServedPage[]) {
  for (const tag of TAGS) {
    for (let page = 1; page <= PAGES_PER_TAG; page++) {
      fake.faults.push({
        tag,
        page,
        delayMs: PAGE_DELAY_MS,
        transform: (body) => {
          served.push({ tag, page, ids: (body.data ?? []).map((tweet: { id: string }) => tweet.id) })
          return body
        },
      })
    }
  }
}

async function runOutage(): Promise<Outage> {
  const served: ServedPage[] = []
  slowPages(served)
  let cutReached: () => void = () => {}
  const beforeCut = new Promise<void>((resolve) => {
    cutReached = resolve
  })
  const collector = createTestCollector(writer!, (tag, page) => {
    if (tag === CUT.tag && page === CUT.page - 1) cutReached()
  })

  load = startLoad()
  const loadStartedAt = performance.now()
  let firstRunEndedAt = 0
  const firstRun = collector.run().finally(() => {
    firstRunEndedAt = performance.now()
  })
  // The page before the cut is committed; the fake takes PAGE_DELAY_MS to serve the next one.
  await beforeCut
  holder = await holdCounts(CUT.tag)
  await lockWaitSeen(holder)

  const stopRequestedAt = performance.now()
  await mariadb.stop()
  const downAt = performance.now()
  await Bun.sleep(OUTAGE_MS)
  const startRequestedAt = performance.now()
  await mariadb.start()
  const upAt = performance.now()
  holder.destroy()
  holder = undefined
  await Bun.sleep(AFTER_MS)
  const { requests, probes } = await load.stop()

  const first = await firstRun
  const admin = await connect(collectConfig)
  try {
    const storedPerPage = []
    for (const page of served) {
      const [[row]] = (await admin.query('SELECT COUNT(*) AS stored FROM tweets WHERE hashtag = ? AND id IN (?)', [
        page.tag,
        page.ids,
      ])) as any
      storedPerPage.push({ tag: page.tag, page: page.page, served: page.ids.length, stored: Number(row.stored) })
    }
    const countsAfterOutage = await rowsAndCounts(admin)
    const secondRun = await collector.run()
    const [outcomes] = (await admin.query('SELECT tag, last_outcome AS outcome FROM hashtags ORDER BY tag')) as any

    const alive = service!.exitCode === null
    service!.kill('SIGTERM')
    const serviceExitCode = await Promise.race([service!.exited, Bun.sleep(10_000).then(() => null)])
    return {
      requests,
      probes,
      loadStartedAt,
      stopRequestedAt,
      downAt,
      startRequestedAt,
      upAt,
      firstRun: first,
      firstRunEndedAt,
      storedPerPage,
      countsAfterOutage,
      secondRun,
      countsAfterSecondRun: await rowsAndCounts(admin),
      outcomesAfterSecondRun: outcomes,
      serviceAliveAfter: alive,
      serviceExitCode,
      serviceLog: jsonLines(await serviceOutput),
    }
  } finally {
    await admin.end()
  }
}

beforeAll(async () => {
  // Fails here, naming what to install, when MariaDB is missing: never skipped.
  await mariadb.start()
  await fake.start()
  fake.pageSize = PAGE_SIZE
  TAGS.forEach((tag, n) => {
    const author = { id: String(100 + n), username: `${tag}_fan`, name: `#${tag} fan`, followers_count: 10 * (n + 1) }
    fake.addTweets(
      author,
      Array.from({ length: PAGE_SIZE * PAGES_PER_TAG }, (_, i) => ({
        text: `#${tag} note ${i}`,
        tags: [tag],
        minutesAgo: 5 + i,
      })),
    )
  })
  collectConfig = mariadb.config('outage_collect')
  await applySchema(collectConfig)
  // The collector's pool as the service builds it: two connections, statement batches.
  writer = createWriterPool(collectConfig)

  const port = await freePort()
  url = `http://127.0.0.1:${port}`
  service = spawnBun('index.ts', {
    MYSQL_URL: mariadb.url('outage_api'),
    PORT: String(port),
    HOST: '127.0.0.1',
    COLLECT_SOURCE: 'sample',
    LOG_LEVEL: 'warn',
  })
  // Read as it comes, or a full pipe would block the service's log writes.
  serviceOutput = new Response(service.stdout).text()
  void new Response(service.stderr).text()
  await waitReady(url, 30_000)

  outage = await runOutage()
  const during = outage.requests.filter((r) => r.startedAt >= outage.downAt && r.endedAt <= outage.startRequestedAt)
  const touching = [...outage.requests, ...outage.probes].filter(
    (r) => r.endedAt >= outage.stopRequestedAt && r.startedAt <= outage.upAt,
  )
  console.log(
    `outage: ${outage.requests.length} requests and ${outage.probes.length} readiness probes; ` +
      `server stop ${Math.round(outage.downAt - outage.stopRequestedAt)} ms, start ${Math.round(outage.upAt - outage.startRequestedAt)} ms; ` +
      `${during.length} requests during the outage, slowest answer around it ${Math.round(maxOf(touching.map(duration)))} ms; ` +
      `every endpoint back ${Math.round(recoveredAt(outage) - outage.upAt)} ms after the database; ` +
      `pages fetched by the cut run: ${outage.storedPerPage.map((p) => `${p.tag} ${p.page} (${p.stored}/${p.served})`).join(', ')}`,
  )
}, 120_000)

afterAll(async () => {
  // Each step on its own: one failing must not leave the others' processes or files behind.
  const steps: (() => unknown)[] = [
    () => load?.stop(),
    async () => {
      if (service !== undefined && service.exitCode === null) {
        service.kill('SIGKILL')
        await service.exited
      }
    },
    () => holder?.destroy(),
    () => writer?.close(),
    () => fake.stop(),
    () => mariadb.remove(),
  ]
  for (const step of steps)
    await Promise.resolve()
      .then(step)
      .catch(() => {})
}, 60_000)

describe('a database outage under load', () => {
  test('when the database is up under load, then every request is answered 200 and the service is ready', () => {
    const before = outage.requests.filter((r) => r.endedAt < outage.stopRequestedAt)
    const probes = outage.probes.filter((r) => r.endedAt < outage.stopRequestedAt)
    expect(outage.stopRequestedAt - outage.loadStartedAt).toBeGreaterThan(1_000)
    expect(new Set(before.map((r) => r.path))).toEqual(new Set(ENDPOINTS))
    expect(before.filter((r) => r.status !== 200)).toEqual([])
    expect(probes.length).toBeGreaterThan(0)
    expect(probes.filter((r) => r.status !== 200)).toEqual([])
  })

  test('when the database is down, then every request fails fast with 503 problem+json, never another error', () => {
    const { requests, probes, stopRequestedAt, downAt, startRequestedAt, upAt } = outage
    // A version read that started before the server went away is trusted for FRESHNESS_MS; past it, nothing is served.
    const during = requests.filter((r) => r.startedAt >= downAt + FRESHNESS_MS && r.endedAt <= startRequestedAt)
    expect(during.length).toBeGreaterThan(100)
    expect(new Set(during.map((r) => r.path))).toEqual(new Set(ENDPOINTS))
    expect(during.filter((r) => r.status !== 503).map((r) => ({ path: r.path, status: r.status }))).toEqual([])

    // Around the outage, the server's shutdown and start included: fast, and only 200 or 503.
    const touching = [...requests, ...probes].filter((r) => r.endedAt >= stopRequestedAt && r.startedAt <= upAt)
    const slow = touching.filter((r) => duration(r) >= FAIL_FAST_MS)
    expect(slow.map((r) => ({ path: r.path, status: r.status, ms: Math.round(duration(r)) }))).toEqual([])
    const unexpected = requests.filter((r) => r.status !== 200 && r.status !== 503)
    expect(unexpected.map((r) => ({ path: r.path, status: r.status, body: r.body }))).toEqual([])

    for (const failed of requests.filter((r) => r.status === 503)) {
      expect({ path: failed.path, type: failed.contentType, status: failed.body?.status, retryAfter: failed.retryAfter }).toEqual(
        {
          path: failed.path,
          type: 'application/problem+json',
          status: 503,
          retryAfter: '1',
        },
      )
    }
  })

  test('when the database is down, then /health/ready answers 503 not_ready, naming the database', () => {
    const { probes, downAt, startRequestedAt } = outage
    const during = probes.filter((r) => r.startedAt >= downAt && r.endedAt <= startRequestedAt)
    expect(during.length).toBeGreaterThan(OUTAGE_MS / PROBE_EVERY_MS / 2)
    for (const probe of during) {
      expect({ status: probe.status, ready: probe.body?.status, database: probe.body?.checks?.database }).toEqual({
        status: 503,
        ready: 'not_ready',
        database: 'down',
      })
    }
  })

  test('when the database returns, then within 5 s every endpoint answers 200 again and keeps doing so, from the same process', () => {
    const { requests, probes, upAt } = outage
    const later = requests.filter((r) => r.startedAt >= upAt + RECOVERY_MS)
    expect(new Set(later.map((r) => r.path))).toEqual(new Set(ENDPOINTS))
    expect(later.filter((r) => r.status !== 200).map((r) => ({ path: r.path, status: r.status }))).toEqual([])
    expect(recoveredAt(outage) - upAt).toBeLessThan(RECOVERY_MS)
    const laterProbes = probes.filter((r) => r.startedAt >= upAt + RECOVERY_MS)
    expect(laterProbes.length).toBeGreaterThan(0)
    expect(laterProbes.filter((r) => r.status !== 200)).toEqual([])
    // Never restarted: the process spawned before the outage served to the end, then shut down cleanly.
    expect(outage.serviceAliveAfter).toBe(true)
    expect(outage.serviceExitCode).toBe(0)
    const unhandled = outage.serviceLog.filter((l) => l['log.level'] === 'fatal' || l.event?.action === 'unhandled-rejection')
    expect(unhandled).toEqual([])
  })

  test('when a collection is storing a page as the database goes away, then no page is half-stored and the next run completes it', () => {
    const { firstRun, firstRunEndedAt, storedPerPage, countsAfterOutage, secondRun } = outage
    // The run gave up during the outage instead of waiting for the server.
    expect(firstRunEndedAt).toBeLessThan(outage.startRequestedAt)
    expect(firstRun.outcome).toBe('failed')
    expect(firstRun.hashtags.map((h) => [h.tag, h.outcome])).toEqual([
      ['devops', 'ok'],
      [CUT.tag, 'failed'],
      ['observability', 'skipped'],
    ])
    // The pages before the cut landed whole. The cut one was half-written, waiting for a lock, when the
    // server went away; how it ends is a race inside the server's shutdown: rolled back, or committed
    // when the lock holder's connection is killed first (and then the collector either hears of it
    // and fetches one more page, which fails, or loses its link before the answer). Whatever the
    // order, the last page the run fetched landed whole or not at all, and nothing was fetched after it.
    const label = (p: { tag: string; page: number }) => `${p.tag} ${p.page}`
    const beforeCut = [
      ...Array.from({ length: PAGES_PER_TAG }, (_, i) => `devops ${i + 1}`),
      ...Array.from({ length: CUT.page - 1 }, (_, i) => `${CUT.tag} ${i + 1}`),
    ]
    expect(storedPerPage.slice(0, beforeCut.length + 1).map(label)).toEqual([...beforeCut, label(CUT)])
    expect(storedPerPage.length).toBeLessThanOrEqual(beforeCut.length + 2)
    const last = storedPerPage.at(-1)!
    for (const page of storedPerPage.slice(0, -1)) expect(page).toEqual({ ...page, served: PAGE_SIZE, stored: PAGE_SIZE })
    expect([0, PAGE_SIZE]).toContain(last.stored)
    // The counts travel in the page's transaction: a page half-written would show here as rows without their counts.
    for (const { tag, rows, counted } of countsAfterOutage) expect({ tag, counted }).toEqual({ tag, counted: rows })

    expect(secondRun.outcome).toBe('success')
    const everything = PAGE_SIZE * PAGES_PER_TAG
    expect(outage.countsAfterSecondRun).toEqual(TAGS.map((tag) => ({ tag, rows: everything, counted: everything })).sort(byTag))
    expect(outage.outcomesAfterSecondRun).toEqual(TAGS.map((tag) => ({ tag, outcome: 'ok' })).sort(byTag))
    expect(fake.violations).toEqual([])
  })
})
