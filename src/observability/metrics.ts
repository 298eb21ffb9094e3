import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/**
 * The service's own metrics (collector, pool, log shipping, stored tweets), in the one prom-client
 * registry that /metrics serves (http/metrics.ts adds the HTTP and process metrics). The manual
 * (docs/observability.md, docs/collector.md) lists every name.
 */

/** The pool's state as the metrics read it (db/database.ts gives it). */
export interface PoolStats {
  inUse: number
  idle: number
  queued: number
}

export function createCollectorMetrics(registry: Registry) {
  return {
    runs: new Counter({
      name: 'twitter_collector_runs_total',
      help: 'Collection runs by outcome (success, partial, failed, skipped).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    tweetsStored: new Counter({
      name: 'twitter_collector_tweets_stored_total',
      help: 'Rows of (tweet, hashtag) the collector added, by hashtag.',
      labelNames: ['hashtag'] as const,
      registers: [registry],
    }),
    tweetsSkipped: new Counter({
      name: 'twitter_collector_tweets_skipped_total',
      help: 'Tweets of stored pages left out because they could not be stored, by reason (see the collector-tweets-skipped log line for their ids).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    apiRequests: new Counter({
      name: 'twitter_collector_api_requests_total',
      help: 'Requests to the X API recent search, by HTTP status ("error" when no response arrived).',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    lookupPosts: new Counter({
      name: 'twitter_collector_lookup_posts_total',
      help: 'Posts read by the X API post lookup of the metrics refresh; each is billed on pay-per-use access.',
      registers: [registry],
    }),
    rateLimitRemaining: new Gauge({
      name: 'twitter_collector_rate_limit_remaining',
      help: 'Requests left in the current X API rate-limit window, as the last response said.',
      registers: [registry],
    }),
    rateLimitLimit: new Gauge({
      name: 'twitter_collector_rate_limit_limit',
      help: 'Requests allowed per X API rate-limit window, as the last response said.',
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'twitter_collector_last_success_timestamp_seconds',
      help: 'Unix time at which the last successful collection run ended.',
      registers: [registry],
    }),
    runDuration: new Histogram({
      name: 'twitter_collector_run_duration_seconds',
      help: 'Duration of collection runs.',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
  }
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>

/** How often the collector runs (0: only at start-up); the staleness alert compares against it. */
function registerCollectorSchedule(registry: Registry, intervalMs: number | null): void {
  new Gauge({
    name: 'twitter_collector_interval_seconds',
    help: 'Configured COLLECT_INTERVAL in seconds; 0 when collections run only at start-up.',
    registers: [registry],
  }).set((intervalMs ?? 0) / 1000)
}

/** Pool state, read at scrape time. */
function registerPoolMetrics(registry: Registry, stats: () => PoolStats, size: number): void {
  new Gauge({
    name: 'twitter_db_pool_connections',
    help: 'MySQL pool connections by state: in_use (lent to a query) or idle.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const now = stats()
      this.set({ state: 'in_use' }, now.inUse)
      this.set({ state: 'idle' }, now.idle)
    },
  })
  new Gauge({
    name: 'twitter_db_pool_queued_requests',
    help: 'Queries waiting for a pooled MySQL connection.',
    registers: [registry],
    collect() {
      this.set(stats().queued)
    },
  })
  new Gauge({
    name: 'twitter_db_pool_size',
    help: 'Largest number of connections the MySQL pool opens.',
    registers: [registry],
  }).set(size)
}

export function createLogShippingMetrics(registry: Registry) {
  return {
    dropped: new Counter({
      name: 'twitter_log_lines_dropped_total',
      help: 'Log lines dropped because Logstash could not take them (down, slow or not reading).',
      registers: [registry],
    }),
    connected: new Gauge({
      name: 'twitter_logstash_connected',
      help: '1 while the TCP connection to Logstash is up, 0 otherwise.',
      registers: [registry],
    }),
  }
}

/**
 * Tweets stored per tracked hashtag, read from the database at scrape time: the stored total, which
 * survives restarts, unlike the collector's counter of rows added by this process.
 */
function registerStoredTweets(registry: Registry, read: () => Promise<{ hashtag: string; count: number }[]>): void {
  new Gauge({
    name: 'twitter_hashtag_tweets',
    help: 'Tweets stored under each tracked hashtag.',
    labelNames: ['hashtag'] as const,
    registers: [registry],
    async collect() {
      try {
        for (const { hashtag, count } of await read()) this.set({ hashtag }, count)
      } catch {
        // The database is away: keep the last values rather than failing the whole scrape.
      }
    },
  })
}

/** The service's gauges over the database and the collector schedule, as the process registers them. */
export function registerServiceMetrics(
  registry: Registry,
  deps: {
    pool: () => PoolStats
    poolSize: number
    storedTweets: () => Promise<{ hashtag: string; count: number }[]>
    intervalMs: number | null
  },
): void {
  registerPoolMetrics(registry, deps.pool, deps.poolSize)
  registerStoredTweets(registry, deps.storedTweets)
  registerCollectorSchedule(registry, deps.intervalMs)
}
