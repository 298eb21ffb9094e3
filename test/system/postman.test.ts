import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunningApp, startApp } from '../support/app'
import { loadCoreData } from '../support/core-data'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { ENDPOINTS } from '../support/endpoints'

/**
 * The Postman collection, run by newman (its own CLI, under Node.js) against the service on a database
 * with data in it: as a whole, and each request on its own, the way a client developer picks one.
 */

const ROOT = join(import.meta.dir, '..', '..')
const COLLECTION = join(ROOT, 'postman', 'twitter-hashtags.postman_collection.json')
const NEWMAN = join(ROOT, 'node_modules', 'newman', 'bin', 'newman.js')

/** The read endpoints with a path parameter, as the OpenAPI document names them. */
const WITH_PATH_PARAMETERS = [
  '/api/v1/resources/tweets/{id}',
  '/api/v1/resources/users/{id}',
  '/api/v1/resources/hashtags/{tag}/related',
]

interface Request {
  name: string
  event?: { listen: string; script: { exec: string[] } }[]
  request: {
    method: string
    header?: { key: string; value: string }[]
    url: { path: string[]; query?: { key: string; value: string }[]; variable?: { key: string; value: string }[] }
  }
  response?: { name: string; code: number; header?: { key: string; value: string }[]; body?: string; originalRequest?: any }[]
}
interface Folder {
  name: string
  item: (Folder | Request)[]
}

const collection = JSON.parse(readFileSync(COLLECTION, 'utf8'))

/** Every request of the collection, with the folders it sits in. */
function requestsOf(items: (Folder | Request)[], folders: string[] = []): (Request & { folders: string[] })[] {
  return items.flatMap((item) => ('item' in item ? requestsOf(item.item, [...folders, item.name]) : [{ ...item, folders }]))
}
const requests = requestsOf(collection.item)
/** A request's path as the OpenAPI document writes it: Postman's path variable `:id` is `{id}` there. */
const templateOf = (segments: string[] = []) => `/${segments.map((s) => s.replace(/^:(.+)$/, '{$1}')).join('/')}`
const pathOf = (request: Request) => templateOf(request.request.url.path)
const headerOf = (headers: { key: string; value: string }[] = [], name: string) =>
  headers.find((h) => h.key.toLowerCase() === name.toLowerCase())?.value

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

/** The names of the collection's requests that a newman run sent, in order. */
const itemsRun = (run: any): string[] => [...new Set<string>(run.executions.map((e: any) => e.item.name))]

