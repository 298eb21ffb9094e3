import { Elysia } from 'elysia'
import { Counter, collectDefaultMetrics, Histogram, type Registry } from 'prom-client'
import { type BodyEnd, bodyEnd, routeLabel, sentStatus } from './answer'

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
  // body: complete, or cut for a streamed answer (an export) that ended before its last byte.
  const labelNames = ['method', 'path', 'status', 'body'] as const
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template, status and whether the body was sent whole (body=complete) or cut short (cut).',
    labelNames,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to having sent the last byte of its response, by method, route template, status and body.',
    labelNames,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  })
  // The children of each label combination, kept: prom-client hashes a label object on every
  // call otherwise. Bounded: methods and route templates are few, statuses too.
  const series = new Map<string, { counter: ReturnType<typeof requests.labels>; histogram: ReturnType<typeof duration.labels> }>()
  const seriesOf = (method: string, path: string, status: number, body: BodyEnd) => {
    const key = `${method} ${status} ${body} ${path}`
    let found = series.get(key)
    if (found === undefined) {
      const labels = { method, path, status: String(status), body }
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
      const status = sentStatus(set, responseValue)
      const record = (body: BodyEnd) => {
        const target = seriesOf(request.method, routeLabel(route), status, body)
        target.counter.inc()
        target.histogram.observe((performance.now() - start) / 1000)
      }
      // A streamed body (an export) is measured to its last byte.
      const streamed = bodyEnd(request)
      if (streamed === null) record('complete')
      else void streamed.then(record)
    })
    .get(
      METRICS_PATH,
      async () => new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } }),
      {
        detail: { hide: true },
      },
    )
}
