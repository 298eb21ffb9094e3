import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { parse } from 'yaml'
import { INDEX_TEMPLATE, PROVISIONING } from './provisioning'

/**
 * Stand-ins for the HTTP APIs of the stack's parts that cannot run on the build machines
 * (Grafana, Logstash, Elasticsearch, Kibana), each on its own port of 127.0.0.1. In health they
 * hold what the stack is provisioned with, read from provisioning/; each fault breaks one thing
 * the way the real product would show it. Their answers follow the products' documented shapes
 * (the pages are cited at each one). A proxy in front of a real Prometheus can spoil its rules
 * answer, and a listener that accepts connections and never answers stands in for a hung service.
 */

export type StackFault =
  | 'datasource-unhealthy'
  | 'dashboard-missing'
  | 'pipeline-absent'
  | 'no-events'
  | 'index-missing'
  | 'field-wrong-type'
  | 'data-view-missing'
  | 'saved-object-missing'
  | 'rule-unhealthy'
  /** What reaches Logstash and the index arrives late: the first searches and stats find nothing yet. */
  | 'lines-late'

export interface StackApis {
  grafana: string
  logstash: string
  elasticsearch: string
  kibana: string
  /** Proxies the real Prometheus; `rule-unhealthy` spoils the answer of /api/v1/rules. */
  prometheus: string
  /** Accepts connections and never answers. */
  hung: string
  faults: Set<StackFault>
  /** Requests received, as "METHOD path" with the stand-in's name first. */
  requests: string[]
  stop(): void
}

const json = (body: unknown, status = 200) => Response.json(body, { status })

/** Today's index of the Logstash output (%{+YYYY.MM.dd}, in UTC as Logstash writes it). */
export function todaysIndex(now = new Date()): string {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '.')
  return `twitter-hashtags-${date}`
}

/** The mapping Elasticsearch gives an index created from the template: its properties as they are. */
function indexMapping(wrongType: boolean): Record<string, any> {
  const properties = structuredClone(JSON.parse(readFileSync(INDEX_TEMPLATE, 'utf8')).template.mappings.properties)
  // A dynamic-mapped status code (an index created before the template) reads as a long too; an
  // address without the template is a keyword, which is the break this fault shows.
  if (wrongType) properties.client.properties.ip = { type: 'keyword', ignore_above: 1024 }
  return properties
}

