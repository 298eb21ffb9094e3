import { Registry } from 'prom-client'
import { type App, createApp } from './app'
import { type Collector, createCollector } from './collector'
import type { PageProgress } from './collector/run'
import { type Config, ConfigError, loadConfig, type MysqlConfig, type ProcessDefaults, secretValues } from './config'
import { dataVersions } from './db/data-version'
import { createDatabase } from './db/database'
import { readSqlFiles, schemaShape } from './db/schema'
import type { Database } from './db/sql'
import type { Lifecycle } from './domain/lifecycle'
import { createResponseCache, type ResponseCache } from './http/response-cache'
import { storedTweetsPerHashtag } from './modules/hashtags/repository'
import { createLogValues, type LogValues } from './observability/log-values'
import { createLogger, type Logger } from './observability/logger'
import { LogstashStream } from './observability/logstash-stream'
import { createCollectorMetrics, createLogShippingMetrics, registerServiceMetrics } from './observability/metrics'

/**
 * The composition root: the one place that builds configuration, logger, pools, collector and app,
 * for both processes — `bun run start` (composeService) and `bun run collect` (composeCollect). The
 * processes (index.ts, collect.ts) run what it builds; nothing else wires these parts by hand.
 *
 * Whatever a process writes — log lines, and the lines `bun run collect` prints for people — goes
 * through the same LogValues: secrets masked, sizes bounded. A bad configuration ends either process
 * with one message naming every bad variable, no stack trace, and exit code 2.
 */

/** The collector's own small pool, the one that accepts statement batches: a page is written in few round trips. */
export const createWriterPool = (mysql: MysqlConfig): Database => createDatabase({ ...mysql, poolSize: 2 }, { batches: true })

/** The configuration, and the masking built from the secrets of the same environment; or exit 2. */
function configure(
  env: Record<string, string | undefined>,
  defaults: ProcessDefaults,
  report: (message: string, values: LogValues) => void,
): { config: Config; values: LogValues } {
  // Secrets are read even from a configuration that does not parse: its message must not show them either.
  const values = createLogValues(secretValues(env))
  try {
    return { config: loadConfig(env, defaults), values }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    report(error.message, values)
    process.exit(2)
  }
}

export interface Service {
  config: Config
  logger: Logger
  logstash: LogstashStream | null
  /** The API's pool: statements bounded by MYSQL_QUERY_TIMEOUT on the server too. */
  db: Database
  /** The collector's pool; null when COLLECT_SOURCE=off. */
  writer: Database | null
  collector: Collector | null
  cache: ResponseCache
  lifecycle: Lifecycle
  sqlFiles: ReturnType<typeof readSqlFiles>
  /** Built, not listening. */
  app: App
}

/** `bun run start`: everything the service runs, not yet started (no connection opened, nothing listening). */
export function composeService(env: Record<string, string | undefined> = process.env): Service {
  const { config, values } = configure(env, {}, (message, values) =>
    // On stdout, as JSON: the service's output is read by machines.
    createLogger({ values }).fatal({ event: { action: 'config-invalid' } }, message),
  )
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
    values,
    extraTargets: logstash === null ? [] : [logstash],
  })
  logger.info(
    { event: { action: 'service-starting' }, twitter: { source: config.collector.source, logstash: logstash !== null } },
    'starting',
  )
  const db = createDatabase(config.mysql, { statementTimeoutMs: config.mysql.queryTimeoutMs })
  registerServiceMetrics(registry, {
    pool: () => db.stats(),
    poolSize: config.mysql.poolSize,
    storedTweets: () => storedTweetsPerHashtag(db),
    intervalMs: config.collector.intervalMs,
  })
  const cache = createResponseCache(dataVersions(db), config.responseCacheBytes, config.mysql.queryTimeoutMs)
  const writer = config.collector.source === 'off' ? null : createWriterPool(config.mysql)
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
  const lifecycle: Lifecycle = { shuttingDown: false, starting: null }
  const sqlFiles = readSqlFiles()
  const app = createApp({
    db,
    schema: schemaShape(sqlFiles),
    lifecycle,
    logger,
    registry,
    cache,
    corsOrigins: config.corsOrigins,
    exportConcurrency: config.exportConcurrency,
    publicBaseUrl: config.publicBaseUrl,
  })
  return { config, logger, logstash, db, writer, collector, cache, lifecycle, sqlFiles, app }
}

/** Lines for people, on stdout and stderr, masked and bounded like log lines. */
export interface Say {
  out(line: string): void
  error(line: string): void
}

const sayThrough = (values: LogValues): Say => ({
  out: (line) => console.log(values.text(line)),
  error: (line) => console.error(values.text(line)),
})

export interface Collect {
  config: Config
  logger: Logger
  say: Say
  writer: Database
  collector: Collector
}

/**
 * `bun run collect`: the collector with its pool, the structured log on stderr (warn and up unless
 * LOG_LEVEL says otherwise) and a line printed on stdout per page (`progress`).
 */
export function composeCollect(
  progress: (page: PageProgress) => string,
  env: Record<string, string | undefined> = process.env,
): Collect {
  const { config, values } = configure(env, { LOG_LEVEL: 'warn' }, (message, values) => sayThrough(values).error(message))
  const say = sayThrough(values)
  if (config.collector.source === 'off') {
    say.error('COLLECT_SOURCE=off: nothing to collect')
    process.exit(2)
  }
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format,
    environment: config.log.environment,
    values,
    destination: process.stderr,
  })
  const writer = createWriterPool(config.mysql)
  const collector = createCollector({
    db: writer,
    config: config.collector,
    logger,
    metrics: createCollectorMetrics(new Registry()),
    onPage: (page) => say.out(progress(page)),
  })
  return { config, logger, say, writer, collector }
}
