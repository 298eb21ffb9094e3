import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { loadConfig } from './config'
import { freePort, jsonLines, spawnBun, waitReady } from './testing/process'

/** The real process, as `bun run start` runs it. */

const base = loadConfig({}).mysql
const database = `th_test_proc_${randomBytes(4).toString('hex')}`
let admin: mysql.Connection

beforeAll(async () => {
  admin = await mysql.createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
})

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(database)}`)
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
      const lines = jsonLines(await new Response(child.stdout).text())
      expect(lines.map((l) => l.event?.action)).toEqual([
        'service-starting',
        'service-started',
        'http-request',
        'service-stopping',
        'http-request',
        'service-stopped',
      ])
      // The request that was in flight at SIGTERM is answered and logged.
      expect(lines[4]!.url.path).toBe('/api/v1/resources/users/top5')
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
})
