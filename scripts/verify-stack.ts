/**
 * Checks a running twitter-hashtags stack end to end (run it after scripts/start.sh, through
 * scripts/verify-stack.sh) and prints one line per check: ok, or FAILED and why. Exits 1 naming
 * the failed checks, 2 when the repository's own files cannot be read.
 *
 * What each check expects comes from the files the stack is provisioned from, never from a copy
 * kept here: the scrape job and rule groups from provisioning/prometheus, the datasource and
 * dashboard uids from provisioning/grafana, the pipeline id and index name from
 * provisioning/logstash, the field types from its index template, the Kibana ids from
 * provisioning/kibana/saved-objects.ndjson. Host ports come from docker-compose.yml, with the
 * values of .env and the environment filled in as Compose does; credentials from .env. Every
 * URL can be overridden by the environment (API_URL, PROMETHEUS_URL, GRAFANA_URL,
 * LOGSTASH_API_URL, ELASTICSEARCH_URL, KIBANA_URL).
 *
 * Only Bun is needed (no jq, no node_modules). Every request has a deadline
 * (VERIFY_REQUEST_TIMEOUT, seconds, default 5) and a byte cap, the checks run side by side, and
 * the whole run is bounded (VERIFY_TIMEOUT, seconds, default 60): a service that accepts
 * connections and never answers fails its check, it never hangs the run. Checks of what arrives
 * through an asynchronous pipeline (Logstash's event counts, the index's access lines and mapping)
 * ask again once a second while they fail, for up to VERIFY_SETTLE (seconds, default 30): a stack
 * verified right after its first start has had no time to deliver and index a line yet.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')
const MAX_BODY_BYTES = 16 * 1024 * 1024

class ConfigError extends Error {}

// --- Settings: environment over .env over the compose file's defaults -------------------------

/** KEY=VALUE lines of a Compose env file; quotes around a value are removed, comments skipped. */
export function parseEnvFile(text: string): Map<string, string> {
  const values = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!match) continue
    let value = match[2]!.trim()
    const quoted = /^(['"])(.*)\1$/.exec(value)
    if (quoted) value = quoted[2]!
    else value = value.replace(/\s+#.*$/, '')
    values.set(match[1]!, value)
  }
  return values
}

export interface Settings {
  /** A variable as Compose sees it: the environment first, then .env; empty counts as unset. */
  value(name: string): string | undefined
}

export function settings(env: Record<string, string | undefined>, envFile: string): Settings {
  const dotenv = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')) : new Map<string, string>()
  return {
    value(name) {
      const value = Object.hasOwn(env, name) ? env[name] : dotenv.get(name)
      return value === undefined || value === '' ? undefined : value
    },
  }
}

/** Compose's ${VAR}, ${VAR:-default} and ${VAR-default} (the :? and ? forms give no default). */
export function interpolate(text: string, config: Settings): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op?: string, rest?: string) => {
    const value = config.value(name)
    if (value !== undefined) return value
    return op === ':-' || op === '-' ? (rest ?? '') : ''
  })
}

/**
 * The host address of a service's container port in docker-compose.yml ("127.0.0.1:9090:9090",
 * "127.0.0.1:${API_PORT:-5000}-${API_PORT_LAST:-5009}:5000"): the first port of a range.
 */
export function publishedUrl(compose: any, service: string, containerPort: number, config: Settings): string | undefined {
  for (const entry of compose?.services?.[service]?.ports ?? []) {
    const port = interpolate(String(typeof entry === 'object' ? `${entry.published}:${entry.target}` : entry), config)
    const split = port.lastIndexOf(':')
    if (Number(port.slice(split + 1).split('/')[0]) !== containerPort) continue
    const published = port.slice(0, split)
    const hostSplit = published.lastIndexOf(':')
    const host = hostSplit === -1 || published.slice(0, hostSplit) === '0.0.0.0' ? '127.0.0.1' : published.slice(0, hostSplit)
    const hostPort = published.slice(hostSplit + 1).split('-')[0]
    if (hostPort && /^\d+$/.test(hostPort)) return `http://${host}:${hostPort}`
  }
  return undefined
}

