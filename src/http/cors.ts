import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'

/**
 * Cross-origin access from browsers: off (no CORS header at all, so browsers keep other sites' pages
 * out) unless CORS_ORIGINS names the origins to let in. The API is read-only and takes no
 * credentials, so it allows GET and HEAD without cookies, and lets scripts read the headers a
 * client of a paged, cached API needs.
 */

const METHODS = ['GET', 'HEAD']
const ALLOWED_HEADERS = ['if-none-match', 'x-request-id']
const EXPOSED_HEADERS = ['content-disposition', 'etag', 'link', 'retry-after', 'x-request-id']
const MAX_AGE_SECONDS = 600

export const corsPolicy = (origins: string[]) => {
  if (origins.length === 0) return new Elysia({ name: 'cors-off' })
  if (origins.includes('*')) return anyOrigin()
  return cors({
    origin: origins,
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: MAX_AGE_SECONDS,
  })
}

/**
 * Every origin: `Access-Control-Allow-Origin: *`, the same for every request, so the answer does not
 * vary by origin and carries no Vary for it (the Fetch standard, "CORS protocol and HTTP caches").
 * @elysiajs/cors sends `Vary: *` with a wildcard, which no browser or proxy cache can reuse.
 */
const anyOrigin = () =>
  new Elysia({ name: 'cors-any-origin' }).onRequest(({ request, set }) => {
    set.headers['access-control-allow-origin'] = '*'
    if (request.method === 'OPTIONS' && request.headers.has('access-control-request-method')) {
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': METHODS.join(', '),
          'access-control-allow-headers': ALLOWED_HEADERS.join(', '),
          'access-control-max-age': String(MAX_AGE_SECONDS),
        },
      })
    }
    set.headers['access-control-expose-headers'] = EXPOSED_HEADERS.join(', ')
  })
