import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../../test/support/app-world'
import { ENDPOINTS } from '../../test/support/endpoints'
import { samples } from '../../test/support/metrics'
import { SWAGGER_ASSETS_PATH } from './swagger-assets'

/**
 * Names a client chooses (parameter names, values, path segments, asset names) that are also the
 * names of Object.prototype's properties: a lookup in a plain object finds the inherited property
 * instead of nothing, and the request is answered as if it had named something that exists.
 */

const PROTOTYPE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']
const ROUTES = [
  ...ENDPOINTS,
  '/health/live',
  '/health/ready',
  '/swagger',
  '/swagger/json',
  '/metrics',
  `${SWAGGER_ASSETS_PATH}/swagger-ui.css`,
]

const world = useTestApp()

/** Routes whose path continues with an id (/tweets/{id}). */
const ID_PARENTS = new Set(['/api/v1/resources/tweets'])

/** Routes that read their query strictly: any parameter they do not declare is a 400 naming it. */
const STRICT = (route: string) => !route.startsWith('/swagger') && route !== '/metrics'

/** Every request a prototype name can go into, and the status it must get when that is known. */
function targets(): { target: string; expected?: number }[] {
  const out: { target: string; expected?: number }[] = []
  for (const name of PROTOTYPE_NAMES) {
    out.push({ target: `${SWAGGER_ASSETS_PATH}/${name}`, expected: 404 })
    for (const path of [`/${name}`, `/api/v1/resources/${name}`, `/swagger/${name}`]) out.push({ target: path, expected: 404 })
    for (const route of ROUTES) {
      const unknownParameter = STRICT(route) ? 400 : undefined
      out.push(
        { target: `${route}?${name}=devops`, expected: unknownParameter },
        { target: `${route}?${name}`, expected: unknownParameter },
      )
      // Under /tweets and /users a segment is an id: a name is a malformed one.
      out.push({ target: `${route}/${name}`, expected: ID_PARENTS.has(route) ? 400 : 404 })
      for (const parameter of ['hash', 'hashtag', 'lang', 'author_id', 'limit', 'cursor', 'tz']) {
        out.push({ target: `${route}?${parameter}=${name}` })
      }
    }
  }
  return out
}

describe('names of prototype properties sent by clients', () => {
  test('when they are parameter names, values, path segments or asset names on every route, then no 5xx, 4xx are problem+json, and metrics and the access log record the status sent', async () => {
    const before = samples(await (await fetch(`${world.app.url}/metrics`)).text(), 'http_requests_total')
    const sentByStatus = new Map<number, number>()
    const sent: { target: string; id: string; status: number }[] = []
    const all = targets()
    for (let i = 0; i < all.length; i += 50) {
      const batch = all.slice(i, i + 50)
      const answers = await Promise.all(
        batch.map(async ({ target, expected }, j) => {
          const id = `keys-${i + j}`
          const response = await fetch(world.app.url + target, { headers: { 'x-request-id': id } })
          return { target, expected, id, response, text: await response.text() }
        }),
      )
      for (const { target, expected, id, response, text } of answers) {
        const status = response.status
        expect({ target, status, below500: status < 500 }).toEqual({ target, status, below500: true })
        if (expected !== undefined) expect({ target, status }).toEqual({ target, status: expected })
        if (status >= 400) {
          expect({ target, type: response.headers.get('content-type') }).toEqual({ target, type: 'application/problem+json' })
          expect({ target, status: JSON.parse(text).status }).toEqual({ target, status })
        }
        sent.push({ target, id, status })
        if (!target.startsWith('/metrics?') && target !== '/metrics')
          sentByStatus.set(status, (sentByStatus.get(status) ?? 0) + 1)
      }
    }
    await Bun.sleep(100)
    const logged = new Map<string, number>()
    for (const line of world.app.log.lines as any[]) {
      if (line.event?.action === 'http-request') logged.set(line.http.request.id, line.http.response.status_code)
    }
    for (const { target, id, status } of sent) expect({ target, logged: logged.get(id) }).toEqual({ target, logged: status })
    const after = samples(await (await fetch(`${world.app.url}/metrics`)).text(), 'http_requests_total')
    const counted = new Map<number, number>()
    for (const [labels, value] of after) {
      const old =
        before.find(([l]) => l.method === labels.method && l.path === labels.path && l.status === labels.status)?.[1] ?? 0
      if (value > old) counted.set(Number(labels.status), (counted.get(Number(labels.status)) ?? 0) + value - old)
    }
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(sentByStatus))
  }, 60_000)
})
