import { Elysia } from 'elysia'
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client'
import type { PoolStats } from '../db/database'
import { routeLabel, sentStatus } from './answer'

/**
 * Metrics, all in one prom-client registry served at /metrics: HTTP requests, prom-client's
 * default process metrics and the service's own. The README lists every name.
 */

export const METRICS_PATH = '/metrics'

/** Seconds. Fine at the low end, where this API lives, with 0.5 s for the p99 alert. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * http_requests_total and http_request_duration_seconds, labelled method, path (the route
 * template: unmatched paths reach the app's catch-all route, so they share one value whatever the
 * URL) and status — the names and labels elysia-prometheus uses, which dashboards expect.
 *
 * Not elysia-prometheus itself: its hooks hand Elysia's whole context to helper functions, and
 * Elysia then builds every part of the context (cookies, headers, URL) for every request, about a
 * third of the cost of a cached answer. These hooks name only what they read.
 */
export function metricsPlugin(registry: Registry) {
  collectDefaultMetrics({ register: registry })
  const labelNames = ['method', 'path', 'status'] as const
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to having sent its response, by method, route template and status.',
    labelNames,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  })
  // The children of each label combination, kept: prom-client hashes a label object on every
  // call otherwise. Bounded: methods and route templates are few, statuses too.
  const series = new Map<string, { counter: ReturnType<typeof requests.labels>; histogram: ReturnType<typeof duration.labels> }>()
  const seriesOf = (method: string, path: string, status: number) => {
    const key = `${method} ${status} ${path}`
    let found = series.get(key)
    if (found === undefined) {
      const labels = { method, path, status: String(status) }
      found = { counter: requests.labels(labels), histogram: duration.labels(labels) }
      series.set(key, found)
    }
    return found
  }
  const started = new WeakMap<Request, number>()
  return new Elysia({ name: 'metrics' })
    .onRequest(({ request }) => {
      started.set(request, performance.now())
    })
    .onAfterResponse({ as: 'global' }, ({ request, route, set, responseValue }) => {
      const start = started.get(request)
      if (start === undefined || route === METRICS_PATH) return
      const target = seriesOf(request.method, routeLabel(route), sentStatus(set, responseValue))
      target.counter.inc()
      target.histogram.observe((performance.now() - start) / 1000)
    })
    .get(
      METRICS_PATH,
      async () => new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }),
      {
        detail: { hide: true },
      },
    )
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
