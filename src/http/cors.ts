import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'

/**
 * Cross-origin access from browsers: off (no CORS header at all, so browsers keep other sites' pages
 * out) unless CORS_ORIGINS names the origins to let in. The API is read-only and takes no
 * credentials, so it allows GET and HEAD without cookies, and lets scripts read the headers a
 * client of a paged, cached API needs.
 */
export const corsPolicy = (origins: string[]) =>
  origins.length === 0
    ? new Elysia({ name: 'cors-off' })
    : cors({
        origin: origins,
        methods: ['GET', 'HEAD'],
        allowedHeaders: ['if-none-match', 'x-request-id'],
        exposeHeaders: ['content-disposition', 'etag', 'link', 'retry-after', 'x-request-id'],
        credentials: false,
        maxAge: 600,
      })
