import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { freePort, spawnBun, waitReady } from '../../scripts/lib/service-process'
import { loadConfig } from '../../src/config'
import { FakeXApi } from '../support/fake-x-api'
import { jsonLines } from '../support/json-lines'

/** The real process, as `bun run start` runs it. */

const base = loadConfig({}).mysql
const database = `th_test_proc_${randomBytes(4).toString('hex')}`
const databases = [database]
let admin: mysql.Connection

beforeAll(async () => {
  admin = await mysql.createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
})

afterAll(async () => {
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(name)}`)
  await admin.end()
})

describe('the service process', () => {
  test('when started on a server without its database, then it creates it and serves', async () => {
    const port = await freePort()
    const child = spawnBun('index.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      MYSQL_URL: `mysql://${base.user}@${base.host}:${base.port}/${database}`,
      COLLECT_SOURCE: 'off',
      MYSQL_QUERY_TIMEOUT: '20s',
    })
    const url = `http://127.0.0.1:${port}`
    try {
      await waitReady(url)
      expect((await fetch(`${url}/api/v1/resources/hashtags/all`)).status).toBe(200)

      // Hold a request in flight: the table lock makes its query wait.
      await admin.query(`LOCK TABLES ${admin.escapeId(database)}.users WRITE`)
      const inFlight = fetch(`${url}/api/v1/resources/users/top5`)
      await Bun.sleep(300)
      child.kill('SIGTERM')
      await Bun.sleep(300)
      const refused = await fetch(`${url}/health/live`).then(
        () => false,
        () => true,
      )
      await admin.query('UNLOCK TABLES')
      const response = await inFlight
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ data: [] })
      expect(refused).toBe(true)
      expect(await child.exited).toBe(0)
      // The readiness polls of the wait above, answered 503 while starting, are logged too: left out here.
      const lines = jsonLines(await new Response(child.stdout).text()).filter((l) => l.url?.path !== '/health/ready')
      const migrating = lines.filter((l) => l.event?.action === 'schema-migrating')
      // A new database is created in the files' first shape, then migrated: each file that changes it says so.
      expect(migrating.map((l) => l.twitter.schema_file)).toEqual([
        '003_long_posts.sql',
        '003_long_posts.sql',
        '005_kinds.sql',
        '005_kinds.sql',
      ])
      expect(lines.map((l) => l.event?.action)).toEqual([
        'service-starting',
        'service-started',
        ...migrating.map(() => 'schema-migrating'),
        'http-request',
        'service-stopping',
        'http-request',
        'service-stopped',
      ])
      // The request that was in flight at SIGTERM is answered and logged.
      expect(lines.at(-2)!.url.path).toBe('/api/v1/resources/users/top5')
    } finally {
      await admin.query('UNLOCK TABLES').catch(() => {})
      child.kill('SIGKILL')
    }
  })

  test('when the configuration is invalid, then it exits with code 2 and one message naming each bad variable', async () => {
    const child = spawnBun('index.ts', { PORT: '99999', MYSQL_POOL_SIZE: 'many' })
    expect(await child.exited).toBe(2)
    const line = jsonLines(await new Response(child.stdout).text())[0]!
    expect(line['log.level']).toBe('fatal')
    expect(line.message).toContain('PORT must be an integer from 1 to 65535, got "99999"')
    expect(line.message).toContain('MYSQL_POOL_SIZE must be an integer from 1 to 200, got "many"')
  })

  describe('stopping within 10 s whatever is in flight', () => {
    /** The service on a database of its own, ready; its stdout is collected. */
    async function started(extra: Record<string, string> = {}) {
      const name = `th_test_proc_${randomBytes(4).toString('hex')}`
      databases.push(name)
      const port = await freePort()
      const child = spawnBun('index.ts', {
        PORT: String(port),
        HOST: '127.0.0.1',
        MYSQL_URL: `mysql://${base.user}@${base.host}:${base.port}/${name}`,
        COLLECT_SOURCE: 'off',
        MYSQL_QUERY_TIMEOUT: '60s',
        ...extra,
      })
      const stdout = new Response(child.stdout).text()
      const url = `http://127.0.0.1:${port}`
      await waitReady(url)
      return { name, url, child, stdout }
    }

    /** A request held in flight: a table lock makes its query wait (for MYSQL_QUERY_TIMEOUT, 60 s). */
    async function holdRequest(service: { name: string; url: string }) {
      await admin.query(`LOCK TABLES ${admin.escapeId(service.name)}.users WRITE`)
      const inFlight = fetch(`${service.url}/api/v1/resources/users/top5`).catch(() => null)
      await Bun.sleep(300)
      // Wrapped: awaiting the promise itself would wait for the answer.
      return { inFlight }
    }

    test('when a request is stuck in the database, then SIGTERM ends the service within 10 s, exit 1, naming what was pending', async () => {
      const service = await started()
      try {
        await holdRequest(service)
        const signalled = performance.now()
        service.child.kill('SIGTERM')
        const code = await service.child.exited
        expect(performance.now() - signalled).toBeLessThan(10_000)
        expect(code).toBe(1)
        const timeout = jsonLines(await service.stdout).find((l) => l.event?.action === 'service-stop-timeout')!
        expect(timeout['log.level']).toBe('error')
        expect(timeout.message).toContain('in-flight requests')
      } finally {
        await admin.query('UNLOCK TABLES')
        service.child.kill('SIGKILL')
      }
    }, 20_000)

    test('when a second signal arrives while stopping, then the service exits at once', async () => {
      const service = await started()
      try {
        await holdRequest(service)
        service.child.kill('SIGTERM')
        await Bun.sleep(300)
        const signalled = performance.now()
        service.child.kill('SIGINT')
        expect(await service.child.exited).toBe(130)
        expect(performance.now() - signalled).toBeLessThan(1_000)
      } finally {
        await admin.query('UNLOCK TABLES')
        service.child.kill('SIGKILL')
      }
    }, 20_000)

    test('when the collection is stuck on an X API that never answers, then SIGTERM ends the service within 10 s', async () => {
      const fake = await new FakeXApi().start()
      try {
        fake.addTweets({ id: '1999999999999999999', username: 'alice', name: 'Alice', followers_count: 3 }, [
          { text: 'hello #devops', tags: ['devops'], minutesAgo: 5 },
        ])
        fake.faults.push({ tag: 'devops', delayMs: 120_000 })
        const service = await started({
          COLLECT_SOURCE: 'twitter',
          HASHTAGS: 'devops',
          COLLECT_STARTUP_TIMEOUT: '200ms',
          TWITTER_API_TIMEOUT: '120s',
          TWITTER_BEARER_TOKEN: fake.token,
          TWITTER_API_BASE_URL: fake.baseUrl,
          TWITTER_API_CA_FILE: fake.caFile,
        })
        expect(fake.requestsFor('devops')).toHaveLength(1)
        const signalled = performance.now()
        service.child.kill('SIGTERM')
        await service.child.exited
        expect(performance.now() - signalled).toBeLessThan(10_000)
      } finally {
        fake.stop()
      }
    }, 20_000)
  })
})
