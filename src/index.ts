import { registerHashtags } from './collector/store'
import { commandLine, CONFIGURATION_NOTES as NOTES } from './command-line'
import { SchemaError } from './db/schema'
import { keepMemoryNear } from './memory-target'
import { asError } from './observability/logger'
import { composeService } from './root'
import { prepareSchema } from './schema-start'
import { onStopSignals } from './stop-signals'

/**
 * The process: compose (config → logging → pools → collector → app) → schema → collect → listen →
 * collect on schedule → graceful shutdown, bounded in time.
 */

commandLine({
  name: 'bun run start',
  summary:
    'Runs the service: applies the schema, collects (X API, or the bundled sample without a token), serves the API with Swagger UI at /swagger, metrics at /metrics and probes at /health/*. SIGTERM stops it within 8 s.',
  options: {},
  notes: NOTES,
})

const { config, logger, logstash, db, writer, collector, lifecycle, sqlFiles, app } = composeService()
keepMemoryNear(config.memoryTargetBytes, logger)

/** Aborted by SIGTERM/SIGINT: ends a wait for the database. A migration is simply left: the next start completes it. */
const stopping = new AbortController()

onStopSignals(
  async (step, signal) => {
    lifecycle.shuttingDown = true
    stopping.abort()
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

// Listening from the start: readiness says what the start is doing (migrating, waiting for another
// process's migration, collecting) or why it cannot go on; data routes answer 503 until the schema
// is there.
lifecycle.starting = { phase: 'schema', detail: 'applying the schema' }
if (!lifecycle.shuttingDown) {
  app.listen({ port: config.port, hostname: config.host })
  logger.info(
    { event: { action: 'service-started' }, url: { port: config.port } },
    `listening on http://${config.host}:${config.port} (Swagger UI at /swagger, metrics at /metrics)`,
  )
}

const schema = await prepareSchema({
  config: config.mysql,
  files: sqlFiles,
  logger,
  unreachableForMs: 60_000,
  signal: stopping.signal,
  onState: (state) => {
    lifecycle.starting = state
  },
}).then(
  () => 'ready' as const,
  (error: unknown) => error,
)
if (schema instanceof SchemaError) {
  // Waiting will not fix it: the process stays up, not ready, its readiness naming the file and the
  // server's code, until someone fixes the database and restarts it.
  logger.error(
    { err: asError(schema), event: { action: 'schema-failed' }, twitter: { schema_file: schema.file, schema_code: schema.code } },
    `the schema cannot be applied, and waiting will not change that: ${schema.message}`,
  )
} else if (schema !== 'ready') {
  // Unreachable for longer than a database takes to start, or refusing the service's user: exit,
  // an orchestrator starts the process again.
  logger.fatal(
    { err: asError(schema), event: { action: 'schema-gave-up' } },
    `the database could not be used to apply the schema: ${(schema as Error).message}`,
  )
  if (!lifecycle.shuttingDown) process.exit(1)
} else if (!lifecycle.shuttingDown) {
  lifecycle.starting = { phase: 'collecting', detail: 'the start-up collection is running' }
  if (collector === null) {
    await registerHashtags(db, config.collector.hashtags)
  } else {
    // Ready after the first collection, or after COLLECT_STARTUP_TIMEOUT, whichever comes first.
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
  lifecycle.starting = null
}