// --- The provisioning files: what the stack is supposed to hold -------------------------------

const read = (path: string) => {
  try {
    return readFileSync(join(ROOT, path), 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`)
  }
}
const yaml = (path: string): any => Bun.YAML.parse(read(path))
const filesIn = (dir: string, pattern: RegExp) =>
  readdirSync(join(ROOT, dir))
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => `${dir}/${name}`)

export interface Expected {
  scrapeJobs: string[]
  ruleGroups: { name: string; rules: string[] }[]
  datasourceUids: string[]
  dashboardUids: string[]
  pipelineIds: string[]
  /** The Elasticsearch output's index, with Logstash's %{+date} still in it. */
  indexPattern: string
  /** Field path → type, every field the index template maps (objects left out). */
  templateFields: Map<string, string>
  dataViewIds: string[]
  savedObjects: { type: string; id: string }[]
}

/** Leaf fields of an Elasticsearch mapping's properties: path → type. */
export function leafFields(properties: Record<string, any> | undefined, prefix = ''): Map<string, string> {
  const fields = new Map<string, string>()
  for (const [name, mapping] of Object.entries(properties ?? {})) {
    const path = prefix === '' ? name : `${prefix}.${name}`
    if (mapping?.properties !== undefined) {
      for (const [child, type] of leafFields(mapping.properties, path)) fields.set(child, type)
    } else if (typeof mapping?.type === 'string' && mapping.type !== 'object' && mapping.type !== 'nested') {
      fields.set(path, mapping.type)
    }
  }
  return fields
}

export function loadExpected(): Expected {
  const prometheus = yaml('provisioning/prometheus/prometheus.yml')
  const ruleGroups = filesIn('provisioning/prometheus/rules', /\.ya?ml$/).flatMap((file) =>
    (yaml(file)?.groups ?? []).map((group: any) => ({
      name: String(group.name),
      rules: (group.rules ?? []).map((rule: any) => String(rule.alert ?? rule.record)),
    })),
  )
  const datasourceUids = filesIn('provisioning/grafana/provisioning/datasources', /\.ya?ml$/).flatMap((file) =>
    (yaml(file)?.datasources ?? []).map((source: any) => String(source.uid)),
  )
  const dashboardUids = filesIn('provisioning/grafana/dashboards', /\.json$/).map((file) => String(JSON.parse(read(file)).uid))
  const pipelineIds = (yaml('provisioning/logstash/config/pipelines.yml') ?? []).map((p: any) => String(p['pipeline.id']))
  const outputs = filesIn('provisioning/logstash/pipeline', /\.conf$/)
    .map(read)
    .join('\n')
    .match(/\bindex\s*=>\s*"([^"]+)"/)
  if (!outputs) throw new ConfigError('provisioning/logstash/pipeline names no Elasticsearch index (index => "...")')
  const template = JSON.parse(read('provisioning/logstash/templates/twitter-hashtags.json'))
  const objects = read('provisioning/kibana/saved-objects.ndjson')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { type: string; id: string })
  const expected: Expected = {
    scrapeJobs: (prometheus?.scrape_configs ?? []).map((job: any) => String(job.job_name)),
    ruleGroups,
    datasourceUids,
    dashboardUids,
    pipelineIds,
    indexPattern: outputs[1]!,
    templateFields: leafFields(template?.template?.mappings?.properties),
    dataViewIds: objects.filter((o) => o.type === 'index-pattern').map((o) => o.id),
    savedObjects: objects.map(({ type, id }) => ({ type, id })),
  }
  for (const [what, list] of Object.entries({
    'scrape jobs': expected.scrapeJobs,
    'rule groups': expected.ruleGroups,
    'Grafana datasources': expected.datasourceUids,
    'Grafana dashboards': expected.dashboardUids,
    'Logstash pipelines': expected.pipelineIds,
    'Kibana data views': expected.dataViewIds,
  })) {
    if (list.length === 0) throw new ConfigError(`the provisioning files declare no ${what}`)
  }
  return expected
}

/** Logstash's %{+yyyy.MM.dd} (Joda date format, in UTC as Logstash writes it) for a moment. */
export function indexFor(pattern: string, now: Date): string {
  const name = pattern.replace(/%\{\+([^}]+)\}/g, (_, format: string) =>
    format.replace(/yyyy|YYYY|MM|dd/g, (token) => {
      if (token === 'MM') return String(now.getUTCMonth() + 1).padStart(2, '0')
      if (token === 'dd') return String(now.getUTCDate()).padStart(2, '0')
      return String(now.getUTCFullYear())
    }),
  )
  if (name.includes('%{')) throw new ConfigError(`the index name ${pattern} depends on event fields: it cannot be named ahead`)
  return name
}

// --- HTTP with a deadline and a byte cap ------------------------------------------------------

class CheckFailure extends Error {}

interface Answer {
  status: number
  body: any
}

interface Http {
  /** The JSON answer of a request; throws a CheckFailure saying why there is none. */
  json(url: string, init?: RequestInit): Promise<Answer>
}

function http(requestTimeoutMs: number, run: AbortSignal): Http {
  return {
    async json(url, init = {}) {
      const deadline = AbortSignal.timeout(requestTimeoutMs)
      const signal = AbortSignal.any([deadline, run])
      const method = init.method ?? 'GET'
      try {
        const response = await fetch(url, { ...init, signal, redirect: 'manual' })
        const reader = response.body?.getReader()
        const chunks: Uint8Array[] = []
        let size = 0
        while (reader) {
          const { done, value } = await reader.read()
          if (done) break
          size += value.byteLength
          if (size > MAX_BODY_BYTES) {
            await reader.cancel()
            throw new CheckFailure(`${method} ${url}: the answer exceeds ${MAX_BODY_BYTES / 1024 / 1024} MiB`)
          }
          chunks.push(value)
        }
        const text = Buffer.concat(chunks).toString('utf8')
        let body: any = text
        try {
          body = text === '' ? null : JSON.parse(text)
        } catch {
          // Not JSON: kept as text, for the message.
        }
        return { status: response.status, body }
      } catch (error) {
        if (error instanceof CheckFailure) throw error
        if (run.aborted) throw new CheckFailure(`${method} ${url}: the run's time bound ran out first`)
        if (deadline.aborted) throw new CheckFailure(`${method} ${url}: no answer within ${requestTimeoutMs / 1000} s`)
        const code = (error as Error & { code?: string }).code
        const cause =
          code === 'ECONNREFUSED'
            ? 'connection refused: is the service up? (docker compose ps)'
            : (code ?? (error as Error).message)
        throw new CheckFailure(`${method} ${url}: ${cause}`)
      }
    },
  }
}

