import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import type { Registry } from 'prom-client'
import pkg from '../package.json'
import type { Database } from './db/sql'
import type { Lifecycle } from './domain/lifecycle'
import { corsPolicy } from './http/cors'
import { errorHandler, notFound } from './http/errors'
import { METRICS_PATH, metricsPlugin } from './http/metrics'
import { queryLengthLimit } from './http/query'
import { type PeerLookup, requestLog } from './http/request-log'
import { routable } from './http/request-url'
import type { ResponseCache } from './http/response-cache'
import { SWAGGER_ASSETS_PATH, swaggerAssets } from './http/swagger-assets'
import { hashtagsModule } from './modules/hashtags'
import { healthModule } from './modules/health'
import { tweetsModule } from './modules/tweets'
import { usersModule } from './modules/users'
import type { Logger } from './observability/logger'

export interface AppDeps {
  db: Database
  /** Tables the schema files create; readiness checks that they exist. */
  tables: string[]
  lifecycle: Lifecycle
  logger: Logger
  /** The service's own metrics, served at /metrics beside the HTTP ones. */
  registry: Registry
  /** Answers kept per data version; shared with the collector, which invalidates it on commit. */
  cache: ResponseCache
  /** Origins allowed by CORS (CORS_ORIGINS); none: CORS off. */
  corsOrigins?: string[]
}

export const API_DESCRIPTION = `Recent tweets for a list of tracked hashtags, collected from the X API v2 and stored in MySQL.

Lists are paginated with \`limit\` and the opaque \`next_cursor\` (also sent as an RFC 8288 \`Link\` header).
Every error is RFC 9457 \`application/problem+json\` naming the parameter at fault.
Ids are 64-bit and always strings.`

/** Builds the application; it never listens (src/index.ts does), so tests can run it on any port. */
export function createApp(deps: AppDeps) {
  let routes: RouteMatcher[] = []
  let server: PeerLookup | null = null
  const { cache } = deps
  const app = new Elysia({ name: 'twitter-hashtags' })
    // Before Elysia reads the path of any request (Bun's native routes included): see routable.
    .wrap((handle) => (request: Request) => handle(routable(request)))
    // Plugins that must see every route come first, scoped global, in this order: request ids and
    // the access log, then errors, then metrics (see errorHandler).
    .use(requestLog(deps.logger, () => server))
    .use(errorHandler(deps.logger))
    .use(metricsPlugin(deps.registry))
    .use(corsPolicy(deps.corsOrigins ?? []))
    .use(queryLengthLimit())
    .use(
      openapi({
        path: '/swagger',
        specPath: '/swagger/json',
        provider: 'swagger-ui',
        documentation: {
          info: { title: 'twitter-hashtags API', version: pkg.version, description: API_DESCRIPTION },
          tags: [
            { name: 'tweets', description: 'Stored tweets and counts over them' },
            { name: 'users', description: 'Authors of stored tweets' },
            { name: 'hashtags', description: 'Tracked hashtags and their collection state' },
            { name: 'health', description: 'Probes for orchestrators' },
          ],
        },
        // Served by this process: the UI works without internet access.
        swagger: {
          cdn: `${SWAGGER_ASSETS_PATH}/swagger-ui-bundle.js`,
          theme: `${SWAGGER_ASSETS_PATH}/swagger-ui.css`,
          autoDarkMode: false,
        },
        exclude: { paths: [`${SWAGGER_ASSETS_PATH}/:file`, METRICS_PATH, '/*'] },
      }),
    )
    .use(swaggerAssets())
    .use(tweetsModule(deps.db, cache))
    .use(usersModule(deps.db, cache))
    .use(hashtagsModule(deps.db, cache))
    .use(healthModule(deps.db, deps.tables, deps.lifecycle))
    // Everything else: one route, so that metrics and logs label unknown paths with one value.
    .all('/*', ({ request, path }) => {
      throw notFound(request.method, allowedMethods(routes, path))
    })
  // Known once the app listens (see requestLog).
  app.onStart(() => {
    server = app.server
  })
  routes = app.routes
    .filter((route) => route.path !== '/*')
    .map((route) => ({ method: route.method, pattern: new RegExp(`^${route.path.replace(/:[^/]+/g, '[^/]+')}$`) }))
  return app
}

type RouteMatcher = { method: string; pattern: RegExp }

/** Methods the routes declare for a path (`:param` segments match any segment). */
function allowedMethods(routes: RouteMatcher[], path: string): string[] {
  const methods = routes.filter((route) => route.pattern.test(path)).map((route) => route.method)
  return [...new Set(methods.includes('GET') ? [...methods, 'HEAD'] : methods)]
}

export type App = ReturnType<typeof createApp>
