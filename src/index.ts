import { Registry } from 'prom-client'
import { type App, createApp } from './app'
import { createCollector } from './collector'
import { registerHashtags } from './collector/store'
import { ConfigError, loadConfig, secretValues } from './config'
import { createDatabase } from './db/database'
import { applySchema, readSqlFiles, tablesOf } from './db/schema'
import { storedTweetsPerHashtag } from './modules/hashtags/repository'
import type { Lifecycle } from './modules/health'
import { asError, createLogger } from './observability/logger'
import { LogstashStream } from './observability/logstash-stream'
import { createCollectorMetrics, createLogShippingMetrics, registerServiceMetrics } from './observability/metrics'
import { createResponseCache } from './shared/response-cache'

/** The process: config → logging → schema → pool → collect → listen → collect on schedule → graceful shutdown. */

function loadConfigOrExit() {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    createLogger({ secrets: secretValues() }).fatal({ event: { action: 'config-invalid' } }, error.message)
    process.exit(2)
  }
}

const config = loadConfigOrExit()
const registry = new Registry()
const shipping = createLogShippingMetrics(registry)
const logstash =
  config.log.logstash === null
    ? null
    : new LogstashStream({
        ...config.log.logstash,
        onDrop: (lines) => shipping.dropped.inc(lines),
        onConnection: (up) => shipping.connected.set(up ? 1 : 0),
      })
const logger = createLogger({
  level: config.log.level,
  format: config.log.format,
  environment: config.log.environment,
  secrets: secretValues(),
  extraTargets: logstash === null ? [] : [logstash],
})

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
        logger.fatal({ err: asError(error), event: { action: 'schema-failed' } }, 'could not apply the schema within 60 s')
        process.exit(1)
      }
      const delay = Math.min(5_000, 250 * 2 ** attempt)
      logger.warn(
        { err: asError(error), event: { action: 'database-waiting' } },
        `database not reachable yet; retrying in ${delay} ms`,
      )
      await Bun.sleep(delay)
    }
  }
}

logger.info(
  { event: { action: 'service-starting' }, twitter: { source: config.collector.source, logstash: logstash !== null } },
  'starting',
)
const files = readSqlFiles()
await applySchemaWhenReachable(files)
const db = createDatabase(config.mysql, { statementTimeoutMs: config.mysql.queryTimeoutMs })
registerServiceMetrics(registry, {
  pool: () => db.stats(),
  poolSize: config.mysql.poolSize,
  storedTweets: () => storedTweetsPerHashtag(db),
  intervalMs: config.collector.intervalMs,
})
const lifecycle: Lifecycle = { shuttingDown: false }
const cache = createResponseCache(db, config.responseCacheBytes, config.mysql.queryTimeoutMs)
// The collector's own small pool, the one that accepts statement batches: a page is written in few round trips.
const writer = config.collector.source === 'off' ? null : createDatabase({ ...config.mysql, poolSize: 2 }, { batches: true })
const collector =
  writer === null
    ? null
    : createCollector({
        db: writer,
        config: config.collector,
        logger,
        metrics: createCollectorMetrics(registry),
        onCommit: () => cache.invalidate(),
      })
let app: App | null = null

async function shutdown(signal: string) {
  if (lifecycle.shuttingDown) return
  lifecycle.shuttingDown = true
  logger.info({ event: { action: 'service-stopping' } }, `${signal}: finishing in-flight requests`)
  // stop() without force waits for requests in flight and refuses new connections.
  await app?.stop()
  // Elysia runs after-response hooks (the access log) in setImmediate: let the last ones run.
  await new Promise((resolve) => setImmediate(resolve))
  // A collection in progress ends after its current page: a page is never half-written anyway.
  await collector?.stop()
  await writer?.close()
  await db.close()
  logger.info({ event: { action: 'service-stopped' } }, 'stopped')
  await logstash?.close()
  process.exit(0)
}

process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
process.on('unhandledRejection', (reason) =>
  logger.error({ err: asError(reason), event: { action: 'unhandled-rejection' } }, 'unhandled promise rejection'),
)

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
  app = createApp({ db, tables: tablesOf(files), lifecycle, logger, registry, cache, corsOrigins: config.corsOrigins })
  app.listen({ port: config.port, hostname: config.host })
  logger.info(
    { event: { action: 'service-started' }, url: { port: config.port } },
    `listening on http://${config.host}:${config.port} (Swagger UI at /swagger, metrics at /metrics)`,
  )
}
