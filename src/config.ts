import { existsSync } from 'node:fs'
import { normalizeHashtag } from './domain/hashtag'

/**
 * The only reader of the environment. Every variable the service understands is declared once in
 * `variables` (default, meaning, parser); `loadConfig` parses them all and fails with one message
 * naming every bad variable, so a misconfigured container dies at start instead of at first use.
 * `.env.example` and the README's configuration table are checked against this list by tests.
 */

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly problems: string[]) {
    // One line: it is printed as is by `bun run collect` and logged as one message by the service.
    super(`invalid configuration: ${problems.join('; ')}`)
  }
}

type Parser<T> = (raw: string) => T

interface Variable<T> {
  /** Used when the variable is unset or empty; undefined means "no value". */
  default?: string
  description: string
  /** Hidden from logs and error messages. */
  secret?: boolean
  parse: Parser<T>
}

const fail = (accepts: string): never => {
  throw new Error(accepts)
}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^[0-9]{1,10}$/.test(raw)) fail(`an integer from ${min} to ${max}`)
    const value = Number(raw)
    return value >= min && value <= max ? value : fail(`an integer from ${min} to ${max}`)
  }

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** "250ms", "30s", "15m", "1h" → milliseconds. */
export const parseDuration = (raw: string): number => {
  const match = /^([0-9]{1,9})(ms|s|m|h)$/.exec(raw)
  if (!match) return fail('a duration such as 500ms, 30s, 15m or 1h')
  return Number(match[1]) * DURATION_UNITS[match[2]!]!
}

const duration: Parser<number> = parseDuration

/** Like `duration`, but "off" disables the feature: null. */
const optionalDuration: Parser<number | null> = (raw) => (raw === 'off' ? null : parseDuration(raw))

const text: Parser<string> = (raw) => raw

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) =>
    (values as string[]).includes(raw) ? (raw as T) : fail(`one of ${values.join(', ')}`)

/** "devops, #SRE" → ['devops', 'sre']: lowercase, without '#', without duplicates. */
const hashtagList: Parser<string[]> = (raw) => {
  const tags = raw
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '')
    .map(normalizeHashtag)
  if (tags.length === 0 || !tags.every((tag) => tag !== null)) {
    fail("a comma-separated list of hashtags (letters, digits, '_'; '#' optional)")
  }
  return [...new Set(tags as string[])]
}

const httpsUrl: Parser<URL> = (raw) => {
  try {
    const url = new URL(raw)
    if (url.protocol === 'https:') return url
  } catch {}
  return fail('an https:// URL (the X API client speaks HTTPS only)')
}

const readableFile: Parser<string> = (raw) => (existsSync(raw) ? raw : fail('the path of a readable PEM file'))

const hostname: Parser<string> = (raw) => (/^[A-Za-z0-9.:_-]{1,253}$/.test(raw) ? raw : fail('a host name or IP address'))

/**
 * Percent-decoding of a URL part that takes a malformed escape literally: a password typed into
 * MYSQL_URL without encoding ("pa%ss") means what it says, where decodeURIComponent would throw.
 */
export function decodeLeniently(part: string): string {
  return part.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes)
    } catch {
      // Not UTF-8 as a whole: decode what is, keep the rest as written.
      return escapes.replace(/%[0-9A-Fa-f]{2}/g, (one) => {
        try {
          return decodeURIComponent(one)
        } catch {
          return one
        }
      })
    }
  })
}

const mysqlUrl: Parser<URL> = (raw) => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail('a URL such as mysql://user:password@host:3306/database')
  }
  if (url.protocol !== 'mysql:') fail('a URL with the mysql:// scheme')
  return url
}

/** "https://a.example, http://localhost:3000" → origins; "*" alone allows any origin. */
const originList: Parser<string[]> = (raw) => {
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
  if (origins.length === 1 && origins[0] === '*') return origins
  const valid = (origin: string) => {
    try {
      const url = new URL(origin)
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin
    } catch {
      return false
    }
  }
  return origins.length > 0 && origins.every(valid)
    ? origins
    : fail("'*' or a comma-separated list of origins such as https://app.example.com (scheme, host, optional port)")
}

/** Every environment variable the service reads, in the order the README documents them. */
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
  RESPONSE_CACHE_MB: {
    default: '32',
    description: 'Memory for answers kept until the data changes (0: compute every answer).',
    parse: integer(0, 4096),
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
  /** Origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[]
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
    corsOrigins: p.CORS_ORIGINS ?? [],
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
