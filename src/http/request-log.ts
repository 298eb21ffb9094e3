import { randomUUID } from 'node:crypto'
import { Elysia } from 'elysia'
import type { Logger } from '../observability/logger'
import { type BodyEnd, bodyEnd, routeLabel, sentStatus } from './answer'
import { echo } from './echo'
import { pathStart } from './request-url'

/**
 * Request ids and the access log. Every request gets an id — the caller's X-Request-Id when it is
 * a sane token, a new UUID otherwise — returned in the X-Request-Id response header and written on
 * its access-log line, one line per request, in ECS fields (the route template under `twitter.*`).
 */

const SANE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

interface RequestState {
  id: string
  started: number
  /** Peer address, read while the request is open (Bun no longer knows it once the response is sent). */
  address: string | undefined
}

const states = new WeakMap<Request, RequestState>()

/** The id of a request, for problem bodies and other log lines. */
export const requestIdOf = (request: Request): string | undefined => states.get(request)?.id

/** Probes and scrapes: logged at debug, so that they do not drown the traffic. */
const QUIET = /^\/(health\/|metrics$)/

/** What the hook needs of the server: Bun's peer address of a request. */
export interface PeerLookup {
  requestIP(request: Request): { address: string } | null
}

/**
 * @param server the listening server, looked up outside the hook: a hook that names Elysia's
 *   `server` context property makes Elysia build a slower context for every request.
 */
export const requestLog = (logger: Logger, server: () => PeerLookup | null | undefined) =>
  new Elysia({ name: 'request-log' })
    .onRequest(({ request, set }) => {
      const given = request.headers.get('x-request-id')
      const id = given !== null && SANE_ID.test(given) ? given : randomUUID()
      states.set(request, { id, started: performance.now(), address: server()?.requestIP(request)?.address })
      set.headers['x-request-id'] = id
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      const state = states.get(request)
      if (state === undefined) return
      const status = sentStatus(set, responseValue)
      // A streamed body (an export) is logged when it ends: its duration is to the last byte.
      const streamed = bodyEnd(request)
      if (streamed === null) writeLine(logger, request, route, status, state, null)
      else void streamed.then((end) => writeLine(logger, request, route, status, state, end))
    })

function writeLine(
  logger: Logger,
  request: Request,
  route: string | undefined,
  status: number,
  state: RequestState,
  end: BodyEnd | null,
) {
  // The path and query as sent, without parsing the whole URL again.
  const raw = request.url
  const start = pathStart(raw)
  const queryStart = raw.indexOf('?', start)
  const pathname = echo(queryStart === -1 ? raw.slice(start) : raw.slice(start, queryStart))
  const level = status >= 500 ? 'error' : QUIET.test(pathname) ? 'debug' : 'info'
  if (!logger.isLevelEnabled(level)) return
  const query = queryStart === -1 ? '' : raw.slice(queryStart + 1)
  const durationMs = performance.now() - state.started
  const address = state.address
  logger[level](
    {
      event: {
        action: 'http-request',
        kind: 'event',
        category: ['web'],
        type: ['access'],
        outcome: status >= 400 || end === 'cut' ? 'failure' : 'success',
        duration: Math.round(durationMs * 1e6),
      },
      http: { request: { id: state.id, method: request.method }, response: { status_code: status } },
      url: {
        path: pathname,
        ...(query === '' ? {} : { query: echo(query) }),
      },
      ...(address === undefined ? {} : { client: { ip: address, address } }),
      ...(request.headers.has('user-agent') ? { user_agent: { original: echo(request.headers.get('user-agent')!) } } : {}),
      twitter: { route: routeLabel(route), ...(end === null ? {} : { body: end }) },
    },
    `${request.method} ${pathname} ${status} ${durationMs.toFixed(1)} ms${end === 'cut' ? ' (body cut short)' : ''}`,
  )
}
