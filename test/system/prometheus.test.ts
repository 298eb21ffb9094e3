import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { createCollector } from '../../src/collector'
import { loadConfig } from '../../src/config'
import { createLogger } from '../../src/observability/logger'
import { createCollectorMetrics } from '../../src/observability/metrics'
import { CapturedLog, type RunningApp, startApp } from '../support/app'
import { loadCoreData } from '../support/core-data'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { FakeXApi } from '../support/fake-x-api'
import { type RunningPrometheus, requireTool, startPrometheus, until } from '../support/prometheus'
import { alertRules, dashboardQueries, PROMETHEUS_YML, RULES } from '../support/provisioning'

/**
 * The project's Prometheus configuration, alert rules and Grafana dashboard against a real
 * Prometheus (Debian's package) scraping the real app: the target is up, every expression
 * evaluates, and every dashboard query returns series once traffic has flowed.
 */

/** Grafana's variables, as Grafana would fill them in for a short time range. */
const grafanaVariables = (expr: string) =>
  expr.replaceAll('$__rate_interval', '15s').replaceAll('$__interval', '1s').replaceAll('$__range', '1m')

let database: TestDatabase
let app: RunningApp
let fake: FakeXApi
let prometheus: RunningPrometheus
let prometheusUrl: string
const query = (expr: string) => prometheus.query(expr)

beforeAll(async () => {
  requireTool('prometheus')
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

  prometheus = await startPrometheus(new URL(app.url).host)
  prometheusUrl = prometheus.url

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
  await prometheus?.stop()
  fake?.stop()
  await app?.stop()
  await database?.drop()
})

describe('Prometheus', () => {
  test('promtool accepts the configuration and the alert rules', () => {
    const promtool = requireTool('promtool')
    const config = Bun.spawnSync([promtool, 'check', 'config', '--syntax-only', PROMETHEUS_YML])
    expect({ code: config.exitCode, out: config.stderr.toString() }).toMatchObject({ code: 0 })
    const rewritten = Bun.spawnSync([promtool, 'check', 'config', prometheus.configFile])
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

  test('when the last successful collection is ten minutes old with a one-minute interval, then the stale alert fires saying ten minutes, not the interval', () => {
    const promtool = requireTool('promtool')
    const dir = mkdtempSync(join(tmpdir(), 'rules-test-'))
    const job = '{job="twitter-hashtags"}'
    const unit = {
      rule_files: [RULES],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: `twitter_collector_interval_seconds${job}`, values: '60x20' },
            // Last success at the epoch: at 10m, ten minutes ago.
            { series: `twitter_collector_last_success_timestamp_seconds${job}`, values: '0x20' },
          ],
          alert_rule_test: [
            { eval_time: '2m', alertname: 'TwitterHashtagsCollectorStale', exp_alerts: [] },
            {
              eval_time: '10m',
              alertname: 'TwitterHashtagsCollectorStale',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning' },
                  exp_annotations: {
                    summary: 'No successful collection for two intervals',
                    description: 'The last successful collection ended 10m 0s ago.',
                  },
                },
              ],
            },
          ],
        },
      ],
    }
    try {
      writeFileSync(join(dir, 'unit.yml'), stringify(unit))
      const run = Bun.spawnSync([promtool, 'test', 'rules', join(dir, 'unit.yml')])
      expect({ code: run.exitCode, out: run.stdout.toString() + run.stderr.toString() }).toMatchObject({ code: 0 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
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
