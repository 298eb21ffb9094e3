import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/**
 * The service's own metrics, beside the HTTP ones elysia-prometheus keeps. Names share a prefix per
 * part of the service; the README lists them all.
 */

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
