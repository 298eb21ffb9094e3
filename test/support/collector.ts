import { afterEach, beforeEach } from 'bun:test'
import type mysql from 'mysql2/promise'
import { Registry } from 'prom-client'
import { createCollector } from '../../src/collector'
import type { SearchSource } from '../../src/collector/source'
import { createXApiSource } from '../../src/collector/x-api-source'
import { type CollectorConfig, loadConfig } from '../../src/config'
import type { Database } from '../../src/db/sql'
import type { Clock } from '../../src/domain/clock'
import { createLogger } from '../../src/observability/logger'
import { createCollectorMetrics } from '../../src/observability/metrics'
import { CapturedLog } from './app'
import { createTestDatabase, type TestDatabase } from './database'
import { type FakeUser, FakeXApi } from './fake-x-api'

/** The collector's settings for a run against `fake`; `env` adds or overrides variables. */
export function collectorConfigFor(fake: FakeXApi, env: Record<string, string> = {}): CollectorConfig {
  return loadConfig({
    TWITTER_BEARER_TOKEN: fake.token,
    TWITTER_API_BASE_URL: fake.baseUrl,
    TWITTER_API_CA_FILE: fake.caFile,
    HASHTAGS: 'devops,sre,logmonitoring',
    COLLECT_MAX_WAIT: '5s',
    COLLECT_RETRIES: '3',
    ...env,
  }).collector
}

/**
 * The real collector with the real twitter-api-v2 client (unless another source is given), its log
 * and metrics captured; its date is the machine's unless `clock` pins it.
 */
export function collectorHarness(
  db: Database,
  config: CollectorConfig,
  source: SearchSource = createXApiSource(config),
  clock?: Clock,
) {
  const log = new CapturedLog()
  const registry = new Registry()
  const pages: string[] = []
  const collector = createCollector({
    db,
    config,
    logger: createLogger({ destination: log, level: 'debug' }),
    metrics: createCollectorMetrics(registry),
    source,
    onPage: (p) => pages.push(`${p.tag}:${p.page}`),
    random: () => 0.5,
    ...(clock === undefined ? {} : { clock }),
  })
  return { collector, log, registry, pages }
}

/**
 * `count` #devops tweets by `user`, one a page, the first `slow` pages answered `delayMs` late: a run
 * that is under way for a known time.
 */
export function addSlowPages(fake: FakeXApi, user: FakeUser, count: number, slow: { pages: number; delayMs: number }) {
  fake.pageSize = 1
  fake.addTweets(
    user,
    Array.from({ length: count }, (_, i) => ({ text: `t${i} #devops`, tags: ['devops'], minutesAgo: count - i })),
  )
  for (let i = 0; i < slow.pages; i++) fake.faults.push({ delayMs: slow.delayMs, transform: (page) => page })
}

/** Every row of every counts table, in key order: to compare the kept counts with counts rebuilt from the rows. */
export async function countsTable(admin: mysql.Connection): Promise<unknown[]> {
  const statements = [
    'SELECT hashtag, lang, quarter, tweets, first_seen FROM hashtag_counts ORDER BY 1, 2, 3',
    'SELECT hashtag, lang, kind, quarter, tweets FROM tweet_counts WHERE tweets > 0 ORDER BY 1, 2, 3, 4',
    'SELECT hashtag, hour, related, tweets FROM related_counts WHERE tweets > 0 ORDER BY 1, 2, 3',
  ]
  const tables = await Promise.all(statements.map(async (sql) => (await admin.query(sql))[0] as unknown[]))
  return tables
}

export interface CollectorWorld {
  database: TestDatabase
  fake: FakeXApi
}

/** For each test of a file: a throwaway database and a fake X API, made before it and removed after. */
export function useCollectorWorld(): CollectorWorld {
  const world = {} as CollectorWorld
  beforeEach(async () => {
    world.database = await createTestDatabase()
    world.fake = await new FakeXApi().start()
  })
  afterEach(async () => {
    world.fake.stop()
    await world.database.drop()
  })
  return world
}
