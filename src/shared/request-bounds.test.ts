import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type RunningApp, startApp } from '../testing/app'
import { createTestDatabase, type TestDatabase } from '../testing/database'
import { MAX_QUERY_LENGTH } from './query'

let database: TestDatabase
let closed: RunningApp
let open: RunningApp
const ALLOWED = 'https://dashboard.example.com'

beforeAll(async () => {
  database = await createTestDatabase()
  closed = startApp(database.db)
  open = startApp(database.db, { corsOrigins: [ALLOWED, 'http://localhost:3000'] })
})

afterAll(async () => {
  await closed?.stop()
  await open?.stop()
  await database?.drop()
})

const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')))

describe('query string length', () => {
  test.each([
    ['an endpoint', '/api/v1/resources/tweets'],
    ['an unknown path', '/nowhere'],
  ])('when a query string is longer than the bound on %s, then 414 problem+json says how long it may be', async (_, path) => {
    const query = `hash=${'a'.repeat(MAX_QUERY_LENGTH)}`
    const response = await fetch(`${closed.url}${path}?${query}`)
    expect(response.status).toBe(414)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    const body = (await response.json()) as { status: number; detail: string }
    expect(body.status).toBe(414)
    expect(body.detail).toContain(`at most ${MAX_QUERY_LENGTH}`)
  })

  test('when a query string is exactly at the bound, then it is read as usual (here: a 400 naming the parameter)', async () => {
    const query = `lang=${'x'.repeat(MAX_QUERY_LENGTH - 'lang='.length)}`
    const response = await fetch(`${closed.url}/api/v1/resources/tweets?${query}`)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { errors: { parameter: string }[] }).errors[0]!.parameter).toBe('lang')
  })
})

describe('CORS', () => {
  test('when CORS_ORIGINS is unset, then no response carries a CORS header and preflights are refused', async () => {
    const simple = await fetch(`${closed.url}/api/v1/resources/users/top5`, { headers: { origin: ALLOWED } })
    expect(simple.status).toBe(200)
    expect(corsHeaders(simple)).toEqual({})
    const preflight = await fetch(`${closed.url}/api/v1/resources/users/top5`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
    })
    expect(preflight.status).toBe(405)
    expect(corsHeaders(preflight)).toEqual({})
  })

  test('when the origin is listed, then it is allowed, without credentials, and may read the paging and cache headers', async () => {
    const response = await fetch(`${open.url}/api/v1/resources/users/top5`, { headers: { origin: ALLOWED } })
    expect(response.status).toBe(200)
    const headers = corsHeaders(response)
    expect(headers['access-control-allow-origin']).toBe(ALLOWED)
    expect(headers['access-control-allow-credentials']).toBeUndefined()
    expect(headers['access-control-expose-headers']?.split(/,\s*/)).toEqual(['etag', 'link', 'retry-after', 'x-request-id'])
    expect(response.headers.get('vary')).toContain('Origin')
  })

  test('when a listed origin sends a preflight, then 204 allows GET and HEAD only', async () => {
    const response = await fetch(`${open.url}/api/v1/resources/tweets`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
    })
    expect(response.status).toBe(204)
    expect(corsHeaders(response)).toMatchObject({
      'access-control-allow-origin': 'http://localhost:3000',
      'access-control-allow-methods': 'GET, HEAD',
    })
  })

  test('when the origin is not listed, then the answer carries no allow-origin header', async () => {
    for (const origin of ['https://evil.example', 'http://dashboard.example.com', 'https://dashboard.example.com.evil.example']) {
      const response = await fetch(`${open.url}/api/v1/resources/users/top5`, { headers: { origin } })
      expect({ origin, allowed: response.headers.get('access-control-allow-origin') }).toEqual({ origin, allowed: null })
    }
  })
})
