import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { CapturedLog } from '../test/support/app'
import { useTestApp } from '../test/support/app-world'
import { createApp } from './app'
import { dataVersions } from './db/data-version'
import { DatabaseUnavailableError } from './db/errors'
import type { Database } from './db/sql'
import { MAX_QUERY_LENGTH } from './http/query'
import { createResponseCache } from './http/response-cache'
import { createLogger } from './observability/logger'

/**
 * The statuses the OpenAPI document declares for each operation are the statuses the operation
 * produces: none is sent that is not declared, and each declared one is produced.
 *
 * How (so that the claim is no stronger than the method):
 * - Every operation is read from the served document, with its documented parameters and examples;
 *   nothing below lists routes or statuses by hand.
 * - Generated queries (fast-check): subsets of the documented parameters with their examples,
 *   values of any text, names the endpoint does not take, repeated names. Sent to the real app on a
 *   database with data, they produce the 200s and 400s, and must produce nothing undeclared.
 * - Statuses random queries cannot reach are provoked by what causes them, for every operation alike:
 *   If-None-Match with the ETag just received (304), a query string past the bound (414), a database
 *   that cannot be reached (503) or answers with an error no rule expects (500), and readiness while
 *   shutting down (503).
 * - The union of what came back, per operation, must equal the declared statuses; every answer must
 *   carry the headers its declared response requires and the declared media type (none for a 304).
 * 404 and 405 belong to no operation: the document declares them once (components.responses), and
 * the last test checks those against unknown paths and other methods.
 */

const world = useTestApp({ coreData: true })

type Operation = {
  operationId: string
  parameters: { name: string; in: string; example: unknown }[]
  responses: Record<string, { headers?: Record<string, { $ref: string }>; content?: Record<string, unknown> }>
}
type Document = {
  paths: Record<string, { get: Operation }>
  components: { headers: Record<string, { required?: boolean }>; responses: Record<string, Operation['responses'][string]> }
}

async function documentOf(): Promise<Document> {
  return (await (await fetch(`${world.app.url}/swagger/json`)).json()) as Document
}

/** An app on a database whose data_version read works and every other statement fails with `error`. */
function appOnFailingDatabase(error: () => Error) {
  const db = {
    config: { queryTimeoutMs: 1_000 },
    rows: async (sql: string) => {
      if (sql.includes('data_version')) return [{ version: '1' }]
      throw error()
    },
  } as unknown as Database
  const lifecycle = { shuttingDown: false, starting: null }
  const app = createApp({
    db,
    schema: new Map([['tweets', { columns: new Map(), indexes: new Map() }]]),
    exportConcurrency: 1,
    lifecycle,
    logger: createLogger({ destination: new CapturedLog(), level: 'fatal' }),
    registry: new Registry(),
    cache: createResponseCache(dataVersions(db), 0, 1_000),
  })
  return (path: string) => app.handle(new Request(`http://localhost${path}`))
}

/** Every (path, status) seen, with a check of each answer against its declared response. */
class Produced {
  readonly statuses = new Map<string, Set<number>>()
  constructor(private readonly document: Document) {}

  operation(path: string): Operation {
    return this.document.paths[path]!.get
  }

  record(path: string, response: Response, body: string) {
    const declared = this.document.paths[path]!.get.responses[String(response.status)]
    this.statuses.set(path, (this.statuses.get(path) ?? new Set()).add(response.status))
    if (declared === undefined) return
    expectDeclared(this.document, `${path} ${response.status}`, declared, response, body)
  }
}

function expectDeclared(
  document: Document,
  what: string,
  declared: Operation['responses'][string],
  response: Response,
  body: string,
) {
  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    const required = document.components.headers[header.$ref.split('/').pop()!]?.required === true
    // X-Request-Id is on every answer, though clients need not rely on it.
    if (required || name === 'X-Request-Id')
      expect({ what, name, sent: response.headers.has(name) }).toEqual({ what, name, sent: true })
  }
  const types = Object.keys(declared.content ?? {})
  const sent = response.headers.get('content-type')?.split(';')[0] ?? null
  expect({ what, type: types.length === 0 ? body === '' : sent }).toEqual({ what, type: types[0] ?? true })
}

/** The path with its parameters filled in: given values, or else the documented examples. */
function concrete(path: string, operation: Operation, values: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? String(operation.parameters.find((p) => p.name === name && p.in === 'path')!.example)),
  )
}

