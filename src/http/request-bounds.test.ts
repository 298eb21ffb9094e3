import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type RunningApp, startApp } from '../../test/support/app'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { ECHO_MAX } from './echo'
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
    expect(headers['access-control-expose-headers']?.split(/,\s*/)).toEqual([
      'content-disposition',
      'etag',
      'link',
      'retry-after',
      'x-request-id',
    ])
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

  test('when CORS_ORIGINS is *, then every origin is allowed and no answer varies by origin: caches can reuse it', async () => {
    const any = startApp(database.db, { corsOrigins: ['*'] })
    try {
      for (const [path, vary] of [
        ['/api/v1/resources/tweets/all', 'Accept, Accept-Encoding'],
        ['/api/v1/resources/users/top5', 'Accept-Encoding'],
        ['/health/live', null],
      ] as const) {
        for (const origin of [undefined, ALLOWED, 'https://elsewhere.example']) {
          const response = await fetch(`${any.url}${path}`, { headers: origin === undefined ? {} : { origin } })
          expect({ path, origin, status: response.status, vary: response.headers.get('vary') }).toEqual({
            path,
            origin,
            status: 200,
            vary,
          })
          expect(response.headers.get('access-control-allow-origin')).toBe('*')
        }
      }
      const preflight = await fetch(`${any.url}/api/v1/resources/tweets`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED, 'access-control-request-method': 'GET' },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers.get('vary')).toBeNull()
      expect(corsHeaders(preflight)).toMatchObject({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD',
      })
    } finally {
      await any.stop()
    }
  })

  test('when the origin is not listed, then the answer carries no allow-origin header', async () => {
    for (const origin of ['https://evil.example', 'http://dashboard.example.com', 'https://dashboard.example.com.evil.example']) {
      const response = await fetch(`${open.url}/api/v1/resources/users/top5`, { headers: { origin } })
      expect({ origin, allowed: response.headers.get('access-control-allow-origin') }).toEqual({ origin, allowed: null })
    }
  })
})

describe('client text echoed in answers and logs', () => {
  const accessLine = (id: string) =>
    (closed.log.lines as any[]).find((line) => line.event?.action === 'http-request' && line.http.request.id === id)
  const bounded = (text: string) => text.length <= ECHO_MAX + 1 && text.split('…').length <= 2

  // Just under Bun's own bound on a request head (16 KiB; past it Bun answers 431 itself).
  test('when a path is 16 KB long, then the problem body and the access line hold a bounded part of it, once', async () => {
    const path = `/${'p'.repeat(16_000)}`
    const response = await fetch(closed.url + path, { headers: { 'x-request-id': 'long-path' } })
    expect(response.status).toBe(404)
    const text = await response.text()
    expect(text.length).toBeLessThan(1_024)
    const body = JSON.parse(text) as { instance: string; detail: string }
    expect(body.instance).toBe(`${path.slice(0, ECHO_MAX)}…`)
    expect(body.detail).not.toContain('ppp')
    await Bun.sleep(50)
    expect(accessLine('long-path').url.path).toBe(`${path.slice(0, ECHO_MAX)}…`)
  })

  test('when a method is refused on a path that exists, then the 405 names the methods allowed, not the path', async () => {
    const response = await fetch(`${closed.url}/api/v1/resources/users/top5`, { method: 'DELETE' })
    expect(response.status).toBe(405)
    const body = (await response.json()) as { detail: string; instance: string }
    expect(body).toMatchObject({
      instance: '/api/v1/resources/users/top5',
      detail: 'DELETE is not allowed at this path; use GET or HEAD',
    })
  })

  test('when a parameter name, a value, a query string and a user agent are long, then each is bounded wherever it is repeated', async () => {
    const name = 'n'.repeat(1_500)
    const query = `${name}=1&limit=${'9'.repeat(400)}`
    const response = await fetch(`${closed.url}/api/v1/resources/tweets?${query}`, {
      headers: { 'x-request-id': 'long-values', 'user-agent': `agent/${'u'.repeat(2_000)}` },
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { detail: string; errors: { parameter: string; detail: string }[] }
    expect(body.errors.map((e) => e.parameter)).toEqual([`${name.slice(0, ECHO_MAX)}…`, 'limit'])
    for (const error of body.errors)
      expect({ detail: error.detail, bounded: bounded(error.detail) }).toMatchObject({ bounded: true })
    await Bun.sleep(50)
    const line = accessLine('long-values')
    expect(line.url.query).toBe(`${query.slice(0, ECHO_MAX)}…`)
    expect(line.user_agent.original).toBe(`${`agent/${'u'.repeat(2_000)}`.slice(0, ECHO_MAX)}…`)
  })
})
