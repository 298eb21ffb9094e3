import { Writable } from 'node:stream'
import { Registry } from 'prom-client'
import { createApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { dataVersions } from '../../src/db/data-version'
import { readSqlFiles, schemaShape } from '../../src/db/schema'
import type { Database } from '../../src/db/sql'
import type { Lifecycle } from '../../src/domain/lifecycle'
import { createResponseCache, type ResponseCache } from '../../src/http/response-cache'
import { storedTweetsPerHashtag } from '../../src/modules/hashtags/repository'
import { createLogger } from '../../src/observability/logger'
import { createLogShippingMetrics, registerServiceMetrics } from '../../src/observability/metrics'

/** Log lines written by the app under test, parsed. */
export class CapturedLog extends Writable {
  readonly lines: Record<string, unknown>[] = []
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.lines.push(JSON.parse(line))
    done()
  }
}

export interface RunningApp {
  url: string
  cache: ResponseCache
  log: CapturedLog
  lifecycle: Lifecycle
  registry: Registry
  stop(): Promise<void>
}

/** The real app on a random port, logging into memory. */
export function startApp(db: Database, options: { corsOrigins?: string[]; exportConcurrency?: number } = {}): RunningApp {
  const log = new CapturedLog()
  const lifecycle: Lifecycle = { shuttingDown: false, starting: null }
  const registry = new Registry()
  registerServiceMetrics(registry, {
    pool: () => db.stats(),
    poolSize: db.config.poolSize,
    storedTweets: () => storedTweetsPerHashtag(db),
    intervalMs: null,
  })
  createLogShippingMetrics(registry)
  const cache = createResponseCache(dataVersions(db), 32 * 1024 * 1024, db.config.queryTimeoutMs)
  const app = createApp({
    db,
    cache,
    schema: schemaShape(readSqlFiles()),
    lifecycle,
    logger: createLogger({ destination: log, level: 'debug' }),
    registry,
    corsOrigins: options.corsOrigins,
    exportConcurrency: options.exportConcurrency ?? loadConfig({}).exportConcurrency,
  })
  app.listen({ port: 0, hostname: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${app.server!.port}`,
    log,
    lifecycle,
    registry,
    cache,
    async stop() {
      await app.stop(true)
    },
  }
}
