import { Registry } from 'prom-client'
import { type App, createApp } from './app'
import { createCollector } from './collector'
import { registerHashtags } from './collector/store'
import { ConfigError, loadConfig } from './config'
import { createDatabase } from './db/database'
import { applySchema, readSqlFiles, tablesOf } from './db/schema'
import type { Lifecycle } from './modules/health'
import { createLogger } from './observability/logger'
import { createCollectorMetrics } from './observability/metrics'

/** The process: config → schema → pool → collect → listen → collect on schedule → graceful shutdown. */

const logger = createLogger()

function loadConfigOrExit() {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    logger.fatal({ event: { action: 'config-invalid' } }, error.message)
    process.exit(2)
  }
}

/**
 * Applies the schema, waiting for a database that is still starting (a container started with the
 * service, a failover): the service must come up by itself once MySQL does.
 */
async function applySchemaWhenReachable(files: ReturnType<typeof readSqlFiles>) {
  const giveUpAt = Date.now() + 60_000
  for (let attempt = 1; ; attempt++) {
    try {
      return await applySchema(config.mysql, files)
    } catch (error) {
      if (Date.now() > giveUpAt) {
        logger.fatal({ err: error, event: { action: 'schema-failed' } }, 'could not apply the schema within 60 s')
        process.exit(1)
      }
      const delay = Math.min(5_000, 250 * 2 ** attempt)
      logger.warn({ err: error, event: { action: 'database-waiting' } }, `database not reachable yet; retrying in ${delay} ms`)
      await Bun.sleep(delay)
    }
  }
}

const config = loadConfigOrExit()
const files = readSqlFiles()
await applySchemaWhenReachable(files)
const db = createDatabase(config.mysql)
const lifecycle: Lifecycle = { shuttingDown: false }
const registry = new Registry()
const collector =
  config.collector.source === 'off'
    ? null
    : createCollector({ db, config: config.collector, logger, metrics: createCollectorMetrics(registry) })
let app: App | null = null

async function shutdown(signal: string) {
  if (lifecycle.shuttingDown) return
  lifecycle.shuttingDown = true
  logger.info({ event: { action: 'service-stopping' } }, `${signal}: finishing in-flight requests`)
  // stop() without force waits for requests in flight and refuses new connections.
  await app?.stop()
  // A collection in progress ends after its current page: a page is never half-written anyway.
  await collector?.stop()
  await db.close()
  logger.info({ event: { action: 'service-stopped' } }, 'stopped')
  process.exit(0)
}

process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'))

if (collector === null) {
  await registerHashtags(db, config.collector.hashtags)
} else {
  // Serve after the first collection, or after COLLECT_STARTUP_TIMEOUT, whichever comes first.
  const first = collector.run().then(() => 'done' as const)
  const timeout = Bun.sleep(config.collector.startupTimeoutMs).then(() => 'timeout' as const)
  if ((await Promise.race([first, timeout])) === 'timeout') {
    logger.warn(
      { event: { action: 'collection-startup-timeout' } },
      `the start-up collection is still running after ${config.collector.startupTimeoutMs} ms: serving now, it goes on in the background`,
    )
  }
  if (config.collector.intervalMs !== null) collector.schedule(config.collector.intervalMs)
}

if (!lifecycle.shuttingDown) {
  app = createApp({ db, tables: tablesOf(files), lifecycle, logger })
  app.listen({ port: config.port, hostname: config.host })
  logger.info(
    { event: { action: 'service-started' }, url: { port: config.port } },
    `listening on http://${config.host}:${config.port} (Swagger UI at /swagger)`,
  )
}
