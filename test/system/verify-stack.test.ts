import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { freePort, mysqlUrl, type RunningService, startService } from '../../scripts/lib/service-process'
import { parseEnvFile, publishedUrl, settings } from '../../scripts/verify-stack'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { type RunningPrometheus, startPrometheus, until } from '../support/prometheus'
import { alertRules } from '../support/provisioning'
import { type StackApis, type StackFault, startStackApis } from '../support/stack-apis'

/**
 * scripts/verify-stack.sh against the real service (on a throwaway database filled from the
 * sample), a real Prometheus scraping it with the project's rules, and stand-ins for Grafana,
 * Logstash, Elasticsearch and Kibana: it passes when all is well, and fails naming the check,
 * and only that check, for each way a part can be broken, within its time bound.
 */

const ROOT = join(import.meta.dir, '..', '..')
const CHECKS = [
  'api-ready',
  'api-data',
  'prometheus-target',
  'prometheus-rules',
  'grafana-datasource',
  'grafana-dashboard',
  'logstash-pipeline',
  'logstash-events',
  'elasticsearch-index',
  'elasticsearch-mapping',
  'kibana-data-view',
  'kibana-saved-objects',
]

let database: TestDatabase
let emptyDatabase: TestDatabase
let service: RunningService
let emptyService: RunningService
let prometheus: RunningPrometheus
let apis: StackApis
const dir = mkdtempSync(join(tmpdir(), 'verify-stack-'))
const envFile = join(dir, '.env')
const grafanaPassword = randomBytes(8).toString('hex')

beforeAll(async () => {
  ;[database, emptyDatabase] = await Promise.all([createTestDatabase(), createTestDatabase()])
  ;[service, emptyService] = await Promise.all([
    startService({ MYSQL_URL: mysqlUrl(database.config), COLLECT_SOURCE: 'sample', LOG_LEVEL: 'warn' }, 30_000),
    startService({ MYSQL_URL: mysqlUrl(emptyDatabase.config), COLLECT_SOURCE: 'off', LOG_LEVEL: 'warn' }, 30_000),
  ])
  prometheus = await startPrometheus(new URL(service.url).host)
  apis = await startStackApis({ prometheusUrl: prometheus.url, grafanaUser: 'stack-admin', grafanaPassword })
  // Credentials the way scripts/start.sh leaves them in .env (quoted here, as a user may write them).
  writeFileSync(envFile, `# written by the test\nGRAFANA_ADMIN_USER=stack-admin\nGRAFANA_ADMIN_PASSWORD="${grafanaPassword}"\n`)

  const rules = alertRules().length
  await until(
    async () => {
      const targets = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as any
      const groups = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as any
      const healthy = groups.data.groups.flatMap((g: any) => g.rules).filter((r: any) => r.health === 'ok')
      return targets.data.activeTargets.some((t: any) => t.health === 'up') && healthy.length === rules
    },
    20_000,
    'the target to be up and every rule evaluated',
  )
}, 90_000)

afterEach(() => apis?.faults.clear())

afterAll(async () => {
  apis?.stop()
  await prometheus?.stop()
  await Promise.all([service?.stop(), emptyService?.stop()])
  await Promise.all([database?.drop(), emptyDatabase?.drop()])
  rmSync(dir, { recursive: true, force: true })
})

interface Line {
  ok: boolean
  detail: string
}

/**
 * Runs the script with the stack's URLs (and `env` over them). Spawned, never spawnSync: the
 * stand-ins answer from this process's event loop.
 */
