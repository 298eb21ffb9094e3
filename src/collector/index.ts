import type { Config } from '../config'
import type { Database } from '../db/sql'
import { type Clock, systemClock } from '../domain/clock'
import type { Logger } from '../observability/logger'
import type { CollectorMetrics } from '../observability/metrics'
import { collect, type PageProgress, type RunSummary } from './run'
import { createSampleSource, SAMPLE_FILE } from './sample-source'
import type { SearchSource } from './source'
import { createXApiSource } from './x-api-source'

/**
 * The collector as the service runs it: once at start-up, then every COLLECT_INTERVAL, never two
 * runs at once in this process (and, through the named lock, in any other).
 */

export interface Collector {
  /** Starts a run, or joins the one in progress. */
  run(): Promise<RunSummary>
  /** Runs every `intervalMs` from now on. */
  schedule(intervalMs: number): void
  /** Stops the schedule, interrupts a run between two pages and waits for it. */
  stop(): Promise<void>
}

function createSource(config: Config['collector'], logger: Logger, clock: Clock): SearchSource {
  if (config.source === 'twitter') return createXApiSource(config)
  logger.warn(
    { event: { action: 'collector-sample-data' } },
    'TWITTER_BEARER_TOKEN is not set: loading the bundled sample data (synthetic tweets, not from X)',
  )
  return createSampleSource(SAMPLE_FILE, clock(), clock)
}

export function createCollector(deps: {
  db: Database
  config: Config['collector']
  logger: Logger
  metrics: CollectorMetrics
  source?: SearchSource
  onPage?: (progress: PageProgress) => void
  random?: () => number
  onCommit?: () => void
  /** The date the collector lives at; the system's unless a test pins it. */
  clock?: Clock
}): Collector {
  const clock = deps.clock ?? systemClock
  const source = deps.source ?? createSource(deps.config, deps.logger, clock)
  const abort = new AbortController()
  let current: Promise<RunSummary> | null = null
  let timer: ReturnType<typeof setInterval> | null = null

  const run = () => {
    current ??= collect({ ...deps, source, clock }, abort.signal)
      .catch((error: unknown) => {
        // Only the lock connection and the hashtag registration can throw here: the database is away.
        deps.logger.error({ err: error, event: { action: 'collection-failed' } }, 'collection could not start')
        deps.metrics.runs.inc({ outcome: 'failed' })
        return {
          outcome: 'failed',
          source: source.name,
          hashtags: [],
          durationMs: 0,
          reason: (error as Error).message,
        } satisfies RunSummary
      })
      .finally(() => {
        current = null
      })
    return current
  }

  return {
    run,
    schedule(intervalMs) {
      timer = setInterval(() => void run(), intervalMs)
    },
    async stop() {
      if (timer !== null) clearInterval(timer)
      abort.abort()
      await current
    },
  }
}