const send = async (produced: Produced, path: string, query: string, init?: RequestInit, values?: Record<string, string>) => {
  const operation = produced.operation(path)
  const response = await fetch(`${world.app.url}${concrete(path, operation, values)}${query}`, init)
  const body = await response.text()
  produced.record(path, response, body)
  return response
}

/** Values of the path parameters: the documented examples, other ids, any text. */
function pathValues(operation: Operation): fc.Arbitrary<Record<string, string>> {
  const names = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name)
  return fc.record(
    Object.fromEntries(
      names.map((name) => [
        name,
        fc.oneof(
          fc.constant(String(operation.parameters.find((p) => p.name === name)!.example)),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
          fc.stringMatching(/^[a-z]{1,12}$/),
          fc.string({ minLength: 1, maxLength: 20 }),
        ),
      ]),
    ),
  )
}

/** Query strings made of the operation's parameters, their examples, any text, unknown names and repeats. */
function queries(operation: Operation): fc.Arbitrary<string> {
  const names = operation.parameters.filter((p) => p.in === 'query').map((p) => p.name)
  const example = (name: string) => String(operation.parameters.find((p) => p.name === name)!.example)
  const pair = fc.oneof(
    ...(names.length > 0 ? [fc.constantFrom(...names).map((name) => [name, example(name)] as const)] : []),
    ...(names.length > 0 ? [fc.tuple(fc.constantFrom(...names), fc.string({ maxLength: 30 }))] : []),
    fc.tuple(fc.constantFrom('lng', 'page', 'x', 'constructor'), fc.string({ maxLength: 10 })),
  )
  return fc
    .array(pair, { maxLength: 4 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`))
}

describe('declared statuses', () => {
  test('when every operation is driven by generated and provoking inputs, then the statuses it produces are the ones it declares', async () => {
    const document = await documentOf()
    const produced = new Produced(document)
    const unreachable = appOnFailingDatabase(() => new DatabaseUnavailableError('the database is unavailable; retry later'))
    const broken = appOnFailingDatabase(() => Object.assign(new Error("Unknown column 'x'"), { code: 'ER_BAD_FIELD_ERROR' }))
    const paths = Object.keys(document.paths)
    expect(paths.length).toBe(14)

    for (const path of paths) {
      const operation = document.paths[path]!.get
      await fc.assert(
        fc.asyncProperty(queries(operation), pathValues(operation), async (query, values) => {
          await send(produced, path, query, undefined, values)
        }),
        { numRuns: 60, seed: 20_261_128 },
      )
      const examples = operation.parameters
        .filter((p) => p.in === 'query')
        .map((p) => `${p.name}=${encodeURIComponent(String(p.example))}`)
      const documented = examples.length === 0 ? '' : `?${examples.join('&')}`
      const etag = (await send(produced, path, documented)).headers.get('etag')
      if (etag !== null) await send(produced, path, documented, { headers: { 'if-none-match': etag } })
      await send(produced, path, `?x=${'a'.repeat(MAX_QUERY_LENGTH)}`)
      for (const app of [unreachable, broken]) {
        const response = await app(concrete(path, operation))
        produced.record(path, response, await response.text())
      }
    }
    world.app.lifecycle.shuttingDown = true
    try {
      for (const path of paths) await send(produced, path, '')
    } finally {
      world.app.lifecycle.shuttingDown = false
    }

    const declared = Object.fromEntries(
      paths.map((path) => [
        path,
        Object.keys(document.paths[path]!.get.responses)
          .map(Number)
          .sort((a, b) => a - b),
      ]),
    )
    const seen = Object.fromEntries(paths.map((path) => [path, [...(produced.statuses.get(path) ?? [])].sort((a, b) => a - b)]))
    expect(seen).toEqual(declared)
  }, 60_000)

  test('when a path is unknown or a method is not GET or HEAD, then the answers are the shared NotFound and MethodNotAllowed', async () => {
    const document = await documentOf()
    const { NotFound, MethodNotAllowed } = document.components.responses
    for (const path of ['/api/v1/resources/nope', '/api/v2/resources/tweets/all', '/favicon.ico']) {
      const response = await fetch(world.app.url + path)
      expect({ path, status: response.status }).toEqual({ path, status: 404 })
      expectDeclared(document, path, NotFound!, response, await response.text())
    }
    for (const path of Object.keys(document.paths)) {
      const response = await fetch(world.app.url + path, { method: 'DELETE' })
      expect({ path, status: response.status }).toEqual({ path, status: 405 })
      expectDeclared(document, path, MethodNotAllowed!, response, await response.text())
    }
  })
})
