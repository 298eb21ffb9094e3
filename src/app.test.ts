import { describe, expect, test } from 'bun:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import { useTestApp } from '../test/support/app-world'
import { ENDPOINTS } from '../test/support/endpoints'

const world = useTestApp()

describe('OpenAPI document', () => {
  test('when fetched from /swagger/json, then it is a valid OpenAPI document listing the seven endpoints', async () => {
    const response = await fetch(`${world.app.url}/swagger/json`)
    expect(response.status).toBe(200)
    const document = (await response.json()) as any
    // validate() dereferences in place: keep the original for the checks below.
    await SwaggerParser.validate(structuredClone(document))
    expect(document.openapi).toStartWith('3.')
    // The license the project grants (LICENSE, package.json).
    expect(document.info.license).toEqual({ name: 'MIT', identifier: 'MIT' })
    for (const path of ENDPOINTS) expect(Object.keys(document.paths)).toContain(path)
  })

  test('when read, then no answer schema claims a default the endpoint does not apply: the timeline says hour, as it answers', async () => {
    const document = (await (await fetch(`${world.app.url}/swagger/json`)).json()) as any
    const parameter = document.paths['/api/v1/resources/tweets/timeline'].get.parameters.find((p: any) => p.name === 'interval')
    expect(parameter.schema.default).toBe('hour')
    const answered = (await (await fetch(`${world.app.url}/api/v1/resources/tweets/timeline`)).json()) as any
    expect(answered.interval).toBe('hour')
    // Defaults belong to parameters: an answer's enum (TypeBox's UnionEnum defaults to its first value) claims none.
    const defaults: string[] = []
    const walk = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return
      if ('default' in node && !path.includes('parameters')) defaults.push(`${path}: ${JSON.stringify((node as any).default)}`)
      for (const [key, value] of Object.entries(node)) walk(value, `${path}/${key}`)
    }
    walk(document.components?.schemas, '#/components/schemas')
    expect(defaults).toEqual([])
  })

  test('when read, then every endpoint documents its parameters, responses with descriptions and an example', async () => {
    const document = (await (await fetch(`${world.app.url}/swagger/json`)).json()) as any
    for (const path of ENDPOINTS) {
      const operation = document.paths[path].get
      expect({ path, summary: typeof operation.summary }).toEqual({ path, summary: 'string' })
      for (const status of ['200', '400', '503']) {
        const response = operation.responses[status]
        expect({ path, status, description: typeof response?.description }).toEqual({ path, status, description: 'string' })
        expect(response.content).toBeDefined()
      }
      expect(JSON.stringify(operation.responses['200'])).toContain('"examples"')
    }
    const tweets = document.paths['/api/v1/resources/tweets'].get
    expect(tweets.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'author_id',
      'csv_cells',
      'cursor',
      'format',
      'hash',
      'hashtag',
      'kind',
      'lang',
      'limit',
      'since',
      'until',
    ])
    const limit = tweets.parameters.find((p: { name: string }) => p.name === 'limit')
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  })
})

describe('Swagger UI', () => {
  test('when /swagger is opened, then it loads its script and stylesheet from this service, not a CDN', async () => {
    const html = await (await fetch(`${world.app.url}/swagger`)).text()
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(sources.length).toBeGreaterThanOrEqual(2)
    for (const source of sources) {
      expect(source).toStartWith('/swagger/assets/')
      const asset = await fetch(world.app.url + source)
      expect(asset.status).toBe(200)
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000)
    }
  })

  test.each(['/swagger', '/swagger/'])(
    'when %s is opened, then the document URL in the page resolves to the document',
    async (page) => {
      const html = await (await fetch(world.app.url + page)).text()
      const url = /"url":"([^"]+)"/.exec(html)?.[1]
      expect(url).toBeString()
      const spec = await fetch(new URL(url!, world.app.url + page))
      expect(spec.status).toBe(200)
      expect(((await spec.json()) as { openapi: string }).openapi).toStartWith('3.')
    },
  )

  test('when an unknown asset is asked for, then 404 and no file outside the package is served', async () => {
    for (const name of ['package.json', '..%2F..%2Fpackage.json', 'index.html']) {
      const response = await fetch(`${world.app.url}/swagger/assets/${name}`)
      expect(response.status).toBe(404)
    }
  })
})

describe('health', () => {
  test('when the database answers and the schema is present, then live and ready are 200', async () => {
    expect(await (await fetch(`${world.app.url}/health/live`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${world.app.url}/health/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'up', schema: 'present', shutting_down: false } })
  })

  test('when a table is missing, then ready is 503 and says so', async () => {
    await world.database.admin.query('CREATE TABLE hashtags_copy LIKE hashtags; RENAME TABLE hashtags TO hashtags_away')
    try {
      const ready = await fetch(`${world.app.url}/health/ready`)
      expect(ready.status).toBe(503)
      expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { database: 'up', schema: 'missing' } })
    } finally {
      await world.database.admin.query('RENAME TABLE hashtags_away TO hashtags; DROP TABLE hashtags_copy')
    }
  })

  test('when shutting down, then ready is 503 while live stays 200', async () => {
    world.app.lifecycle.shuttingDown = true
    try {
      expect((await fetch(`${world.app.url}/health/ready`)).status).toBe(503)
      expect((await fetch(`${world.app.url}/health/live`)).status).toBe(200)
    } finally {
      world.app.lifecycle.shuttingDown = false
    }
  })
})

describe('problem types', () => {
  test('when each type URI the document lists is resolved against a request URL, then it serves a text about its kind', async () => {
    const document = (await (await fetch(`${world.app.url}/swagger/json`)).json()) as any
    const types: string[] = document.components.schemas.Problem.properties.type.anyOf.map((t: { const: string }) => t.const)
    expect(types.length).toBeGreaterThanOrEqual(7)
    for (const type of types) {
      const response = await fetch(new URL(type, `${world.app.url}/api/v1/resources/tweets?lng=en`))
      expect({ type, status: response.status }).toEqual({ type, status: 200 })
      expect(response.headers.get('content-type')).toStartWith('text/plain')
      expect(await response.text()).toStartWith(`${type}: `)
    }
  })

  test('when a problem is sent, then its type is one the document lists and its title is fixed per type', async () => {
    const document = (await (await fetch(`${world.app.url}/swagger/json`)).json()) as any
    const types: string[] = document.components.schemas.Problem.properties.type.anyOf.map((t: { const: string }) => t.const)
    const seen = new Map<string, string>()
    for (const path of [
      '/api/v1/resources/tweets?lng=en',
      '/api/v1/resources/tweets?limit=0',
      '/nope',
      '/api/v1/resources/tweets/all?limit=1&lng=x',
    ]) {
      const body = (await (await fetch(world.app.url + path)).json()) as { type: string; title: string }
      expect(types).toContain(body.type)
      expect(seen.get(body.type) ?? body.title).toBe(body.title)
      seen.set(body.type, body.title)
    }
    expect([...seen.keys()].sort()).toEqual(['/problems/invalid-parameter', '/problems/not-found', '/problems/unknown-parameter'])
  })

  test('when an unknown problem type is asked for, then 404', async () => {
    for (const kind of ['nope', 'constructor', '__proto__']) {
      expect((await fetch(`${world.app.url}/problems/${kind}`)).status).toBe(404)
    }
  })
})