/** newman on the collection (or on the named requests only); its exit code, output and JSON report. */
async function newman(report: string, only: string[] = []) {
  // Asynchronous: the service answering newman runs in this process.
  const run = Bun.spawn(
    [
      'node',
      NEWMAN,
      'run',
      COLLECTION,
      ...only.flatMap((name) => ['--folder', name]),
      '--bail',
      'folder',
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
  return { code, output, run: code === 0 ? JSON.parse(readFileSync(report, 'utf8')).run : null }
}

describe('Postman collection', () => {
  test('it is a v2.1 collection with a baseUrl variable, its requests in folders, and every request has tests', () => {
    expect(collection.info.schema).toBe('https://schema.getpostman.com/json/collection/v2.1.0/collection.json')
    expect(collection.variable.find((v: { key: string }) => v.key === 'baseUrl').value).toBe('http://localhost:5000')
    expect(collection.item.map((item: Folder) => item.name)).toEqual([
      'Tweets',
      'Users',
      'Hashtags',
      'Health',
      'Metrics',
      'Errors',
    ])
    expect(requests.filter((r) => r.folders.length === 0).map((r) => r.name)).toEqual([])
    const paths = requests.map(pathOf)
    for (const path of [...ENDPOINTS, ...WITH_PATH_PARAMETERS, '/health/live', '/health/ready', '/metrics']) {
      expect(paths).toContain(path)
    }
    // A path variable has a value (a literal, or a variable a pre-request script sets).
    for (const item of requests) {
      const names = item.request.url.path.filter((s) => s.startsWith(':')).map((s) => s.slice(1))
      const values = Object.fromEntries((item.request.url.variable ?? []).map((v) => [v.key, v.value]))
      expect({ name: item.name, missing: names.filter((n) => !values[n]) }).toEqual({ name: item.name, missing: [] })
    }
    // Names are what newman's --folder and a reader pick a request by.
    expect(new Set(requests.map((r) => r.name)).size).toBe(requests.length)
    for (const item of requests) {
      const tests = item.event?.find((e) => e.listen === 'test')?.script.exec.join('\n') ?? ''
      const count = (tests.match(/pm\.test\(/g) ?? []).length
      expect({ name: item.name, tests: count >= 3 }).toEqual({ name: item.name, tests: true })
    }
  })

  test('every operation of the served OpenAPI document has a request, matched by method and path, in the folder of its tag', async () => {
    const document = (await (await fetch(`${app.url}/swagger/json`)).json()) as { paths: Record<string, Record<string, any>> }
    const operations = Object.entries<Record<string, any>>(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method))
        .map(([method, operation]) => ({
          operationId: operation.operationId as string,
          method,
          path,
          tag: operation.tags[0] as string,
        })),
    )
    expect(operations.length).toBeGreaterThanOrEqual(9)
    const missing = operations.filter(
      ({ method, path, tag }) =>
        !requests.some(
          (r) =>
            r.request.method.toLowerCase() === method && pathOf(r) === path && r.folders[0]?.toLowerCase() === tag.toLowerCase(),
        ),
    )
    expect(missing.map((o) => `${o.operationId}: ${o.method.toUpperCase()} ${o.path} in ${o.tag}`)).toEqual([])
    // An operation that answers CSV and NDJSON too has a request asking for each of them.
    const formatsAsked = (r: Request) =>
      [headerOf(r.request.header, 'Accept'), r.request.url.query?.find((q) => q.key === 'format')?.value]
        .join(' ')
        .replace('text/csv', 'csv')
        .replace('application/x-ndjson', 'ndjson')
    const exports = Object.entries<Record<string, any>>(document.paths).flatMap(([path, item]) =>
      Object.keys(item.get?.responses?.['200']?.content ?? {})
        .filter((type) => type !== 'application/json')
        .map((type) => ({ path, format: type === 'text/csv' ? 'csv' : 'ndjson' })),
    )
    expect(exports.length).toBeGreaterThanOrEqual(4)
    const unasked = exports.filter(
      ({ path, format }) => !requests.some((r) => pathOf(r) === path && formatsAsked(r).split(' ').includes(format)),
    )
    expect(unasked.map((e) => `${e.format} of ${e.path}`)).toEqual([])
    // And a saved example of an operation's request has a status the document declares for that operation.
    const undeclared = requests.flatMap((r) => {
      const operation = document.paths[pathOf(r)]?.[r.request.method.toLowerCase()]
      if (operation === undefined) return []
      return (r.response ?? [])
        .filter((e) => !Object.hasOwn(operation.responses, String(e.code)))
        .map((e) => `${r.name}: ${e.code}`)
    })
    expect(undeclared).toEqual([])
  })

  test('every request has a saved example from a run: its request, status, content type and body', () => {
    for (const item of requests) {
      const examples = item.response ?? []
      expect({ name: item.name, examples: examples.length >= 1 }).toEqual({ name: item.name, examples: true })
      for (const example of examples) {
        expect({
          name: item.name,
          method: example.originalRequest?.method,
          path: templateOf(example.originalRequest?.url?.path),
        }).toEqual({ name: item.name, method: item.request.method, path: pathOf(item) })
        expect(Number.isInteger(example.code)).toBe(true)
        if (example.code === 304) {
          expect({ name: item.name, body: example.body ?? '', etag: typeof headerOf(example.header, 'ETag') }).toEqual({
            name: item.name,
            body: '',
            etag: 'string',
          })
          continue
        }
        const type = headerOf(example.header, 'Content-Type') ?? ''
        expect({
          name: item.name,
          type: /^(application\/(problem\+)?json|text\/plain|text\/csv|application\/x-ndjson)/.test(type),
        }).toEqual({ name: item.name, type: true })
        expect((example.body ?? '').length).toBeGreaterThan(0)
        if (/^application\/(problem\+)?json/.test(type)) JSON.parse(example.body!)
        // An export's example is its first records, whole: JSON lines that parse, CSV under its header row.
        if (type.startsWith('application/x-ndjson')) {
          expect(example.body!.endsWith('\n')).toBe(true)
          for (const line of example.body!.slice(0, -1).split('\n')) expect(typeof JSON.parse(line).id).toBe('string')
        }
        if (type.startsWith('text/csv')) {
          expect(example.body!.startsWith('id,created_at,kind,')).toBe(true)
          expect(example.body!.endsWith('\r\n')).toBe(true)
          expect(headerOf(example.header, 'Content-Disposition')).toMatch(/^attachment; filename="tweets-.+\.csv"/)
        }
        if (type.startsWith('application/problem+json')) expect(JSON.parse(example.body!).status).toBe(example.code)
      }
    }
  })

  test('when newman runs it against the service, then every request passes every test, the error cases included', async () => {
    const { code, output, run } = await newman(join(dir, 'report.json'))
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' })
    // Requests sent by pre-request scripts are executions (and stats.requests) too: count the items.
    expect(itemsRun(run)).toEqual(requests.map((r) => r.name))
    expect(run.stats.requests.failed).toBe(0)
    expect(run.stats.assertions.failed).toBe(0)
    expect(run.stats.assertions.total).toBeGreaterThanOrEqual(3 * requests.length)
    const codes = new Set(run.executions.map((e: any) => e.response.code))
    for (const status of [200, 304, 400, 404, 405, 414]) expect(codes).toContain(status)
  })

  test('when each request runs on its own, with the collection variables as saved, then it passes its tests', async () => {
    // A few newman processes at a time: each is a Node.js process of its own.
    const runs: ({ name: string } & Awaited<ReturnType<typeof newman>>)[] = []
    let next = 0
    const worker = async () => {
      for (let i = next++; i < requests.length; i = next++) {
        runs.push({ name: requests[i]!.name, ...(await newman(join(dir, `alone-${i}.json`), [requests[i]!.name])) })
      }
    }
    await Promise.all(Array.from({ length: 4 }, worker))
    expect(runs.length).toBe(requests.length)
    const failed = runs.filter(
      (r) => r.code !== 0 || JSON.stringify(itemsRun(r.run)) !== JSON.stringify([r.name]) || r.run.stats.assertions.failed !== 0,
    )
    expect(failed.map((r) => ({ name: r.name, output: r.output }))).toEqual([])
    // Some forty Node.js processes, a few at a time: about 30 s on two cores.
  }, 120_000)
})