async function verify(env: Record<string, string> = {}, urls = true) {
  const started = performance.now()
  const child = Bun.spawn(['bash', join(ROOT, 'scripts', 'verify-stack.sh')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      VERIFY_ENV_FILE: envFile,
      // The faults below never settle: a short settle keeps each such run to seconds.
      VERIFY_SETTLE: '2',
      ...(urls
        ? {
            API_URL: service.url,
            PROMETHEUS_URL: prometheus.url,
            GRAFANA_URL: apis.grafana,
            LOGSTASH_API_URL: apis.logstash,
            ELASTICSEARCH_URL: apis.elasticsearch,
            KIBANA_URL: apis.kibana,
          }
        : {}),
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  const lines = new Map<string, Line>()
  for (const line of out.split('\n')) {
    const match = /^(ok|FAILED)\s+(\S+)\s+(.*)$/.exec(line)
    if (match) lines.set(match[2]!, { ok: match[1] === 'ok', detail: match[3]! })
  }
  return { code, out, err, lines, ms: performance.now() - started }
}

/** Exactly `failed` failed, each saying `why`, every other check passed, and stderr names them. */
function expectFailed(result: Awaited<ReturnType<typeof verify>>, failed: string[], why: string | RegExp) {
  expect({ code: result.code, checks: [...result.lines.keys()] }).toEqual({ code: 1, checks: CHECKS })
  for (const [name, line] of result.lines) {
    if (failed.includes(name)) {
      expect({ name, ok: line.ok }).toEqual({ name, ok: false })
      expect(line.detail).toMatch(why)
    } else expect({ name, ok: line.ok, detail: line.detail }).toMatchObject({ name, ok: true })
  }
  expect(result.err).toContain(`checks FAILED: ${failed.join(', ')}`)
}

describe('scripts/verify-stack.sh', () => {
  test('when every part of the stack is healthy, every check passes and it exits 0', async () => {
    const result = await verify()
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' })
    expect([...result.lines.entries()].filter(([, line]) => !line.ok)).toEqual([])
    expect([...result.lines.keys()]).toEqual(CHECKS)
    expect(result.out).toContain(`verify-stack: all ${CHECKS.length} checks passed`)
    expect(result.lines.get('prometheus-rules')!.detail).toContain(`${alertRules().length} rules`)
    // It asked each stand-in what the provisioning files say should be there, with the credentials of .env.
    expect(apis.requests).toEqual(
      expect.arrayContaining([
        'grafana GET /api/datasources/uid/prometheus/health',
        'grafana GET /api/dashboards/uid/twitter-hashtags-api',
        'logstash GET /_node/pipelines',
        'logstash GET /_node/stats/pipelines',
        `elasticsearch POST /twitter-hashtags-${new Date().toISOString().slice(0, 10).replaceAll('-', '.')}/_search`,
        'kibana GET /api/data_views',
        'kibana POST /api/saved_objects/_bulk_get',
      ]),
    )
  })

  const faults: [StackFault, string[], string | RegExp][] = [
    ['datasource-unhealthy', ['grafana-datasource'], /datasource "prometheus" is not healthy \(HTTP 400, status ERROR\): Post/],
    ['dashboard-missing', ['grafana-dashboard'], 'dashboard "twitter-hashtags-api" is not in Grafana (HTTP 404)'],
    ['pipeline-absent', ['logstash-pipeline', 'logstash-events'], /pipeline "twitter-hashtags" (is not running|has no stats)/],
    ['no-events', ['logstash-events'], 'no events through pipeline "twitter-hashtags" (in 0, out 0)'],
    [
      'index-missing',
      ['elasticsearch-index', 'elasticsearch-mapping'],
      /today's index twitter-hashtags-\d{4}\.\d\d\.\d\d does not exist/,
    ],
    ['field-wrong-type', ['elasticsearch-mapping'], 'client.ip is keyword, the template says ip'],
    // A data view is a saved object too: both checks miss it.
    [
      'data-view-missing',
      ['kibana-data-view', 'kibana-saved-objects'],
      /"twitter-hashtags-logs" is missing|index-pattern\/twitter-hashtags-logs/,
    ],
    ['saved-object-missing', ['kibana-saved-objects'], 'missing: dashboard/twitter-hashtags-dashboard'],
  ]
  for (const [fault, failed, why] of faults) {
    test(`when ${fault.replaceAll('-', ' ')}, it fails naming ${failed.join(' and ')}`, async () => {
      apis.faults.add(fault)
      expectFailed(await verify(), failed, why)
    })
  }

  test('when the log lines reach Logstash and the index only after a while (a first start), the pipeline checks ask again until they arrive', async () => {
    apis.faults.add('lines-late')
    const result = await verify({ VERIFY_SETTLE: '10' })
    expect({ code: result.code, failed: [...result.lines].filter(([, line]) => !line.ok).map(([name]) => name) }).toEqual({
      code: 0,
      failed: [],
    })
    // Asked four times: three answers found nothing yet.
    expect(result.ms).toBeGreaterThan(2_500)
  }, 30_000)

  test('when the log lines never arrive, the check fails after VERIFY_SETTLE, saying how often it asked', async () => {
    apis.faults.add('no-events')
    const result = await verify({ VERIFY_SETTLE: '2' })
    expectFailed(
      result,
      ['logstash-events'],
      /no events through pipeline "twitter-hashtags" \(in 0, out 0\).*\(still so after \d+ tries over \d+ s\)/,
    )
  }, 30_000)

  test('when Prometheus reports a rule unhealthy, it fails naming prometheus-rules and the rule', async () => {
    apis.faults.add('rule-unhealthy')
    const result = await verify({ PROMETHEUS_URL: apis.prometheus })
    expectFailed(result, ['prometheus-rules'], `rule ${alertRules()[0]!.alert} has health err: found duplicate series`)
  })

  test('when the API serves no tweets, it fails naming api-data', async () => {
    expectFailed(await verify({ API_URL: emptyService.url }), ['api-data'], 'no tweets stored (data is empty)')
  })

  test('the environment overrides .env: a wrong Grafana password fails both Grafana checks, saying why', async () => {
    const result = await verify({ GRAFANA_ADMIN_PASSWORD: 'not-the-one' })
    expectFailed(result, ['grafana-datasource', 'grafana-dashboard'], 'Grafana refused user "stack-admin" (HTTP 401)')
  })

  test('when a service accepts connections and never answers, its checks fail after the request timeout', async () => {
    const result = await verify({ GRAFANA_URL: apis.hung, KIBANA_URL: apis.hung, VERIFY_REQUEST_TIMEOUT: '1' })
    expectFailed(
      result,
      ['grafana-datasource', 'grafana-dashboard', 'kibana-data-view', 'kibana-saved-objects'],
      /: no answer within 1 s$/,
    )
    expect(result.ms).toBeLessThan(5_000)
  })

  test('the whole run is bounded: with every service hung and long request timeouts it stops at VERIFY_TIMEOUT', async () => {
    const hung = Object.fromEntries(
      ['API_URL', 'PROMETHEUS_URL', 'GRAFANA_URL', 'LOGSTASH_API_URL', 'ELASTICSEARCH_URL', 'KIBANA_URL'].map((n) => [
        n,
        apis.hung,
      ]),
    )
    const result = await verify({ ...hung, VERIFY_REQUEST_TIMEOUT: '30', VERIFY_TIMEOUT: '2' })
    expect(result.code).toBe(1)
    expect([...result.lines.values()].every((line) => !line.ok && /time bound ran out|bound of 2 s/.test(line.detail))).toBe(true)
    expect(result.ms).toBeGreaterThan(1_900)
    expect(result.ms).toBeLessThan(6_000)
  })

  test('without URLs in the environment, it takes the host ports from docker-compose.yml with the values of .env', async () => {
    const closed = await freePort()
    const file = join(dir, 'ports.env')
    writeFileSync(file, `API_PORT=${closed}\nGRAFANA_ADMIN_PASSWORD=x\n`)
    const result = await verify({ VERIFY_ENV_FILE: file, VERIFY_REQUEST_TIMEOUT: '1', VERIFY_TIMEOUT: '5' }, false)
    expect(result.code).toBe(1)
    expect(result.lines.get('api-ready')!.detail).toStartWith(`GET http://127.0.0.1:${closed}/health/ready: connection refused`)
    const logstashPorts = (parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')).services.logstash.ports ?? []).map(
      String,
    )
    if (!logstashPorts.some((p: string) => p.endsWith(':9600')))
      expect(result.lines.get('logstash-pipeline')!.detail).toContain('docker-compose.yml publishes no host port for Logstash')
  })

  test('compose port forms: a fixed port, a range (its first port), a variable with a default filled from the environment', () => {
    const config = settings({ API_PORT: '5100' }, join(dir, 'absent.env'))
    const compose = {
      services: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own interpolation, as docker-compose.yml writes it
        app: { ports: ['127.0.0.1:${API_PORT:-5000}-${API_PORT_LAST:-5009}:5000'] },
        kibana: { ports: ['127.0.0.1:5601:5601'] },
        grafana: { ports: ['3000:3000'] },
      },
    }
    expect(publishedUrl(compose, 'app', 5000, config)).toBe('http://127.0.0.1:5100')
    expect(publishedUrl(compose, 'kibana', 5601, config)).toBe('http://127.0.0.1:5601')
    expect(publishedUrl(compose, 'grafana', 3000, config)).toBe('http://127.0.0.1:3000')
    expect(publishedUrl(compose, 'logstash', 9600, config)).toBeUndefined()
    expect(publishedUrl(compose, 'app', 5000, settings({}, join(dir, 'absent.env')))).toBe('http://127.0.0.1:5000')
    expect([...parseEnvFile('A=1\n# B=2\nC=\'x y\'\nD="z" \nE=v # note\n')]).toEqual([
      ['A', '1'],
      ['C', 'x y'],
      ['D', 'z'],
      ['E', 'v'],
    ])
  })

  test('ShellCheck finds nothing in scripts/verify-stack.sh', () => {
    if (Bun.which('shellcheck') === null) throw new Error('shellcheck is not installed: apt-get install shellcheck')
    const run = Bun.spawnSync(['shellcheck', 'scripts/verify-stack.sh'], { cwd: ROOT })
    expect({ code: run.exitCode, output: run.stdout.toString() }).toEqual({ code: 0, output: '' })
  })

  // Last: it stops the service.
  test('when the service is down, Prometheus reports its target down and the check fails naming prometheus-target', async () => {
    await service.stop()
    await until(
      async () => {
        const targets = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as any
        return targets.data.activeTargets.every((t: any) => t.health === 'down')
      },
      10_000,
      'Prometheus to see the target down',
    )
    const result = await verify({ VERIFY_REQUEST_TIMEOUT: '2' })
    expectFailed(result, ['api-ready', 'api-data', 'prometheus-target'], /connection refused|twitter-hashtags target .* is down/)
    expect(result.lines.get('prometheus-target')!.detail).toMatch(/^twitter-hashtags target 127\.0\.0\.1:\d+ is down: /)
  })
})
