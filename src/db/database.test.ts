import { afterAll, describe, expect, test } from 'bun:test'
import { createServer, type Server } from 'node:net'
import { type RunningApp, startApp } from '../../test/support/app'
import { loadConfig } from '../config'
import { createDatabase } from './database'
import { DatabaseUnavailableError } from './errors'

const servers: Server[] = []
const apps: RunningApp[] = []

afterAll(async () => {
  for (const app of apps) await app.stop()
  for (const server of servers) server.close()
})

/** A port where nothing listens: connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A listener that accepts connections and never says a word: a database that hangs. */
async function silentPort(): Promise<number> {
  const server = createServer(() => {}).listen(0, '127.0.0.1')
  servers.push(server)
  await new Promise((resolve) => server.once('listening', resolve))
  return (server.address() as { port: number }).port
}

const base = loadConfig({}).mysql

describe('when the database is down', () => {
  test.each([
    ['refuses connections', closedPort],
    ['accepts and never answers', silentPort],
  ])('and it %s, then every endpoint answers 503 problem+json within 2 s and ready says not ready', async (_, port) => {
    const db = createDatabase({ ...base, port: await port(), database: 'unreachable' })
    const app = startApp(db)
    apps.push(app)
    const paths = [
      '/api/v1/resources/tweets/all',
      '/api/v1/resources/tweets?hash=devops',
      '/api/v1/resources/tweets/by_hour',
      '/api/v1/resources/tweets/by_lang',
      '/api/v1/resources/users/all',
      '/api/v1/resources/users/top5',
      '/api/v1/resources/hashtags/all',
    ]
    const started = performance.now()
    const answers = await Promise.all(
      paths.map(async (path) => {
        const response = await fetch(app.url + path)
        return {
          path,
          status: response.status,
          type: response.headers.get('content-type'),
          retry: response.headers.get('retry-after'),
          body: await response.text(),
        }
      }),
    )
    const elapsed = performance.now() - started
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, type: 'application/problem+json', retry: '1' })
      expect(JSON.parse(answer.body).detail).toStartWith('the database is unavailable')
    }
    expect(elapsed).toBeLessThan(2_000)
    const ready = await fetch(`${app.url}/health/ready`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { database: 'down' } })
    expect((await fetch(`${app.url}/health/live`)).status).toBe(200)
  })
})

describe('pool', () => {
  test('when many requests wait for few connections, then they queue and all succeed', async () => {
    const db = createDatabase({ ...base, database: 'information_schema', poolSize: 2 })
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => db.rows<any>('SELECT ? + 0 AS n', [i])))
      expect(results.map((rows) => Number(rows[0].n))).toEqual(Array.from({ length: 40 }, (_, i) => i))
      expect(db.stats()).toEqual({ inUse: 0, idle: 2, queued: 0 })
    } finally {
      await db.close()
    }
  })

  test('when more requests wait than the pool queue holds, then the surplus is refused as unavailable at once', async () => {
    const db = createDatabase({ ...base, database: 'information_schema', poolSize: 1, queryTimeoutMs: 5_000 })
    try {
      // One runs, 50 queue (50 per pooled connection), the other 9 are turned away.
      const outcomes = await Promise.all(
        Array.from({ length: 60 }, () =>
          db.rows('SELECT SLEEP(0.01) AS s').then(
            () => 'ok',
            (error: unknown) => (error instanceof DatabaseUnavailableError ? 'unavailable' : error),
          ),
        ),
      )
      expect(outcomes.filter((o) => o === 'ok').length).toBe(51)
      expect(outcomes.filter((o) => o === 'unavailable').length).toBe(9)
    } finally {
      await db.close()
    }
  })

  test('when a statement outlives the query timeout, then it fails as unavailable and the pool recovers', async () => {
    const db = createDatabase({ ...base, database: 'information_schema', poolSize: 1, queryTimeoutMs: 300 })
    try {
      const started = performance.now()
      const error = await db.rows('SELECT SLEEP(5)').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DatabaseUnavailableError)
      expect(performance.now() - started).toBeLessThan(1_000)
      expect(Number((await db.rows<any>('SELECT 1 AS one'))[0].one)).toBe(1)
    } finally {
      await db.close()
    }
  })

  test('when a statement outlives the statement timeout, then the server stops it and the connection stays in the pool', async () => {
    const db = createDatabase(
      { ...base, database: 'information_schema', poolSize: 1, queryTimeoutMs: 5_000 },
      { statementTimeoutMs: 300 },
    )
    try {
      // Billions of rows, so only the server's own limit can stop it before the client's 5 s deadline.
      const heavy =
        'SELECT COUNT(*) AS slow FROM information_schema.COLLATIONS a, information_schema.COLLATIONS b, information_schema.COLLATIONS c, information_schema.COLLATIONS d'
      const started = performance.now()
      const error = await db.rows(heavy).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DatabaseUnavailableError)
      expect(((error as Error).cause as { errno?: number }).errno).toBe(1969)
      expect(performance.now() - started).toBeLessThan(2_000)
      const running = await db.rows<any>(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT COUNT(*) AS slow%'",
      )
      expect(Number(running[0].n)).toBe(0)
      // The connection was not thrown away: the one pooled connection answers at once.
      expect(db.stats()).toEqual({ inUse: 0, idle: 1, queued: 0 })
    } finally {
      await db.close()
    }
  })
})
