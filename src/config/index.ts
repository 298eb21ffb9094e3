import {
  decodeLeniently,
  duration,
  fail,
  hashtagList,
  hostname,
  httpsUrl,
  integer,
  mysqlUrl,
  oneOf,
  optionalDuration,
  originList,
  type Parser,
  publicUrl,
  readableFile,
  text,
} from './parsers'

/**
 * The only reader of the environment. Every variable the service understands is declared once in
 * `variables` (default, meaning, parser); `loadConfig` parses them all and fails with one message
 * naming every bad variable, so a misconfigured container dies at start instead of at first use.
 * `.env.example` and the configuration table of docs/configuration.md are checked against this list by tests.
 */

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly problems: string[]) {
    // One line: it is printed as is by `bun run collect` and logged as one message by the service.
    super(`invalid configuration: ${problems.join('; ')}`)
  }
}

interface Variable<T> {
  /** Used when the variable is unset or empty; undefined means "no value". */
  default?: string
  description: string
  /** Hidden from logs and error messages. */
  secret?: boolean
  parse: Parser<T>
}

/** Every environment variable the service reads, in the order docs/configuration.md documents them. */
export const variables = {
  PORT: { default: '5000', description: 'HTTP port the API listens on.', parse: integer(1, 65535) },
  HOST: { default: '0.0.0.0', description: 'Address the API binds to.', parse: hostname },
  MYSQL_URL: {
    default: 'mysql://root@127.0.0.1:3306/twitter',
    description:
      'MySQL connection URL. User and password are percent-decoded (%40 is @); a % not followed by two hex digits is taken as it is. MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD and MYSQL_DATABASE override its parts.',
    secret: true,
    parse: mysqlUrl,
  },
  MYSQL_HOST: { description: 'MySQL host (overrides the host of MYSQL_URL).', parse: hostname },
  MYSQL_PORT: { description: 'MySQL port (overrides the port of MYSQL_URL).', parse: integer(1, 65535) },
  MYSQL_USER: { description: 'MySQL user (overrides the user of MYSQL_URL).', parse: text },
  MYSQL_PASSWORD: { description: 'MySQL password (overrides the password of MYSQL_URL).', secret: true, parse: text },
  MYSQL_DATABASE: {
    description: 'Database name (overrides the path of MYSQL_URL); created on start when missing.',
    parse: (raw: string) => (/^[A-Za-z0-9_]{1,64}$/.test(raw) ? raw : fail('letters, digits and _ (at most 64)')),
  },
  MYSQL_POOL_SIZE: { default: '10', description: 'Connections in the MySQL pool.', parse: integer(1, 200) },
  MYSQL_CONNECT_TIMEOUT: {
    default: '1s',
    description: 'How long opening a MySQL connection may take before the request fails with 503.',
    parse: duration,
  },
  MYSQL_QUERY_TIMEOUT: {
    default: '1500ms',
    description: 'Longest a request may wait for the database (pool queue and statements) before it gets 503.',
    parse: duration,
  },
  SCHEMA_WAIT_TIMEOUT: {
    default: '30m',
    description:
      'How long a starting process waits for another one that holds the schema lock (migrating a large database) before it gives up; the compose healthcheck allows as long.',
    parse: duration,
  },
  RESPONSE_CACHE_MB: {
    default: '32',
    description: 'Memory for answers kept until the data changes (0: compute every answer).',
    parse: integer(0, 4096),
  },
  MEMORY_TARGET_MB: {
    default: '256',
    description:
      "Resident memory the service keeps near: above it, garbage is collected (checked every 50 ms), so the peak follows this setting rather than the runtime's collector; what it holds live (RESPONSE_CACHE_MB, requests in flight) must fit under it.",
    parse: integer(64, 65536),
  },
  EXPORT_CONCURRENCY: {
    default: '4',
    description:
      'CSV/NDJSON exports one process streams at once; one more is answered 503 with Retry-After, so that exports cannot starve the other requests.',
    parse: integer(1, 1000),
  },
  PUBLIC_BASE_URL: {
    description:
      'Public URL clients reach the service at (behind a proxy), for the OpenAPI servers entry and Swagger UI links. Unset: relative to the host asked.',
    parse: publicUrl,
  },
  CORS_ORIGINS: {
    description: "Browser origins allowed to call the API from other sites (CORS), comma-separated, or '*'. Unset: CORS off.",
    parse: originList,
  },
  TWITTER_BEARER_TOKEN: {
    description: 'App-only bearer token of the X API. Without it the bundled sample data is loaded instead.',
    secret: true,
    parse: text,
  },
  TWITTER_API_BASE_URL: {
    default: 'https://api.x.com',
    description: 'Base URL of the X API (a mirror or a proxy may stand in for it).',
    parse: httpsUrl,
  },
  TWITTER_API_CA_FILE: {
    description: 'Extra certificate authority (PEM) to trust for the X API, e.g. behind a TLS-inspecting proxy.',
    parse: readableFile,
  },
  TWITTER_API_TIMEOUT: {
    default: '10s',
    description: 'Total deadline of one X API request: connecting, headers and the whole body.',
    parse: duration,
  },
  TWITTER_API_MAX_RESPONSE_MB: {
    default: '16',
    description: 'Largest X API response body read, in MiB; a larger one is cut off and the page is not stored.',
    parse: integer(1, 1024),
  },
  HASHTAGS: {
    default: 'openbanking,remediation,devops,sre,microservices,observability,oauth,metrics,logmonitoring,opentracing',
    description: "Tracked hashtags, comma-separated, with or without '#'.",
    parse: hashtagList,
  },
  QUERY_SUFFIX: {
    description: 'Appended to every search query, e.g. `-is:retweet` or `lang:en`.',
    parse: (raw: string) => (raw.length <= 400 ? raw.trim() : fail('at most 400 characters (X queries stop at 512)')),
  },
  MAX_PAGES_PER_HASHTAG: {
    default: '5',
    description: 'Pages of 100 tweets fetched per hashtag and collection at most.',
    parse: integer(1, 100),
  },
  COLLECT_SOURCE: {
    default: 'auto',
    description: 'Where tweets come from: twitter, sample, off, or auto (twitter when a token is set, else sample).',
    parse: oneOf('auto', 'twitter', 'sample', 'off'),
  },
  COLLECT_STARTUP_TIMEOUT: {
    default: '30s',
    description: 'How long the start-up collection may delay serving; past it the API starts and the collection goes on.',
    parse: duration,
  },
  COLLECT_INTERVAL: {
    default: 'off',
    description: 'Collect again this often after start-up (off: only at start-up).',
    parse: optionalDuration,
  },
  COLLECT_RUN_TIMEOUT: {
    default: '30m',
    description: 'Longest one collection run may take; past it the run stops between requests and the lock is released.',
    parse: duration,
  },
  COLLECT_MAX_WAIT: {
    default: '60s',
    description: 'Longest wait for a rate-limit reset; past it the hashtag is left for the next collection.',
    parse: duration,
  },
  LOG_LEVEL: {
    default: 'info',
    description: 'Lowest level logged.',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace'),
  },
  LOG_FORMAT: {
    default: 'json',
    description: 'json: ECS JSON lines on stdout; pretty: readable lines, for people.',
    parse: oneOf('json', 'pretty'),
  },
  SERVICE_ENVIRONMENT: {
    default: 'development',
    description: 'service.environment of every log line (production, staging, ...).',
    parse: (raw: string) => (/^[A-Za-z0-9._-]{1,64}$/.test(raw) ? raw : fail('a name of letters, digits, . _ -')),
  },
  LOGSTASH_HOST: { description: 'Also ship the log lines to Logstash (tcp, json_lines) on this host.', parse: hostname },
  LOGSTASH_PORT: { default: '5044', description: 'Port of the Logstash tcp input.', parse: integer(1, 65535) },
  LOGSTASH_QUEUE_LINES: {
    default: '10000',
    description:
      'Log lines kept while Logstash is unreachable or slow, in a buffer of 1 KiB per line allocated at start; beyond, the oldest are dropped and counted.',
    parse: integer(100, 1_000_000),
  },
  COLLECT_RETRIES: {
    default: '4',
    description: 'Retries of an X API request that failed with 5xx, a timeout or a network error (exponential backoff, jitter).',
    parse: integer(0, 10),
  },
  METRICS_REFRESH_MAX_AGE: {
    default: '24h',
    description:
      'After the search, each run reads again the public metrics of stored tweets younger than this (X API post lookup), least recently measured first.',
    parse: duration,
  },
  METRICS_REFRESH_REQUESTS: {
    default: '10',
    description:
      'Post lookup requests per run for that refresh, 100 posts each; every post returned is billed on pay-per-use access (0: no refresh).',
    parse: integer(0, 1000),
  },
} satisfies Record<string, Variable<unknown>>

