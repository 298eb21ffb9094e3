import { randomUUID } from 'node:crypto'
import { Elysia } from 'elysia'
import type { Logger } from './logger'

/**
 * Request ids and the access log. Every request gets an id — the caller's X-Request-Id when it is
 * a sane token, a new UUID otherwise — returned in the X-Request-Id response header and written on
 * its access-log line, one line per request, in ECS fields (the route template under `twitter.*`).
 */

const SANE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const MAX_LOGGED = 2_048

const capped = (text: string) => (text.length > MAX_LOGGED ? `${text.slice(0, MAX_LOGGED)}…` : text)

interface RequestState {
  id: string
  started: number
  /** Peer address, read while the connection is certainly open. */
  address: string | undefined
}

const states = new WeakMap<Request, RequestState>()

/** The id of a request, for problem bodies and other log lines. */
export const requestIdOf = (request: Request): string | undefined => states.get(request)?.id

/** Probes and scrapes: logged at debug, so that they do not drown the traffic. */
const QUIET = /^\/(health\/|metrics$)/

export const requestLog = (logger: Logger) =>
  new Elysia({ name: 'request-log' })
    .onRequest(({ request, set, server }) => {
      const given = request.headers.get('x-request-id')
      const id = given !== null && SANE_ID.test(given) ? given : randomUUID()
      states.set(request, { id, started: performance.now(), address: server?.requestIP(request)?.address })
      set.headers['x-request-id'] = id
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set }) => {
      const state = states.get(request)
      if (state === undefined) return
      const url = new URL(request.url)
      const status = typeof set.status === 'number' ? set.status : Number(set.status) || 200
      const durationMs = performance.now() - state.started
      const level = status >= 500 ? 'error' : QUIET.test(url.pathname) ? 'debug' : 'info'
      const address = state.address
      const query = url.search.slice(1)
      logger[level](
        {
          event: {
            action: 'http-request',
            kind: 'event',
            category: ['web'],
            type: ['access'],
            outcome: status >= 400 ? 'failure' : 'success',
            duration: Math.round(durationMs * 1e6),
          },
          http: { request: { id: state.id, method: request.method }, response: { status_code: status } },
          url: {
            path: url.pathname,
            ...(query === '' ? {} : { query: capped(query) }),
          },
          ...(address === undefined ? {} : { client: { ip: address, address } }),
          ...(request.headers.has('user-agent') ? { user_agent: { original: capped(request.headers.get('user-agent')!) } } : {}),
          twitter: { route: route ?? '(unmatched)' },
        },
        `${request.method} ${url.pathname} ${status} ${durationMs.toFixed(1)} ms`,
      )
    })
