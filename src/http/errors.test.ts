import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia, NotFoundError, ParseError } from 'elysia'
import { CapturedLog } from '../../test/support/app'
import { createLogger } from '../observability/logger'
import { errorHandler } from './errors'
import { HttpProblem } from './problem'

/**
 * The error handler against whatever a route may throw, over HTTP: values that are not Errors, and
 * objects whose `code` is one of Elysia's own codes without being Elysia's error.
 */

const log = new CapturedLog()
const THROWN: Record<string, () => unknown> = {
  null: () => null,
  undefined: () => undefined,
  string: () => 'a string',
  number: () => 42,
  'object coded NOT_FOUND': () => ({ code: 'NOT_FOUND', message: 'not a routing error' }),
  'object coded VALIDATION': () => ({ code: 'VALIDATION' }),
  'object coded PARSE': () => ({ code: 'PARSE' }),
  'database error': () => Object.assign(new Error("Unknown column 'x' in 'field list'"), { code: 'ER_BAD_FIELD_ERROR' }),
}

let app: ReturnType<typeof build>
let url: string

function build() {
  const logger = createLogger({ destination: log, level: 'debug' })
  let server = new Elysia().use(errorHandler(logger))
  for (const [name, value] of Object.entries(THROWN)) {
    const path = `/${encodeURIComponent(name)}`
    server = server
      .get(`/sync${path}`, () => {
        throw value()
      })
      .get(`/async${path}`, async () => {
        await Bun.sleep(1)
        throw value()
      })
      .get(`/rejected${path}`, () => Promise.reject(value())) as unknown as typeof server
  }
  return server
    .get('/not-found', () => {
      throw new NotFoundError()
    })
    .get('/parse', () => {
      throw new ParseError()
    })
    .get('/problem', () => {
      throw new HttpProblem(429, 'slow down')
    })
}

beforeAll(() => {
  app = build().listen({ port: 0, hostname: '127.0.0.1' })
  url = `http://127.0.0.1:${app.server!.port}`
})

afterAll(async () => {
  await app?.stop(true)
})

describe('error handler', () => {
  test.each(Object.keys(THROWN).flatMap((name) => ['sync', 'async', 'rejected'].map((how) => [how, name])))(
    'when a route %s throws %s, then 500 problem+json that hides it, logged once',
    async (how, name) => {
      const path = `/${how}/${encodeURIComponent(name)}`
      const before = log.lines.length
      const response = await fetch(url + path)
      const text = await response.text()
      expect({ path, status: response.status, type: response.headers.get('content-type') }).toEqual({
        path,
        status: 500,
        type: 'application/problem+json',
      })
      expect(JSON.parse(text)).toMatchObject({
        status: 500,
        instance: path,
        detail: 'the request failed on our side; it has been logged',
      })
      expect(text).not.toMatch(/column|a string|not a routing|ER_|<html/i)
      await Bun.sleep(10)
      const failed = log.lines.slice(before).filter((line: any) => line.message === 'request failed')
      expect(failed.length).toBe(1)
    },
  )

  test("when Elysia's own routing, parse and problem errors are thrown, then their statuses", async () => {
    expect((await fetch(`${url}/not-found`)).status).toBe(404)
    expect((await fetch(`${url}/parse`)).status).toBe(400)
    const problem = await fetch(`${url}/problem`)
    expect(problem.status).toBe(429)
    expect(await problem.json()).toMatchObject({ status: 429, title: 'Too Many Requests', detail: 'slow down' })
  })
})