export type VariableName = keyof typeof variables

export interface MysqlConfig {
  host: string
  port: number
  user: string
  password: string
  database: string
  poolSize: number
  connectTimeoutMs: number
  queryTimeoutMs: number
  /** How long a start waits for another process's migration (SCHEMA_WAIT_TIMEOUT). */
  schemaWaitMs: number
}

export type CollectSource = 'twitter' | 'sample' | 'off'

export interface CollectorConfig {
  /** Resolved from COLLECT_SOURCE=auto: twitter with a token, sample without. */
  source: CollectSource
  hashtags: string[]
  querySuffix: string
  maxPages: number
  startupTimeoutMs: number
  intervalMs: number | null
  maxWaitMs: number
  runTimeoutMs: number
  retries: number
  /** Re-reading the public metrics of young stored tweets after the search (see collector/refresh.ts). */
  metricsRefresh: {
    /** Tweets created less than this long ago are refreshed. */
    maxAgeMs: number
    /** Lookup requests per run, 100 ids each; 0: off. */
    requests: number
  }
  twitter: {
    bearerToken: string | undefined
    baseUrl: URL
    caFile: string | undefined
    timeoutMs: number
    maxResponseBytes: number
  }
}

export interface LogConfig {
  level: string
  format: 'json' | 'pretty'
  environment: string
  logstash: { host: string; port: number; maxQueuedLines: number } | null
}