/** A short, single-line account of an unexpected answer. */
function unexpected(what: string, answer: Answer): CheckFailure {
  const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
  return new CheckFailure(
    `${what}: HTTP ${answer.status} ${String(body ?? '')
      .replace(/\s+/g, ' ')
      .slice(0, 300)}`,
  )
}

const expectOk = (what: string, answer: Answer): any => {
  if (answer.status !== 200 || answer.body === null || typeof answer.body !== 'object') throw unexpected(what, answer)
  return answer.body
}

// --- The checks ------------------------------------------------------------------------------

export interface Urls {
  api: string
  prometheus: string
  grafana: string
  logstash: string | undefined
  elasticsearch: string
  kibana: string
}

interface Check {
  name: string
  run(): Promise<string>
  /**
   * The check reads the end of an asynchronous pipeline (a log line through Logstash into the
   * index, refreshed every second): its failure is asked again, once a second, until VERIFY_SETTLE
   * has passed, instead of failing the first time it looks before the data has arrived.
   */
  eventual?: true
}

function checks(
  urls: Urls,
  expected: Expected,
  grafanaAuth: { user: string; password: string | undefined },
  index: string,
  client: Http,
): Check[] {
  const grafanaHeaders = (): Record<string, string> => {
    if (grafanaAuth.password === undefined)
      throw new CheckFailure('GRAFANA_ADMIN_PASSWORD is set neither in .env nor in the environment (scripts/start.sh writes it)')
    return { authorization: `Basic ${Buffer.from(`${grafanaAuth.user}:${grafanaAuth.password}`).toString('base64')}` }
  }
  const grafana = async (path: string, what: string) => {
    const answer = await client.json(`${urls.grafana}${path}`, { headers: grafanaHeaders() })
    if (answer.status === 401 || answer.status === 403)
      throw new CheckFailure(
        `Grafana refused user "${grafanaAuth.user}" (HTTP ${answer.status}): Grafana keeps the admin password of its first start, in its volume; is GRAFANA_ADMIN_PASSWORD in .env still that one?`,
      )
    return { answer, what }
  }
  const logstash = (): string => {
    if (urls.logstash === undefined)
      throw new CheckFailure(
        "docker-compose.yml publishes no host port for Logstash's monitoring API (container port 9600): publish it on 127.0.0.1, or set LOGSTASH_API_URL",
      )
    return urls.logstash
  }

  return [
    {
      name: 'api-ready',
      async run() {
        const url = `${urls.api}/health/ready`
        const answer = await client.json(url)
        if (answer.status !== 200) throw unexpected(`GET ${url}`, answer)
        return `GET ${url}: 200`
      },
    },
    {
      name: 'api-data',
      async run() {
        const url = `${urls.api}/api/v1/resources/tweets/all?limit=1`
        const body = expectOk(`GET ${url}`, await client.json(url))
        if (!Array.isArray(body.data)) throw new CheckFailure(`GET ${url}: the answer has no data array`)
        if (body.data.length === 0)
          throw new CheckFailure(`GET ${url}: no tweets stored (data is empty): has a collection run? see the app's log`)
        return `GET ${url}: tweets are served`
      },
    },
    {
      name: 'prometheus-target',
      async run() {
        const url = `${urls.prometheus}/api/v1/targets?state=active`
        const targets: any[] = expectOk(`GET ${url}`, await client.json(url))?.data?.activeTargets ?? []
        const found: string[] = []
        for (const job of expected.scrapeJobs) {
          const own = targets.filter((t) => t?.labels?.job === job)
          if (own.length === 0)
            throw new CheckFailure(
              `Prometheus has no target of job "${job}" (jobs it scrapes: ${[...new Set(targets.map((t) => t?.labels?.job))].join(', ') || 'none'})`,
            )
          const down = own.filter((t) => t.health !== 'up')
          if (down.length > 0)
            throw new CheckFailure(
              down
                .map((t) => `${job} target ${t.labels.instance} is ${t.health}${t.lastError ? `: ${t.lastError}` : ''}`)
                .join('; '),
            )
          found.push(`${job} (${own.length} up)`)
        }
        return `targets ${found.join(', ')}`
      },
    },
    {
      name: 'prometheus-rules',
      async run() {
        const url = `${urls.prometheus}/api/v1/rules`
        const groups: any[] = expectOk(`GET ${url}`, await client.json(url))?.data?.groups ?? []
        const problems: string[] = []
        let count = 0
        for (const group of expected.ruleGroups) {
          const loaded = groups.find((g) => g?.name === group.name)
          if (!loaded) {
            problems.push(`rule group "${group.name}" is not loaded`)
            continue
          }
          for (const name of group.rules) {
            const rule = (loaded.rules ?? []).find((r: any) => r?.name === name)
            count++
            if (!rule) problems.push(`rule ${name} is not loaded`)
            else if (rule.health !== 'ok')
              problems.push(
                rule.health === 'unknown'
                  ? `rule ${name} is not evaluated yet (health unknown): run again after an evaluation interval`
                  : `rule ${name} has health ${rule.health}${rule.lastError ? `: ${rule.lastError}` : ''}`,
              )
          }
        }
        if (problems.length > 0) throw new CheckFailure(problems.join('; '))
        return `${count} rules in ${expected.ruleGroups.length} groups, all health ok`
      },
    },
    {
      name: 'grafana-datasource',
      async run() {
        for (const uid of expected.datasourceUids) {
          const { answer } = await grafana(`/api/datasources/uid/${encodeURIComponent(uid)}/health`, uid)
          if (answer.body?.status !== 'OK')
            throw new CheckFailure(
              answer.status === 404
                ? `datasource "${uid}" does not exist in Grafana`
                : `datasource "${uid}" is not healthy (HTTP ${answer.status}, status ${answer.body?.status ?? 'none'}): ${answer.body?.message ?? ''}`.trim(),
            )
        }
        return `datasource ${expected.datasourceUids.map((u) => `"${u}"`).join(', ')} healthy`
      },
    },
    {
      name: 'grafana-dashboard',
      async run() {
        for (const uid of expected.dashboardUids) {
          const { answer } = await grafana(`/api/dashboards/uid/${encodeURIComponent(uid)}`, uid)
          if (answer.status === 404) throw new CheckFailure(`dashboard "${uid}" is not in Grafana (HTTP 404)`)
          const body = expectOk(`GET ${urls.grafana}/api/dashboards/uid/${uid}`, answer)
          if (body.dashboard?.uid !== uid) throw new CheckFailure(`dashboard "${uid}": Grafana answered another dashboard`)
          if (body.meta?.provisioned !== true)
            throw new CheckFailure(`dashboard "${uid}" exists but is not the provisioned one (meta.provisioned is not true)`)
        }
        return `dashboard ${expected.dashboardUids.map((u) => `"${u}"`).join(', ')} provisioned`
      },
    },
    {
      name: 'logstash-pipeline',
      async run() {
        const url = `${logstash()}/_node/pipelines`
        const pipelines = expectOk(`GET ${url}`, await client.json(url))?.pipelines ?? {}
        const missing = expected.pipelineIds.filter((id) => !Object.hasOwn(pipelines, id))
        if (missing.length > 0)
          throw new CheckFailure(
            `pipeline ${missing.map((id) => `"${id}"`).join(', ')} is not running (running: ${Object.keys(pipelines).join(', ') || 'none'})`,
          )
        return `pipeline ${expected.pipelineIds.map((id) => `"${id}"`).join(', ')} running`
      },
    },
    {
      name: 'logstash-events',
      eventual: true,
      async run() {
        const url = `${logstash()}/_node/stats/pipelines`
        const pipelines = expectOk(`GET ${url}`, await client.json(url))?.pipelines ?? {}
        const flows: string[] = []
        for (const id of expected.pipelineIds) {
          const events = Object.hasOwn(pipelines, id) ? pipelines[id]?.events : undefined
          if (events === undefined) throw new CheckFailure(`pipeline "${id}" has no stats (is it running?)`)
          const [received, sent] = [Number(events.in ?? 0), Number(events.out ?? 0)]
          if (!(received > 0 && sent > 0))
            throw new CheckFailure(
              `no events through pipeline "${id}" (in ${received}, out ${sent}): does the app ship its log lines (LOGSTASH_HOST)?`,
            )
          flows.push(`"${id}" in ${received}, out ${sent}`)
        }
        return `events flowing: ${flows.join(', ')}`
      },
    },
    {
      name: 'elasticsearch-index',
      eventual: true,
      async run() {
        const url = `${urls.elasticsearch}/${encodeURIComponent(index)}/_search`
        const answer = await client.json(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ size: 0, track_total_hits: true, query: { term: { 'event.action': 'http-request' } } }),
        })
        if (answer.status === 404)
          throw new CheckFailure(`today's index ${index} does not exist: ${answer.body?.error?.reason ?? ''}`.trim())
        const hits = Number(expectOk(`POST ${url}`, answer)?.hits?.total?.value ?? 0)
        if (!(hits > 0)) throw new CheckFailure(`index ${index} holds no access lines (event.action:http-request)`)
        return `index ${index}: ${hits} access lines (event.action:http-request)`
      },
    },
    {
      name: 'elasticsearch-mapping',
      eventual: true,
      async run() {
        const url = `${urls.elasticsearch}/${encodeURIComponent(index)}/_mapping`
        const answer = await client.json(url)
        if (answer.status === 404) throw new CheckFailure(`today's index ${index} does not exist`)
        const body = expectOk(`GET ${url}`, answer)
        const mapped = leafFields((body[index] ?? (Object.values(body)[0] as any))?.mappings?.properties)
        const wrong: string[] = []
        for (const [field, type] of expected.templateFields) {
          const actual = mapped.get(field)
          if (actual !== type) wrong.push(`${field} is ${actual ?? 'not mapped'}, the template says ${type}`)
        }
        if (wrong.length > 0)
          throw new CheckFailure(
            `index ${index} is not mapped as provisioning/logstash/templates says (was it created before the template?): ${wrong.join('; ')}`,
          )
        return `index ${index}: all ${expected.templateFields.size} fields of the template mapped with its types`
      },
    },
    {
      name: 'kibana-data-view',
      async run() {
        const url = `${urls.kibana}/api/data_views`
        const views: any[] = expectOk(`GET ${url}`, await client.json(url))?.data_view ?? []
        const missing = expected.dataViewIds.filter((id) => !views.some((view) => view?.id === id))
        if (missing.length > 0)
          throw new CheckFailure(
            `data view ${missing.map((id) => `"${id}"`).join(', ')} is missing: scripts/start.sh imports provisioning/kibana/saved-objects.ndjson`,
          )
        return `data view ${expected.dataViewIds.map((id) => `"${id}"`).join(', ')} present`
      },
    },
    {
      name: 'kibana-saved-objects',
      async run() {
        const url = `${urls.kibana}/api/saved_objects/_bulk_get`
        const body = expectOk(
          `POST ${url}`,
          await client.json(url, {
            method: 'POST',
            // Kibana refuses a POST without kbn-xsrf.
            headers: { 'content-type': 'application/json', 'kbn-xsrf': 'true' },
            body: JSON.stringify(expected.savedObjects.map(({ type, id }) => ({ type, id }))),
          }),
        )
        const answered: any[] = body.saved_objects ?? []
        const missing = expected.savedObjects.filter(
          ({ type, id }) => !answered.some((o) => o?.type === type && o?.id === id && o?.error === undefined),
        )
        if (missing.length > 0)
          throw new CheckFailure(
            `missing: ${missing.map((o) => `${o.type}/${o.id}`).join(', ')}: scripts/start.sh imports provisioning/kibana/saved-objects.ndjson`,
          )
        return `all ${expected.savedObjects.length} saved objects present`
      },
    },
  ]
}