export async function startStackApis(options: {
  prometheusUrl: string
  grafanaUser: string
  grafanaPassword: string
}): Promise<StackApis> {
  const faults = new Set<StackFault>()
  const requests: string[] = []
  const datasourceUid = parse(
    readFileSync(join(PROVISIONING, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
  ).datasources[0].uid as string
  const dashboardDir = join(PROVISIONING, 'grafana', 'dashboards')
  const dashboards = readdirSync(dashboardDir).map((file) => JSON.parse(readFileSync(join(dashboardDir, file), 'utf8')))
  const pipelineId = parse(readFileSync(join(PROVISIONING, 'logstash', 'config', 'pipelines.yml'), 'utf8'))[0]['pipeline.id']
  const savedObjects = readFileSync(join(PROVISIONING, 'kibana', 'saved-objects.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; id: string; attributes: Record<string, any> })
  const index = todaysIndex()
  const accessLines = 3
  /** With lines-late, the first LATE_ANSWERS asks of each stand-in find nothing yet. */
  const LATE_ANSWERS = 3
  const asked = new Map<string, number>()
  const late = (who: string) => {
    if (!faults.has('lines-late')) return false
    asked.set(who, (asked.get(who) ?? 0) + 1)
    return asked.get(who)! <= LATE_ANSWERS
  }

  const serve = (name: string, fetch: (request: Request, url: URL) => Response | Promise<Response>) =>
    Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(request) {
        const url = new URL(request.url)
        requests.push(`${name} ${request.method} ${url.pathname}`)
        return fetch(request, url)
      },
    })

  // Grafana HTTP API: basic auth with the admin user (securitySchemes "basic" of Grafana's OpenAPI,
  // mirrored at https://raw.githubusercontent.com/api-evangelist/grafana-com/refs/heads/main/openapi/grafana-com-health-api-openapi.yml).
  const grafana = serve('grafana', (request, url) => {
    const expected = `Basic ${Buffer.from(`${options.grafanaUser}:${options.grafanaPassword}`).toString('base64')}`
    if (request.headers.get('authorization') !== expected) return json({ message: 'Unauthorized' }, 401)
    // GET /api/datasources/uid/:uid/health (checkDatasourceHealthWithUID of the same OpenAPI: 200 or
    // 400 badRequestError) answers a HealthCheckResult, {status, message}: status OK when the datasource
    // answers, ERROR with what failed otherwise
    // (https://grafana.com/docs/grafana/v8.5/packages_api/runtime/healthcheckresult/).
    const health = /^\/api\/datasources\/uid\/([^/]+)\/health$/.exec(url.pathname)
    if (health) {
      if (decodeURIComponent(health[1]!) !== datasourceUid) return json({ message: 'Data source not found' }, 404)
      if (faults.has('datasource-unhealthy'))
        return json(
          {
            status: 'ERROR',
            message:
              'Post "http://prometheus:9090/api/v1/query": dial tcp: lookup prometheus on 127.0.0.11:53: no such host - There was an error returned querying the Prometheus API.',
          },
          400,
        )
      return json({ status: 'OK', message: 'Successfully queried the Prometheus API.' })
    }
    // GET /api/dashboards/uid/:uid answers {dashboard, meta}; 404 {message: "Dashboard not found"}
    // (https://grafana.com/docs/grafana/v11.0/developers/http_api/dashboard, "Get dashboard by uid";
    // meta as in https://github.com/grafana/grafana/issues/12266).
    const dashboard = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(url.pathname)
    if (dashboard) {
      const found = dashboards.find((d) => d.uid === decodeURIComponent(dashboard[1]!))
      if (!found || faults.has('dashboard-missing')) return json({ message: 'Dashboard not found' }, 404)
      return json({
        dashboard: { ...found, id: 1, version: 1 },
        meta: {
          type: 'db',
          slug: 'twitter-hashtags-api',
          url: `/d/${found.uid}/twitter-hashtags-api`,
          folderTitle: 'twitter-hashtags',
          provisioned: true,
          provisionedExternalId: 'twitter-hashtags-api.json',
        },
      })
    }
    return json({ message: 'Not found' }, 404)
  })

  // Logstash monitoring API.
  const logstash = serve('logstash', (_request, url) => {
    const node = { host: 'logstash', version: '8.19.22', http_address: '0.0.0.0:9600', id: 'a1b2', name: 'logstash' }
    const running = !faults.has('pipeline-absent')
    // GET /_node/pipelines: {…node, pipelines: {<id>: {workers, batch_size, batch_delay, …}}}
    // (https://www.elastic.co/guide/en/logstash/8.18/node-info-api.html#node-pipeline-info).
    if (url.pathname === '/_node/pipelines')
      return json({
        ...node,
        pipelines: running
          ? {
              [pipelineId]: {
                ephemeral_id: 'c3f3',
                hash: 'b7e1',
                workers: 2,
                batch_size: 125,
                batch_delay: 50,
                config_reload_automatic: false,
                config_reload_interval: 3,
                dead_letter_queue_enabled: false,
              },
            }
          : {},
      })
    // GET /_node/stats/pipelines: {…node, pipelines: {<id>: {events: {in, filtered, out, …}, flow, plugins, reloads, queue}}}
    // (https://www.elastic.co/guide/en/logstash/8.x/node-stats-api.html#pipeline-stats).
    if (url.pathname === '/_node/stats/pipelines') {
      const count = faults.has('no-events') || late('logstash') ? 0 : 42
      return json({
        ...node,
        pipelines: running
          ? {
              [pipelineId]: {
                events: {
                  in: count,
                  filtered: count,
                  out: count,
                  duration_in_millis: count * 2,
                  queue_push_duration_in_millis: 1,
                },
                flow: { input_throughput: { current: count / 10, lifetime: count / 100 } },
                plugins: { inputs: [{ id: 'tcp-5044', name: 'tcp', events: { out: count } }], filters: [], outputs: [] },
                reloads: { successes: 0, failures: 0 },
                queue: { type: 'memory', events_count: 0 },
              },
            }
          : {},
      })
    }
    return json({ path: url.pathname, status: 404, error: { message: 'Not Found' } }, 404)
  })

  // Elasticsearch: a missing index answers 404 with an index_not_found_exception error object, as in
  // https://gist.github.com/renatocron/50ba89168d214e21c49d (and https://github.com/elastic/elasticsearch/issues/1828).
  const missingIndex = (name: string) =>
    json(
      {
        error: {
          root_cause: [{ type: 'index_not_found_exception', reason: `no such index [${name}]`, index: name }],
          type: 'index_not_found_exception',
          reason: `no such index [${name}]`,
          index: name,
        },
        status: 404,
      },
      404,
    )
  const elasticsearch = serve('elasticsearch', async (request, url) => {
    const [, target, endpoint] = url.pathname.split('/')
    const name = decodeURIComponent(target ?? '')
    if (name !== index || faults.has('index-missing')) return missingIndex(name)
    // GET <index>/_mapping: {<index>: {mappings: {properties}}}, without a type name since 7.0
    // (https://www.elastic.co/guide/en/elasticsearch/reference/7.1/indices-get-mapping.html).
    if (endpoint === '_mapping' && request.method === 'GET')
      return json({ [index]: { mappings: { dynamic: 'true', properties: indexMapping(faults.has('field-wrong-type')) } } })
    // POST <index>/_search: hits.total {value, relation}, exact with track_total_hits: true
    // (https://www.elastic.co/guide/en/elasticsearch/reference/7.1/search-request-track-total-hits.html).
    if (endpoint === '_search') {
      const body = (await request.json().catch(() => ({}))) as any
      const action = body?.query?.term?.['event.action'] ?? body?.query?.match?.['event.action']
      const value = typeof action === 'object' ? (action?.value ?? action?.query) : action
      const hits = value === 'http-request' && !late('elasticsearch') ? accessLines : 0
      return json({
        took: 1,
        timed_out: false,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
        hits: { total: { value: hits, relation: 'eq' }, max_score: null, hits: [] },
      })
    }
    return json({ error: 'no handler', status: 400 }, 400)
  })

  // Kibana.
  const present = () =>
    savedObjects.filter(
      (o) =>
        !(faults.has('data-view-missing') && o.type === 'index-pattern') &&
        !(faults.has('saved-object-missing') && o.type === 'dashboard'),
    )
  const kibana = serve('kibana', async (request, url) => {
    // GET /api/data_views: {data_view: [{id, name, namespaces, title, typeMeta}]}
    // (https://www.elastic.co/guide/en/kibana/current/data-views-api-get-all.html).
    if (url.pathname === '/api/data_views' && request.method === 'GET')
      return json({
        data_view: present()
          .filter((o) => o.type === 'index-pattern')
          .map((o) => ({ id: o.id, name: o.attributes.name, namespaces: ['default'], title: o.attributes.title, typeMeta: {} })),
      })
    // POST /api/saved_objects/_bulk_get with [{type, id}]: {saved_objects: [...]} in the order asked,
    // an object not found replaced by {id, type, error: {statusCode: 404, …}}; like every POST it
    // needs kbn-xsrf (https://www.elastic.co/guide/en/kibana/8.9/saved-objects-api-bulk-get.html,
    // https://elastic.co/guide/en/kibana/7.9/using-api.html, "Request headers").
    if (url.pathname === '/api/saved_objects/_bulk_get' && request.method === 'POST') {
      if (request.headers.get('kbn-xsrf') === null)
        return json({ statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' }, 400)
      const asked = (await request.json()) as { type: string; id: string }[]
      const objects = present()
      return json({
        saved_objects: asked.map(({ type, id }) => {
          const found = objects.find((o) => o.type === type && o.id === id)
          return found
            ? { ...found, version: 'WzEsMV0=', namespaces: ['default'], updated_at: new Date().toISOString() }
            : { id, type, error: { statusCode: 404, error: 'Not Found', message: `Saved object [${type}/${id}] not found` } }
        }),
      })
    }
    return json({ statusCode: 404, error: 'Not Found', message: 'Not Found' }, 404)
  })

  // Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/#rules): the real
  // answer, with one rule's health "err" and its lastError when asked to.
  const prometheus = serve('prometheus', async (request, url) => {
    const upstream = await fetch(`${options.prometheusUrl}${url.pathname}${url.search}`, { method: request.method })
    // Re-sent as plain JSON: fetch has already decoded the body that Prometheus may have gzipped.
    if (url.pathname !== '/api/v1/rules' || !faults.has('rule-unhealthy'))
      return new Response(await upstream.text(), {
        status: upstream.status,
        headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
      })
    const body = (await upstream.json()) as any
    const rule = body.data.groups[0].rules[0]
    rule.health = 'err'
    rule.lastError = 'found duplicate series for the match group {path="/*"} on the left hand-side of the operation'
    return json(body)
  })

  const sockets = new Set<Socket>()
  const hung = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }).listen(0, '127.0.0.1')
  await new Promise((resolve) => hung.once('listening', resolve))
  const hungPort = (hung.address() as { port: number }).port

  return {
    grafana: grafana.url.origin,
    logstash: logstash.url.origin,
    elasticsearch: elasticsearch.url.origin,
    kibana: kibana.url.origin,
    prometheus: prometheus.url.origin,
    hung: `http://127.0.0.1:${hungPort}`,
    faults,
    requests,
    stop() {
      for (const server of [grafana, logstash, elasticsearch, kibana, prometheus]) server.stop(true)
      for (const socket of sockets) socket.destroy()
      hung.close()
    },
  }
}
