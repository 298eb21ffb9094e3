import { Elysia } from 'elysia'
import { Counter, collectDefaultMetrics, Histogram, type Registry } from 'prom-client'
import { routeLabel, sentStatus } from './answer'

/**
 * /metrics: the HTTP metrics and prom-client's default process metrics, recorded by two hooks,
 * beside the service's own metrics in the same registry (observability/metrics.ts).
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
