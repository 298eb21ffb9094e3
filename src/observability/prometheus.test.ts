import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { freePort } from '../../scripts/lib/service-process'
import { CapturedLog, type RunningApp, startApp } from '../../test/support/app'
import { loadCoreData } from '../../test/support/core-data'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { FakeXApi } from '../../test/support/fake-x-api'
import { alertRules, dashboardQueries, PROMETHEUS_YML, RULES } from '../../test/support/provisioning'
import { createCollector } from '../collector'
import { loadConfig } from '../config'
import { createLogger } from './logger'
import { createCollectorMetrics } from './metrics'

/**
 * The project's Prometheus configuration, alert rules and Grafana dashboard against a real
 * Prometheus (Debian's package) scraping the real app: the target is up, every expression
 * evaluates, and every dashboard query returns series once traffic has flowed.
 */

/** Grafana's variables, as Grafana would fill them in for a short time range. */
const grafanaVariables = (expr: string) =>
  expr.replaceAll('$__rate_interval', '15s').replaceAll('$__interval', '1s').replaceAll('$__range', '1m')

function requireTool(name: string): string {
  const path = Bun.which(name)
  // Not a skip: CI installs Prometheus (Debian package "prometheus"); without it this proof is missing.
  if (path === null) throw new Error(`${name} is not installed: apt-get install prometheus`)
  return path
}

let database: TestDatabase
let app: RunningApp
let fake: FakeXApi
let prometheus: ReturnType<typeof Bun.spawn>
let prometheusUrl: string
const dir = mkdtempSync(join(tmpdir(), 'prometheus-test-'))

async function query(expr: string) {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)
  return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } }
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(250)
  }
}

beforeAll(async () => {
  const binary = requireTool('prometheus')
  database = await createTestDatabase()
  await loadCoreData(database)
  app = startApp(database.db)

  // A collection through the real client fills the collector's metrics, rate limit included.
  fake = await new FakeXApi().start()
  fake.addTweets({ id: '42', username: 'p', name: 'P', followers_count: 1 }, [
    { text: 'x #devops', tags: ['devops'], minutesAgo: 1 },
  ])
  const collectorConfig = {
    ...loadConfig({
      TWITTER_BEARER_TOKEN: fake.token,
      TWITTER_API_BASE_URL: fake.baseUrl,
      TWITTER_API_CA_FILE: fake.caFile,
      HASHTAGS: 'devops,sre',
    }).collector,
    intervalMs: 60_000,
  }
  const summary = await createCollector({
    db: database.writer,
    config: collectorConfig,
    logger: createLogger({ destination: new CapturedLog() }),
    metrics: createCollectorMetrics(app.registry),
  }).run()
  expect(summary.outcome).toBe('success')

  const config = parse(readFileSync(PROMETHEUS_YML, 'utf8'))
  config.global.scrape_interval = '1s'
  config.global.evaluation_interval = '1s'
  config.rule_files = [RULES]
  const job = config.scrape_configs[0]
  delete job.dns_sd_configs
  job.static_configs = [{ targets: [new URL(app.url).host] }]
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config))

  const port = await freePort()
  prometheusUrl = `http://127.0.0.1:${port}`
  prometheus = Bun.spawn(
    [
      binary,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  )
  await until(
    async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => null))?.status === 200,
    20_000,
    'Prometheus to be ready',
  )

  // Traffic over a few scrapes: successes, client errors, unknown paths.
  const paths = [
    '/api/v1/resources/tweets/all',
    '/api/v1/resources/tweets?hash=devops',
    '/api/v1/resources/tweets/by_hour',
    '/api/v1/resources/tweets/by_lang',
    '/api/v1/resources/users/all',
    '/api/v1/resources/users/top5',
    '/api/v1/resources/hashtags/all',
    '/api/v1/resources/tweets/all?limit=0',
    `/nope/${Math.random()}`,
  ]
  for (let round = 0; round < 6; round++) {
    await Promise.all(paths.map((path) => fetch(app.url + path).then((r) => r.arrayBuffer())))
    await Bun.sleep(700)
  }
  await until(
    async () => ((await query('sum(increase(http_requests_total[15s]))')).data?.result.length ?? 0) > 0,
    15_000,
    'traffic to be scraped',
  )
}, 90_000)

afterAll(async () => {
  prometheus?.kill()
  await prometheus?.exited
  fake?.stop()
  await app?.stop()
  await database?.drop()
  rmSync(dir, { recursive: true, force: true })
})

describe('Prometheus', () => {
  test('promtool accepts the configuration and the alert rules', () => {
    const promtool = requireTool('promtool')
    const config = Bun.spawnSync([promtool, 'check', 'config', '--syntax-only', PROMETHEUS_YML])
    expect({ code: config.exitCode, out: config.stderr.toString() }).toMatchObject({ code: 0 })
    const rewritten = Bun.spawnSync([promtool, 'check', 'config', join(dir, 'prometheus.yml')])
    expect({ code: rewritten.exitCode, out: rewritten.stderr.toString() }).toMatchObject({ code: 0 })
    const rules = Bun.spawnSync([promtool, 'check', 'rules', RULES])
    expect({ code: rules.exitCode, out: rules.stdout.toString() + rules.stderr.toString() }).toMatchObject({ code: 0 })
  })

  test('the app is scraped: its target is up', async () => {
    const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as any
    expect(targets.data.activeTargets.map((t: any) => [t.labels.job, t.health])).toEqual([['twitter-hashtags', 'up']])
  })

  test('the alert rules cover what they should, and all evaluate without error', async () => {
    expect(alertRules().map((r) => r.alert)).toEqual([
      'TwitterHashtagsApiDown',
      'TwitterHashtagsHighErrorRatio',
      'TwitterHashtagsHighLatencyP99',
      'TwitterHashtagsCollectorStale',
      'TwitterHashtagsRateLimitNearlyExhausted',
      'TwitterHashtagsLogLinesDropped',
    ])
    for (const { alert, expr } of alertRules()) {
      const result = await query(expr)
      expect({ alert, status: result.status, error: result.error }).toEqual({ alert, status: 'success', error: undefined })
    }
    await until(
      async () => {
        const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as any
        return rules.data.groups[0].rules.every((r: any) => r.health === 'ok')
      },
      10_000,
      'every rule to be evaluated by Prometheus with health ok',
    )
  })

  test('every query of the Grafana dashboard evaluates and returns series', async () => {
    const queries = dashboardQueries()
    expect(queries.length).toBeGreaterThanOrEqual(20)
    for (const { panel, expr } of queries) {
      const result = await query(grafanaVariables(expr))
      expect({ panel, expr, status: result.status, error: result.error }).toEqual({
        panel,
        expr,
        status: 'success',
        error: undefined,
      })
      expect({ panel, expr, series: (result.data?.result.length ?? 0) > 0 }).toEqual({ panel, expr, series: true })
    }
  })

  test('HTTP metrics are labelled by route template: every unknown path shares one label value', async () => {
    const result = (await query('sum by (path) (http_requests_total{job="twitter-hashtags"})')) as any
    const paths = result.data.result.map((r: any) => r.metric.path).sort()
    expect(paths).toContain('/*')
    expect(paths.filter((p: string) => p.startsWith('/nope'))).toEqual([])
  })
})