// --- The run -----------------------------------------------------------------------------------

/** An eventual check, asked again once a second while it fails, for at most `settleMs` or until the run's bound. */
async function settled(check: Check, settleMs: number, signal: AbortSignal): Promise<string> {
  const started = performance.now()
  for (let attempt = 1; ; attempt++) {
    try {
      return await check.run()
    } catch (error) {
      const waited = performance.now() - started
      if (!(error instanceof CheckFailure) || waited + POLL_MS > settleMs || signal.aborted) {
        if (error instanceof CheckFailure && attempt > 1)
          throw new CheckFailure(`${error.message} (still so after ${attempt} tries over ${Math.round(waited / 1000)} s)`)
        throw error
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, POLL_MS)
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true })
      })
    }
  }
}

const POLL_MS = 1_000

function seconds(config: Settings, name: string, fallback: number): number {
  const raw = config.value(name)
  if (raw === undefined) return fallback * 1000
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${name} must be a number of seconds above 0, not "${raw}"`)
  return value * 1000
}

export async function main(env: Record<string, string | undefined> = process.env): Promise<number> {
  let config: Settings
  let expected: Expected
  let urls: Urls
  let requestTimeoutMs: number
  let runTimeoutMs: number
  let settleMs: number
  let index: string
  try {
    config = settings(env, env.VERIFY_ENV_FILE ?? join(ROOT, '.env'))
    expected = loadExpected()
    index = indexFor(expected.indexPattern, new Date())
    const compose = yaml('docker-compose.yml')
    const url = (name: string, service: string, port: number, fallback?: string) =>
      (config.value(name) ?? publishedUrl(compose, service, port, config) ?? fallback)?.replace(/\/+$/, '')
    urls = {
      api: url('API_URL', 'app', 5000, 'http://127.0.0.1:5000')!,
      prometheus: url('PROMETHEUS_URL', 'prometheus', 9090, 'http://127.0.0.1:9090')!,
      grafana: url('GRAFANA_URL', 'grafana', 3000, 'http://127.0.0.1:3000')!,
      logstash: url('LOGSTASH_API_URL', 'logstash', 9600),
      elasticsearch: url('ELASTICSEARCH_URL', 'elasticsearch', 9200, 'http://127.0.0.1:9200')!,
      kibana: url('KIBANA_URL', 'kibana', 5601, 'http://127.0.0.1:5601')!,
    }
    requestTimeoutMs = seconds(config, 'VERIFY_REQUEST_TIMEOUT', 5)
    runTimeoutMs = seconds(config, 'VERIFY_TIMEOUT', 60)
    settleMs = seconds(config, 'VERIFY_SETTLE', 30)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`verify-stack: ${error.message}`)
    return 2
  }

  const controller = new AbortController()
  const bound = setTimeout(() => controller.abort(), runTimeoutMs)
  const client = http(requestTimeoutMs, controller.signal)
  const grafanaAuth = { user: config.value('GRAFANA_ADMIN_USER') ?? 'admin', password: config.value('GRAFANA_ADMIN_PASSWORD') }
  const list = checks(urls, expected, grafanaAuth, index, client)
  // A check that outlives the run's bound is reported failed even if something ignores the abort.
  const outOfTime = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () =>
      reject(new CheckFailure(`not finished within the run's bound of ${runTimeoutMs / 1000} s (VERIFY_TIMEOUT)`)),
    ),
  )
  outOfTime.catch(() => {})
  const results = await Promise.all(
    list.map(async (check) => {
      try {
        const run = check.eventual === true ? () => settled(check, settleMs, controller.signal) : () => check.run()
        return { name: check.name, ok: true, detail: await Promise.race([run(), outOfTime]) }
      } catch (error) {
        const detail = error instanceof CheckFailure ? error.message : `unexpected error: ${(error as Error).stack ?? error}`
        return { name: check.name, ok: false, detail }
      }
    }),
  )
  clearTimeout(bound)

  const width = Math.max(...results.map((r) => r.name.length))
  for (const result of results) console.log(`${result.ok ? 'ok    ' : 'FAILED'}  ${result.name.padEnd(width)}  ${result.detail}`)
  const failed = results.filter((r) => !r.ok).map((r) => r.name)
  if (failed.length === 0) {
    console.log(`verify-stack: all ${results.length} checks passed`)
    return 0
  }
  console.error(`verify-stack: ${failed.length} of ${results.length} checks FAILED: ${failed.join(', ')}`)
  return 1
}

if (import.meta.main) process.exit(await main())
