import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pkg from '../../package.json'
import { freePort, spawnBun, waitReady } from '../../scripts/lib/service-process'
import { loadConfig } from '../../src/config'
import { createDatabase } from '../../src/db/database'
import { startApp } from '../support/app'
import { customFields, ecsProblems, leaves } from '../support/ecs'
import { FakeXApi } from '../support/fake-x-api'
import { jsonLines } from '../support/json-lines'
import { mappedFields } from '../support/provisioning'

/**
 * The real process logs to stdout and to a TCP listener standing in for Logstash, with secrets
 * configured (a MySQL password, an X API token) and sent by a client (an Authorization header).
 * Every line of both is checked against the ECS definitions and grepped for the secrets.
 */

const base = loadConfig({}).mysql
const suffix = randomBytes(4).toString('hex')
const database = `th_test_logs_${suffix}`
const user = `th_log_${suffix}`
const password = `Pw-${randomBytes(8).toString('hex')}-Secret`
const clientSecret = `client-secret-${randomBytes(8).toString('hex')}`
let admin: mysql.Connection
let fake: FakeXApi
let stdout: Record<string, any>[] = []
let shipped: Record<string, any>[] = []
let rawOutput = ''
const sent: { id: string; path: string; status: number; method: string }[] = []

beforeAll(async () => {
  admin = await mysql.createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
  await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password])
  await admin.query(`CREATE USER ?@'localhost' IDENTIFIED BY ?`, [user, password])
  for (const host of ['%', 'localhost']) await admin.query(`GRANT ALL ON ${admin.escapeId(database)}.* TO ?@?`, [user, host])
  // Real bearer tokens hold %2F and %3D; the API's error body below echoes it raw, encoded and decoded.
  fake = await new FakeXApi(`logs-token%2F${randomBytes(8).toString('hex')}%3D`).start()
  fake.addTweets({ id: '1999999999999999999', username: 'alice', name: 'Alice', followers_count: 3 }, [
    { text: 'hello #devops', tags: ['devops'], minutesAgo: 5 },
  ])
  // One retry with an error object, and a page with the partial-error array: warn lines with error.* fields.
  fake.faults.push({
    tag: 'devops',
    status: 503,
    body: {
      title: 'Service Unavailable',
      detail: `refused ${decodeURIComponent(fake.token)}, ${fake.token}`,
      token: encodeURIComponent(fake.token),
    },
  })
  fake.faults.push({
    tag: 'sre',
    transform: (p) => ({ ...p, errors: [{ title: 'Not Found Error', detail: 'gone', resource_type: 'user' }] }),
  })

  const logstashPort = await freePort()
  const received: string[] = []
  const listener = net.createServer((socket) => {
    let rest = ''
    socket.on('data', (data) => {
      const parts = (rest + data.toString('utf8')).split('\n')
      rest = parts.pop()!
      received.push(...parts)
    })
  })
  await new Promise<void>((resolve) => listener.listen(logstashPort, '127.0.0.1', resolve))

  const port = await freePort()
  const child = spawnBun('index.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    MYSQL_URL: `mysql://${user}:${encodeURIComponent(password)}@${base.host}:${base.port}/${database}`,
    TWITTER_BEARER_TOKEN: fake.token,
    TWITTER_API_BASE_URL: fake.baseUrl,
    TWITTER_API_CA_FILE: fake.caFile,
    HASHTAGS: 'devops,sre',
    COLLECT_RETRIES: '2',
    LOGSTASH_HOST: '127.0.0.1',
    LOGSTASH_PORT: String(logstashPort),
    SERVICE_ENVIRONMENT: 'test-env',
    LOG_LEVEL: 'debug',
  })
  const url = `http://127.0.0.1:${port}`
  await waitReady(url)
  const requests: [string, string, Record<string, string>][] = [
    ['GET', '/api/v1/resources/tweets/all?limit=5', { 'x-request-id': 'caller-chosen-id-1' }],
    [
      'GET',
      '/api/v1/resources/tweets?hash=%23DevOps&lang=en',
      { authorization: `Bearer ${clientSecret}`, 'user-agent': 'log-test/1.0' },
    ],
    ['GET', '/api/v1/resources/tweets/all?limit=abc', {}],
    ['GET', '/no/such/path', { 'x-request-id': 'bad id with spaces' }],
    ['POST', '/api/v1/resources/users/top5', {}],
    ['GET', '/metrics', {}],
  ]
  for (const [method, path, headers] of requests) {
    const response = await fetch(url + path, { method, headers })
    await response.arrayBuffer()
    sent.push({ id: response.headers.get('x-request-id')!, path: path.split('?')[0]!, status: response.status, method })
  }
  child.kill('SIGTERM')
  await child.exited
  rawOutput = await new Response(child.stdout).text()
  stdout = jsonLines(rawOutput)
  shipped = received.map((line) => JSON.parse(line))
  listener.close()
})

