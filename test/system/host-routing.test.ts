import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { type RawAnswer, rawRequest } from '../support/raw-http'
import { useSampleService } from '../support/sample-service'

/**
 * Routing sees the path that was sent, whatever the Host header: Elysia cuts the path out of the URL
 * at a fixed index, so a short Host (the compose service name `app`), an empty one or none at all
 * (HTTP/1.0) used to shift the cut: `/swagger` became a 404, and `/abc/api/…` reached `/api/…`,
 * past a reverse proxy's path-prefix rule. Raw sockets, against the service as a process.
 */

const world = useSampleService()

/** No Host line at all when `host` is null (allowed in HTTP/1.0 only). */
function get(target: string, host: string | null, version = host === null ? '1.0' : '1.1'): Promise<RawAnswer | null> {
  const lines = [`GET ${target} HTTP/${version}`, ...(host === null ? [] : [`Host: ${host}`]), 'Connection: close', '', '']
  return rawRequest(world.port, lines.join('\r\n'))
}

const TOP5 = '/api/v1/resources/users/top5'
const HOSTS: (string | null)[] = [
  null,
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'abcde',
  'app',
  'app:3000',
  '[::1]',
  '[::1]:3000',
  '127.0.0.1',
]

async function expectData(target: string, host: string | null, version?: string) {
  const answer = await get(target, host, version)
  const where = { target, host, version }
  expect({ ...where, status: answer?.status }).toEqual({ ...where, status: 200 })
  expect({ ...where, rows: (JSON.parse(answer!.body).data as unknown[]).length > 0 }).toEqual({ ...where, rows: true })
}

/** The path of a target, dot segments resolved (as Bun does before routing). */
const pathOf = (target: string) => new URL(target.startsWith('/') ? `http://any${target}` : target).pathname

async function expectNotFound(target: string, host: string | null, version?: string) {
  const answer = await get(target, host, version)
  const where = { target, host, version }
  const path = pathOf(target)
  expect({ ...where, status: answer?.status, type: answer?.headers['content-type'] }).toEqual({
    ...where,
    status: 404,
    type: 'application/problem+json',
  })
  // Bun resolves dot segments its own way ("/.//x" stays): the instance is checked where there are none.
  if (!/\/\.\.?(\/|$)/.test(target)) {
    expect({ ...where, instance: JSON.parse(answer!.body).instance }).toEqual({ ...where, instance: path })
  }
}

describe('routing whatever the Host', () => {
  test.each(HOSTS.map((host) => [JSON.stringify(host), host]))(
    'when Host is %s, then the routes answer, and a prefix before a route is a 404',
    async (_, host) => {
      await expectData(TOP5, host)
      await expectData(`/api/v1/resources/tweets/all?limit=1`, host)
      for (const target of ['/swagger', '/swagger/json', '/health/live', '/metrics']) {
        const answer = await get(target, host)
        expect({ target, host, status: answer?.status }).toEqual({ target, host, status: 200 })
      }
      for (const prefix of ['/a', '/ab', '/abc', '/abcd', '/abc/def', '//']) {
        await expectNotFound(`${prefix}${TOP5}`, host)
        await expectNotFound(`${prefix}/swagger`, host)
      }
      await expectNotFound('/a', host)
      await expectNotFound('/', host)
    },
  )

  test('when HTTP/1.0 sends a Host, then the same', async () => {
    for (const host of ['a', 'abcd', '127.0.0.1']) {
      await expectData(TOP5, host, '1.0')
      await expectNotFound(`/abc${TOP5}`, host, '1.0')
    }
  })

  test('when the target is in absolute form, then its path is routed, whatever host it or the Host header names', async () => {
    for (const host of ['a', 'app', '127.0.0.1']) {
      for (const authority of ['x', 'other.example', 'other.example:8080', '[::1]']) {
        await expectData(`http://${authority}${TOP5}`, host)
        await expectNotFound(`http://${authority}/abc${TOP5}`, host)
      }
    }
  })

  test('when generated hosts and prefixes are sent, then a prefixed route is always a 404 and the route itself a 200', async () => {
    const hostChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-'.split(''))
    const host = fc.oneof(
      fc.constant(null),
      fc.string({ unit: hostChar, maxLength: 12 }),
      fc
        .tuple(fc.string({ unit: hostChar, minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 65535 }))
        .map(([h, p]) => `${h}:${p}`),
    )
    const prefix = fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '_'), minLength: 1, maxLength: 8 }).map((p) => `/${p}`)
    await fc.assert(
      fc.asyncProperty(host, prefix, async (h, p) => {
        await expectData(TOP5, h)
        // A prefix made only of slashes and dots may still name the route once normalised; not a prefix.
        if (pathOf(`${p}${TOP5}`) !== TOP5) await expectNotFound(`${p}${TOP5}`, h)
      }),
      { numRuns: 150 },
    )
  }, 60_000)
})