export interface Config {
  port: number
  host: string
  responseCacheBytes: number
  /** Exports streamed at once (EXPORT_CONCURRENCY). */
  exportConcurrency: number
  /** Resident memory the service keeps near by collecting garbage (MEMORY_TARGET_MB). */
  memoryTargetBytes: number
  /** Origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[]
  /** Where clients reach the service (PUBLIC_BASE_URL); undefined: relative to the host asked. */
  publicBaseUrl: string | undefined
  mysql: MysqlConfig
  collector: CollectorConfig
  log: LogConfig
}

type Parsed = { [K in VariableName]: ReturnType<(typeof variables)[K]['parse']> | undefined }

const describeValue = (name: VariableName, raw: string): string =>
  'secret' in variables[name] ? '(value hidden)' : JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)

/** Defaults a process uses instead of the documented ones (`bun run collect` logs from warn up). */
export type ProcessDefaults = Partial<Record<VariableName, string>>

function parseAll(env: Record<string, string | undefined>, defaults: ProcessDefaults): Parsed {
  const problems: string[] = []
  const parsed: Record<string, unknown> = {}
  for (const [name, variable] of Object.entries(variables) as [VariableName, Variable<unknown>][]) {
    const given = env[name]
    const raw = given === undefined || given === '' ? (defaults[name] ?? variable.default) : given
    if (raw === undefined) continue
    try {
      parsed[name] = variable.parse(raw)
    } catch (error) {
      problems.push(`${name} must be ${(error as Error).message}, got ${describeValue(name, raw)}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return parsed as Parsed
}

function mysqlConfig(p: Parsed): MysqlConfig {
  const url = p.MYSQL_URL!
  const database = p.MYSQL_DATABASE ?? decodeLeniently(url.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) {
    throw new ConfigError(['MYSQL_URL must name a database (letters, digits and _), e.g. mysql://root@127.0.0.1:3306/twitter'])
  }
  return {
    host: p.MYSQL_HOST ?? url.hostname.replace(/^\[|\]$/g, ''),
    port: p.MYSQL_PORT ?? (url.port === '' ? 3306 : Number(url.port)),
    user: p.MYSQL_USER ?? (decodeLeniently(url.username) || 'root'),
    password: p.MYSQL_PASSWORD ?? decodeLeniently(url.password),
    database,
    poolSize: p.MYSQL_POOL_SIZE!,
    connectTimeoutMs: p.MYSQL_CONNECT_TIMEOUT!,
    queryTimeoutMs: p.MYSQL_QUERY_TIMEOUT!,
    schemaWaitMs: p.SCHEMA_WAIT_TIMEOUT!,
  }
}

function collectorConfig(p: Parsed): CollectorConfig {
  const token = p.TWITTER_BEARER_TOKEN
  const wanted = p.COLLECT_SOURCE!
  if (wanted === 'twitter' && token === undefined) {
    throw new ConfigError(['COLLECT_SOURCE=twitter needs TWITTER_BEARER_TOKEN'])
  }
  return {
    source: wanted === 'auto' ? (token === undefined ? 'sample' : 'twitter') : wanted,
    hashtags: p.HASHTAGS!,
    querySuffix: p.QUERY_SUFFIX ?? '',
    maxPages: p.MAX_PAGES_PER_HASHTAG!,
    startupTimeoutMs: p.COLLECT_STARTUP_TIMEOUT!,
    intervalMs: p.COLLECT_INTERVAL!,
    maxWaitMs: p.COLLECT_MAX_WAIT!,
    runTimeoutMs: p.COLLECT_RUN_TIMEOUT!,
    retries: p.COLLECT_RETRIES!,
    metricsRefresh: { maxAgeMs: p.METRICS_REFRESH_MAX_AGE!, requests: p.METRICS_REFRESH_REQUESTS! },
    twitter: {
      bearerToken: token,
      baseUrl: p.TWITTER_API_BASE_URL!,
      caFile: p.TWITTER_API_CA_FILE,
      timeoutMs: p.TWITTER_API_TIMEOUT!,
      maxResponseBytes: p.TWITTER_API_MAX_RESPONSE_MB! * 1024 * 1024,
    },
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env, defaults: ProcessDefaults = {}): Config {
  const p = parseAll(env, defaults)
  return {
    port: p.PORT!,
    host: p.HOST!,
    responseCacheBytes: p.RESPONSE_CACHE_MB! * 1024 * 1024,
    exportConcurrency: p.EXPORT_CONCURRENCY!,
    memoryTargetBytes: p.MEMORY_TARGET_MB! * 1024 * 1024,
    corsOrigins: p.CORS_ORIGINS ?? [],
    publicBaseUrl: p.PUBLIC_BASE_URL,
    mysql: mysqlConfig(p),
    collector: collectorConfig(p),
    log: {
      level: p.LOG_LEVEL!,
      format: p.LOG_FORMAT!,
      environment: p.SERVICE_ENVIRONMENT!,
      logstash:
        p.LOGSTASH_HOST === undefined
          ? null
          : { host: p.LOGSTASH_HOST, port: p.LOGSTASH_PORT!, maxQueuedLines: p.LOGSTASH_QUEUE_LINES! },
    },
  }
}

/** Values of the secret variables, and the password inside MYSQL_URL, to keep out of every log line. */
export function secretValues(env: Record<string, string | undefined> = process.env): string[] {
  const values = Object.entries(variables)
    .filter(([name, variable]) => 'secret' in variable && env[name] !== undefined && env[name] !== '')
    .map(([name]) => env[name]!)
  const password = URL.parse(env.MYSQL_URL ?? '')?.password
  return password ? [...values, password, decodeLeniently(password)] : values
}