afterAll(async () => {
  fake?.stop()
  for (const host of ['%', 'localhost']) await admin.query('DROP USER IF EXISTS ?@?', [user, host])
  await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(database)}`)
  await admin.end()
})

describe('log lines', () => {
  test('every stdout line was also shipped to the Logstash listener', () => {
    expect(stdout.length).toBeGreaterThan(15)
    expect(shipped).toEqual(stdout)
  })

  test('every field of every line is an ECS field of its ECS type, or under twitter.*', () => {
    const problems = stdout.flatMap((line) => ecsProblems(line).map((p) => `${line.message}: ${p}`))
    expect(problems).toEqual([])
  })

  test('every field of every line is mapped by the Logstash index template, or sits under a mapped object', () => {
    const mapped = mappedFields()
    const fields = new Set(stdout.flatMap((line) => leaves(line).map(([path]) => path)))
    for (const field of fields) {
      const covered =
        field in mapped ||
        Object.keys(mapped).some((m) => field.startsWith(`${m}.`) && ['flattened', 'object'].includes(mapped[m]!))
      expect({ field, covered }).toEqual({ field, covered: true })
    }
  })

  test('every line names the service, its version and environment', () => {
    for (const line of stdout) {
      expect({ name: line['service.name'], version: line['service.version'], environment: line['service.environment'] }).toEqual({
        name: 'twitter-hashtags',
        version: pkg.version,
        environment: 'test-env',
      })
    }
  })

  test('every custom field is documented in the manual (docs/observability.md)', () => {
    const readme = readFileSync(join(import.meta.dir, '..', '..', 'docs', 'observability.md'), 'utf8')
    const custom = new Set(stdout.flatMap(customFields))
    expect(custom.size).toBeGreaterThan(5)
    for (const field of custom)
      expect({ field, documented: readme.includes(`\`${field}\``) }).toEqual({ field, documented: true })
  })

  test('no secret appears anywhere: not the MySQL password, not the bearer token (raw, encoded or decoded), not a client Authorization header', () => {
    const all = rawOutput + JSON.stringify(shipped)
    const forms = [password, fake.token].flatMap((secret) => [secret, encodeURIComponent(secret), decodeURIComponent(secret)])
    for (const secret of [...forms, clientSecret])
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false })
    const retry = stdout.find((line) => line.event?.action === 'collector-retry')!
    expect(retry.message).toContain('refused [REDACTED], [REDACTED]')
  })
})

describe('access log', () => {
  const accessLines = () => stdout.filter((line) => line.event?.action === 'http-request')

  test('one line per request, with the request id returned to the caller', () => {
    for (const request of sent) {
      const lines = accessLines().filter((line) => line.http.request.id === request.id)
      expect({ request, lines: lines.length }).toEqual({ request, lines: 1 })
      expect(lines[0]).toMatchObject({
        http: { request: { method: request.method }, response: { status_code: request.status } },
        url: { path: request.path },
      })
    }
  })

  test("a caller's sane X-Request-Id is echoed; an absent or unsafe one is replaced by a UUID", () => {
    expect(sent[0]!.id).toBe('caller-chosen-id-1')
    expect(sent[3]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(sent[1]!.id).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('lines carry route template, query, status, duration, client address and user agent', () => {
    const line = accessLines().find((l) => l.http.request.id === sent[1]!.id)!
    expect(line).toMatchObject({
      'log.level': 'info',
      event: { action: 'http-request', outcome: 'success' },
      url: { path: '/api/v1/resources/tweets', query: 'hash=%23DevOps&lang=en' },
      client: { ip: '127.0.0.1' },
      user_agent: { original: 'log-test/1.0' },
      twitter: { route: '/api/v1/resources/tweets' },
    })
    expect(line.event.duration).toBeGreaterThan(0)
    const unknown = accessLines().find((l) => l.http.request.id === sent[3]!.id)!
    expect(unknown.twitter.route).toBe('/*')
    expect(unknown.event.outcome).toBe('failure')
  })

  test('start-up, collector and shutdown events are logged, warnings with their error fields', () => {
    const actions = new Set(stdout.map((line) => line.event?.action))
    for (const action of [
      'service-starting',
      'collection-started',
      'collector-page',
      'collector-retry',
      'collector-partial-errors',
      'collection-finished',
      'service-started',
      'service-stopping',
      'service-stopped',
    ]) {
      expect(actions).toContain(action)
    }
    const retry = stdout.find((line) => line.event?.action === 'collector-retry')!
    expect(retry.twitter).toMatchObject({ hashtag: 'devops', attempt: 1 })
  })
})

describe('error lines', () => {
  test('when the database is down, then the 503 is logged at error level and its cause with error.type, message and stack trace', async () => {
    const db = createDatabase({ ...base, port: await freePort(), database: 'unreachable' })
    const app = startApp(db)
    try {
      await fetch(`${app.url}/api/v1/resources/users/top5`)
      await Bun.sleep(50)
      const cause = app.log.lines.find((line: any) => line['log.level'] === 'warn' && line.error) as any
      expect(cause.error).toMatchObject({ type: 'Error' })
      expect(cause.error.message).toBeString()
      expect(cause.error.stack_trace).toContain('at ')
      const access = app.log.lines.find((line: any) => line.event?.action === 'http-request') as any
      expect(access['log.level']).toBe('error')
      expect(access.http.response.status_code).toBe(503)
      for (const line of app.log.lines) expect(ecsProblems(line)).toEqual([])
    } finally {
      await app.stop()
      await db.close()
    }
  })
})
