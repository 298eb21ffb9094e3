import { registerHashtags } from './collector/store'
import { applySchema } from './db/schema'
import { asError } from './observability/logger'
import { composeService } from './root'
import { onStopSignals } from './stop-signals'

/**
 * The process: compose (config → logging → pools → collector → app) → schema → collect → listen →
 * collect on schedule → graceful shutdown, bounded in time.
 */

const { config, logger, logstash, db, writer, collector, lifecycle, sqlFiles, app } = composeService()

onStopSignals(
  async (step, signal) => {
    lifecycle.shuttingDown = true
    logger.info({ event: { action: 'service-stopping' } }, `${signal}: finishing in-flight requests`)
    await Promise.all([
      step('in-flight requests', async () => {
        // stop() without force waits for requests in flight and refuses new connections.
        if (app.server) await app.stop()
        // Elysia runs after-response hooks (the access log) in setImmediate: let the last ones run.
        await new Promise((resolve) => setImmediate(resolve))
      }),
      // A collection in progress ends after its current page: a page is never half-written anyway.
      step('the collection', async () => collector?.stop()),
    ])
    await step('closing the database pools', () => Promise.all([writer?.close(), db.close()]))
    logger.info({ event: { action: 'service-stopped' } }, 'stopped')
    await step('shipping the last log lines', async () => logstash?.close())
    return 0
  },
  {
    onDeadline: (pending) =>
      logger.error(
        { event: { action: 'service-stop-timeout' } },
        `not stopped within the shutdown deadline; exiting with ${pending.join(', ')} still pending`,
      ),
  },
)
process.on('unhandledRejection', (reason) =>
  logger.error({ err: asError(reason), event: { action: 'unhandled-rejection' } }, 'unhandled promise rejection'),
)

/**
 * Applies the schema, waiting for a database that is still starting (a container started with the
 * service, a failover): the service must come up by itself once MySQL does.
 */
async function applySchemaWhenReachable() {
  const giveUpAt = Date.now() + 60_000
  for (let attempt = 1; ; attempt++) {
    try {
      return await applySchema(config.mysql, sqlFiles)
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

await applySchemaWhenReachable()

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
  if (config.collector.intervalMs !== null && !lifecycle.shuttingDown) collector.schedule(config.collector.intervalMs)
}

if (!lifecycle.shuttingDown) {
  app.listen({ port: config.port, hostname: config.host })
  logger.info(
    { event: { action: 'service-started' }, url: { port: config.port } },
    `listening on http://${config.host}:${config.port} (Swagger UI at /swagger, metrics at /metrics)`,
  )
}
