import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import type { Registry } from 'prom-client'
import pkg from '../package.json'
import type { Shape } from './db/catalogue'
import type { Database } from './db/sql'
import { type Clock, systemClock } from './domain/clock'
import { type Lifecycle, schemaUsable } from './domain/lifecycle'
import { UnavailableError } from './domain/unavailable'
import { UNMATCHED_ROUTE } from './http/answer'
import { corsPolicy } from './http/cors'
import { errorHandler, notFound } from './http/errors'
import { createExportGate } from './http/export'
import { METRICS_PATH, metricsPlugin } from './http/metrics'
import { apiDocument } from './http/openapi'
import { queryLengthLimit } from './http/query'
import { type PeerLookup, requestLog } from './http/request-log'
import { routable } from './http/request-url'
import type { ResponseCache } from './http/response-cache'
import { SWAGGER_ASSETS_PATH, swaggerAssets } from './http/swagger-assets'
import { swaggerHeaders } from './http/swagger-headers'
import { hashtagsModule } from './modules/hashtags'
import { healthModule } from './modules/health'
import { problemsModule } from './modules/problems'
import { tweetsModule } from './modules/tweets'
import { usersModule } from './modules/users'
import type { Logger } from './observability/logger'

export interface AppDeps {
  db: Database
  /** The tables the schema files declare; readiness checks that the database holds them. */
  schema: Shape
  lifecycle: Lifecycle
  logger: Logger
  /** The service's own metrics, served at /metrics beside the HTTP ones. */
  registry: Registry
  /** Answers kept per data version; shared with the collector, which invalidates it on commit. */
  cache: ResponseCache
  /** Origins allowed by CORS (CORS_ORIGINS); none: CORS off. */
  corsOrigins?: string[]
  /**
   * Where clients reach the service (PUBLIC_BASE_URL), e.g. behind a proxy that adds a path prefix:
   * the document's `servers` and the Swagger UI's link to the document. Unset: relative to the host
   * that served the document.
   */
  publicBaseUrl?: string
  /** CSV/NDJSON exports streamed at once (EXPORT_CONCURRENCY). */
  exportConcurrency: number
  /** The date "now" is for defaults such as a timeline's range; the system's unless a test pins it. */
  clock?: Clock
}

export const API_DESCRIPTION = `Recent tweets for a list of tracked hashtags, collected from the X API v2 and stored in MySQL.

Lists are paginated with \`limit\` and the opaque \`next_cursor\` (also sent as an RFC 8288 \`Link\` header).
Every error is RFC 9457 \`application/problem+json\` naming the parameter at fault.
Ids are 64-bit and always strings.`

/** Retry-After of a data request while the schema is applied: migrations take seconds to minutes. */
const STARTING_RETRY_AFTER_SECONDS = 5

export const SWAGGER_PATH = '/swagger'
export const SPEC_PATH = `${SWAGGER_PATH}/json`

const TAGS = [
  { name: 'tweets', description: 'Stored tweets and counts over them' },
  { name: 'users', description: 'Authors of stored tweets' },
  { name: 'hashtags', description: 'Tracked hashtags and their collection state' },
  { name: 'health', description: 'Probes for orchestrators' },
]

/** Builds the application; it never listens (src/index.ts does), so tests can run it on any port. */
export function createApp(deps: AppDeps) {
  let routes: RouteMatcher[] = []
  let server: PeerLookup | null = null
  const { cache } = deps
  const modules = [
    tweetsModule(deps.db, cache, deps.logger, deps.clock ?? systemClock, createExportGate(deps.exportConcurrency)),
    usersModule(deps.db, cache),
    hashtagsModule(deps.db, cache),
    healthModule(deps.db, deps.schema, deps.lifecycle),
  ]
  const basePath = deps.publicBaseUrl === undefined ? '' : new URL(deps.publicBaseUrl).pathname.replace(/\/+$/, '')
  // The paths and components come from the routes' declarations (src/http/route.ts): the plugin's own
  // generator cannot write problem+json bodies, 304s, response headers or parameter examples. The
  // plugin serves the document and the UI; its `paths` give way to these, path by path.
  const documentation = apiDocument(
    modules.flatMap((module) => module.routes),
    {
      info: {
        title: 'twitter-hashtags API',
        version: pkg.version,
        description: API_DESCRIPTION,
        // The license package.json names (an SPDX id), the one the LICENSE file grants.
        license: { name: pkg.license, identifier: pkg.license },
      },
      tags: TAGS,
      publicBaseUrl: deps.publicBaseUrl,
    },
  )
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
    .use(swaggerHeaders(SWAGGER_PATH, deps.publicBaseUrl))
    .use(
      openapi({
        path: SWAGGER_PATH,
        specPath: SPEC_PATH,
        provider: 'swagger-ui',
        documentation: documentation as unknown as NonNullable<Parameters<typeof openapi>[0]>['documentation'],
        // Served by this process: the UI works without internet access.
        swagger: {
          cdn: `${basePath}${SWAGGER_ASSETS_PATH}/swagger-ui-bundle.js`,
          theme: `${basePath}${SWAGGER_ASSETS_PATH}/swagger-ui.css`,
          autoDarkMode: false,
          // From the root, not relative: the plugin's "swagger/json" resolves under /swagger/ to
          // /swagger/swagger/json, and the UI failed to load the document there.
          url: `${basePath}${SPEC_PATH}`,
          // `url` is left out of the plugin's option type, but it is passed to SwaggerUIBundle as given.
        } as NonNullable<Parameters<typeof openapi>[0]>['swagger'],
        exclude: { paths: [`${SWAGGER_ASSETS_PATH}/:file`, METRICS_PATH, UNMATCHED_ROUTE] },
      }),
    )
    .use(swaggerAssets())
    .use(problemsModule())
    // While the schema is applied (or cannot be), the tables are not read: data routes answer 503.
    .onBeforeHandle({ as: 'global' }, ({ path }) => {
      const starting = deps.lifecycle.starting
      if (starting !== null && !schemaUsable(deps.lifecycle) && path.startsWith('/api/'))
        throw new UnavailableError(`the service is starting: ${starting.detail}`, STARTING_RETRY_AFTER_SECONDS)
    })
  for (const module of modules) app.use(module)
  app
    // Everything else: one route, so that metrics and logs label unknown paths with one value.
    .all(UNMATCHED_ROUTE, ({ request, path }) => {
      throw notFound(request.method, allowedMethods(routes, path))
    })
  // Known once the app listens (see requestLog).
  app.onStart(() => {
    server = app.server
  })
  routes = app.routes
    .filter((route) => route.path !== UNMATCHED_ROUTE)
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
