import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningApp, startApp } from '../support/app'
import { loadCoreData } from '../support/core-data'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { ENDPOINTS } from '../support/endpoints'

/** The Postman collection, run by newman (its own CLI, under Node.js) against the service on a database with data in it. */

const ROOT = join(import.meta.dir, '..', '..')
const COLLECTION = join(ROOT, 'postman', 'twitter-hashtags.postman_collection.json')
const NEWMAN = join(ROOT, 'node_modules', 'newman', 'bin', 'newman.js')

let database: TestDatabase
let app: RunningApp
const dir = mkdtempSync(join(tmpdir(), 'newman-'))

beforeAll(async () => {
  database = await createTestDatabase()
  await loadCoreData(database)
  app = startApp(database.db)
})

afterAll(async () => {
  await app?.stop()
  await database?.drop()
  rmSync(dir, { recursive: true, force: true })
})

describe('Postman collection', () => {
  test('it is a v2.1 collection with a baseUrl variable, and every request has tests', () => {
    const collection = JSON.parse(readFileSync(COLLECTION, 'utf8'))
    expect(collection.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json')
    expect(collection.variable.find((v: { key: string }) => v.key === 'baseUrl').value).toBe('http://localhost:5000')
    const paths = collection.item.map((item: any) => `/${item.request.url.path.join('/')}`)
    for (const path of [...ENDPOINTS, '/health/live', '/health/ready', '/metrics']) {
      expect(paths).toContain(path)
    }
    for (const item of collection.item) {
      const tests = item.event.find((e: any) => e.listen === 'test').script.exec.join('\n')
      expect({ name: item.name, tests: (tests.match(/pm\.test\(/g) ?? []).length >= 2 }).toEqual({ name: item.name, tests: true })
    }
  })

  test('when newman runs it against the service, then every request passes every test', async () => {
    const report = join(dir, 'report.json')
    // Asynchronous: the service answering newman runs in this process.
    const run = Bun.spawn(
      [
        'node',
        NEWMAN,
        'run',
        COLLECTION,
        '--env-var',
        `baseUrl=${app.url}`,
        '--reporters',
        'cli,json',
        '--reporter-json-export',
        report,
        '--color',
        'off',
      ],
      { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    )
    const code = await run.exited
    const output = (await new Response(run.stdout).text()) + (await new Response(run.stderr).text())
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' })
    const { run: result } = JSON.parse(readFileSync(report, 'utf8'))
    expect(result.stats.requests).toMatchObject({ total: 12, failed: 0 })
    expect(result.stats.assertions.failed).toBe(0)
    expect(result.stats.assertions.total).toBeGreaterThanOrEqual(30)
  })
})
