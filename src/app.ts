import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import pkg from '../package.json'
import type { Database } from './db/database'
import { hashtagsModule } from './modules/hashtags'
import { healthModule, type Lifecycle } from './modules/health'
import { tweetsModule } from './modules/tweets'
import { usersModule } from './modules/users'
import type { Logger } from './observability/logger'
import { errorHandler } from './shared/errors'
import { SWAGGER_ASSETS_PATH, swaggerAssets } from './shared/swagger-assets'

export interface AppDeps {
  db: Database
  /** Tables the schema files create; readiness checks that they exist. */
  tables: string[]
  lifecycle: Lifecycle
  logger: Logger
}

export const API_DESCRIPTION = `Recent tweets for a list of tracked hashtags, collected from the X API v2 and stored in MySQL.

Lists are paginated with \`limit\` and the opaque \`next_cursor\` (also sent as an RFC 8288 \`Link\` header).
Every error is RFC 9457 \`application/problem+json\` naming the parameter at fault.
Ids are 64-bit and always strings.`

/** Builds the application; it never listens (src/index.ts does), so tests can run it on any port. */
export function createApp(deps: AppDeps) {
  let routes: Route[] = []
  const app = new Elysia({ name: 'twitter-hashtags' })
    // First, and global: it must see the errors of every route registered after it.
    .use(errorHandler({ logger: deps.logger, allowedMethods: (path) => allowedMethods(routes, path) }))
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
        exclude: { paths: [`${SWAGGER_ASSETS_PATH}/:file`] },
      }),
    )
    .use(swaggerAssets())
    .use(tweetsModule(deps.db))
    .use(usersModule(deps.db))
    .use(hashtagsModule(deps.db))
    .use(healthModule(deps.db, deps.tables, deps.lifecycle))
  routes = app.routes
  return app
}

type Route = { method: string; path: string }

/** Methods the routes declare for a path (`:param` segments match any segment). */
function allowedMethods(routes: Route[], path: string): string[] {
  const methods = routes
    .filter((route) => new RegExp(`^${route.path.replace(/:[^/]+/g, '[^/]+')}$`).test(path))
    .map((route) => route.method)
  return [...new Set(methods.includes('GET') ? [...methods, 'HEAD'] : methods)]
}

export type App = ReturnType<typeof createApp>
