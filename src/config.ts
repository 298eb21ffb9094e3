/**
 * The only reader of the environment. Every variable the service understands is declared once in
 * `variables` (default, meaning, parser); `loadConfig` parses them all and fails with one message
 * naming every bad variable, so a misconfigured container dies at start instead of at first use.
 * `.env.example` and the README's configuration table are checked against this list by tests.
 */

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
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

const text: Parser<string> = (raw) => raw

const hostname: Parser<string> = (raw) => (/^[A-Za-z0-9.:_-]{1,253}$/.test(raw) ? raw : fail('a host name or IP address'))

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

/** Every environment variable the service reads, in the order the README documents them. */
export const variables = {
  PORT: { default: '5000', description: 'HTTP port the API listens on.', parse: integer(1, 65535) },
  HOST: { default: '0.0.0.0', description: 'Address the API binds to.', parse: hostname },
  MYSQL_URL: {
    default: 'mysql://root@127.0.0.1:3306/twitter',
    description:
      'MySQL connection URL. MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD and MYSQL_DATABASE override its parts.',
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
    default: '2s',
    description: 'Longest a request may wait for the database (pool queue and statement) before it gets 503.',
    parse: duration,
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

export interface Config {
  port: number
  host: string
  mysql: MysqlConfig
}

type Parsed = { [K in VariableName]: ReturnType<(typeof variables)[K]['parse']> | undefined }

const describeValue = (name: VariableName, raw: string): string =>
  'secret' in variables[name] ? '(value hidden)' : JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)

function parseAll(env: Record<string, string | undefined>): Parsed {
  const problems: string[] = []
  const parsed: Record<string, unknown> = {}
  for (const [name, variable] of Object.entries(variables) as [VariableName, Variable<unknown>][]) {
    const given = env[name]
    const raw = given === undefined || given === '' ? variable.default : given
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
  const database = p.MYSQL_DATABASE ?? decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) {
    throw new ConfigError(['MYSQL_URL must name a database (letters, digits and _), e.g. mysql://root@127.0.0.1:3306/twitter'])
  }
  return {
    host: p.MYSQL_HOST ?? url.hostname.replace(/^\[|\]$/g, ''),
    port: p.MYSQL_PORT ?? (url.port === '' ? 3306 : Number(url.port)),
    user: p.MYSQL_USER ?? (decodeURIComponent(url.username) || 'root'),
    password: p.MYSQL_PASSWORD ?? decodeURIComponent(url.password),
    database,
    poolSize: p.MYSQL_POOL_SIZE!,
    connectTimeoutMs: p.MYSQL_CONNECT_TIMEOUT!,
    queryTimeoutMs: p.MYSQL_QUERY_TIMEOUT!,
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const p = parseAll(env)
  return { port: p.PORT!, host: p.HOST!, mysql: mysqlConfig(p) }
}
