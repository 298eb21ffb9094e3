import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig, secretValues } from '.'
import { parseDuration } from './parsers'

describe('configuration', () => {
  test('when nothing is set, then the defaults are used', () => {
    expect(loadConfig({})).toMatchObject({
      port: 5000,
      host: '0.0.0.0',
      mysql: {
        host: '127.0.0.1',
        port: 3306,
        user: 'root',
        password: '',
        database: 'twitter',
        poolSize: 10,
        connectTimeoutMs: 1000,
        queryTimeoutMs: 1500,
      },
    })
  })

  test('when MYSQL_URL is set, then its parts are used, percent-decoded', () => {
    // secretlint-disable-next-line -- made-up credentials the test feeds to the parser
    const { mysql } = loadConfig({ MYSQL_URL: 'mysql://app:p%40ss%3Aw0rd@db.internal:3307/tweets_db' })
    expect(mysql).toMatchObject({ host: 'db.internal', port: 3307, user: 'app', password: 'p@ss:w0rd', database: 'tweets_db' })
  })

  test('when the MYSQL_URL password holds a % that starts no escape, then it is taken as written', () => {
    // secretlint-disable-next-line -- made-up credentials the test feeds to the parser
    expect(loadConfig({ MYSQL_URL: 'mysql://root:pa%ss@127.0.0.1/twitter' }).mysql.password).toBe('pa%ss')
    // secretlint-disable-next-line -- made-up credentials the test feeds to the parser
    expect(loadConfig({ MYSQL_URL: 'mysql://r%zz:p%40ss%%41%C3@h/twitter' }).mysql).toMatchObject({
      user: 'r%zz',
      password: 'p@ss%A%C3',
    })
    // secretlint-disable-next-line -- made-up credentials the test feeds to the parser
    expect(secretValues({ MYSQL_URL: 'mysql://root:pa%ss@127.0.0.1/twitter' })).toContain('pa%ss')
  })

  test('when a process has defaults of its own, then they apply to unset variables only', () => {
    expect(loadConfig({}, { LOG_LEVEL: 'warn' }).log.level).toBe('warn')
    expect(loadConfig({ LOG_LEVEL: 'debug' }, { LOG_LEVEL: 'warn' }).log.level).toBe('debug')
  })

  test('when MYSQL_* variables are set, then they override the URL', () => {
    const { mysql } = loadConfig({
      MYSQL_URL: 'mysql://app:secret@db:3307/a',
      MYSQL_HOST: 'other',
      MYSQL_PORT: '3310',
      MYSQL_USER: 'u',
      MYSQL_PASSWORD: 'p',
      MYSQL_DATABASE: 'b',
      MYSQL_POOL_SIZE: '3',
      MYSQL_QUERY_TIMEOUT: '750ms',
    })
    expect(mysql).toMatchObject({
      host: 'other',
      port: 3310,
      user: 'u',
      password: 'p',
      database: 'b',
      poolSize: 3,
      queryTimeoutMs: 750,
    })
  })

  test('when several variables are wrong, then one error names each of them and what it accepts', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'eighty', MYSQL_POOL_SIZE: '0', MYSQL_QUERY_TIMEOUT: '2 seconds', MYSQL_URL: 'postgres://x/y' })
      } catch (e) {
        return e
      }
    })() as ConfigError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toStartWith(
      'invalid configuration: PORT must be an integer from 1 to 65535, got "eighty"; MYSQL_URL must',
    )
    expect(error.message).not.toContain('\n')
    expect(error.problems).toEqual([
      'PORT must be an integer from 1 to 65535, got "eighty"',
      'MYSQL_URL must be a URL with the mysql:// scheme, got (value hidden)',
      'MYSQL_POOL_SIZE must be an integer from 1 to 200, got "0"',
      'MYSQL_QUERY_TIMEOUT must be a duration such as 500ms, 30s, 15m or 1h, got "2 seconds"',
    ])
  })

  test('when a secret is invalid, then the message never shows it', () => {
    // secretlint-disable-next-line -- made-up credentials the test feeds to the parser
    expect(() => loadConfig({ MYSQL_URL: 'mysql://root:hunter2@' })).toThrow(/MYSQL_URL/)
    try {
      loadConfig({ MYSQL_URL: 'not a url hunter2' })
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2')
    }
  })

  test('when the URL names no database, then it says so', () => {
    expect(() => loadConfig({ MYSQL_URL: 'mysql://root@localhost:3306/' })).toThrow(/must name a database/)
  })

  test('when no token is set, then the collector uses the sample data, with the default hashtags', () => {
    const { collector } = loadConfig({})
    expect(collector).toMatchObject({
      source: 'sample',
      hashtags: [
        'openbanking',
        'remediation',
        'devops',
        'sre',
        'microservices',
        'observability',
        'oauth',
        'metrics',
        'logmonitoring',
        'opentracing',
      ],
      maxPages: 5,
      intervalMs: null,
      startupTimeoutMs: 30_000,
    })
    expect(collector.twitter.baseUrl.href).toBe('https://api.x.com/')
  })

  test('when a token is set, then the collector uses the X API unless told otherwise', () => {
    expect(loadConfig({ TWITTER_BEARER_TOKEN: 'AAAA' }).collector.source).toBe('twitter')
    expect(loadConfig({ TWITTER_BEARER_TOKEN: 'AAAA', COLLECT_SOURCE: 'off' }).collector.source).toBe('off')
    expect(loadConfig({ COLLECT_SOURCE: 'sample', COLLECT_INTERVAL: '15m' }).collector).toMatchObject({
      source: 'sample',
      intervalMs: 900_000,
    })
    expect(() => loadConfig({ COLLECT_SOURCE: 'twitter' })).toThrow('COLLECT_SOURCE=twitter needs TWITTER_BEARER_TOKEN')
  })

  test('when HASHTAGS is set, then tags are normalised and checked', () => {
    expect(loadConfig({ HASHTAGS: ' #DevOps, sre,devops ,可観測性' }).collector.hashtags).toEqual(['devops', 'sre', '可観測性'])
    expect(() => loadConfig({ HASHTAGS: 'dev-ops' })).toThrow(/HASHTAGS must be a comma-separated list/)
    expect(() => loadConfig({ HASHTAGS: ' , ' })).toThrow(/HASHTAGS/)
    expect(() => loadConfig({ TWITTER_API_BASE_URL: 'http://api.x.com' })).toThrow(/TWITTER_API_BASE_URL must be an https/)
    expect(() => loadConfig({ TWITTER_API_CA_FILE: '/nonexistent.pem' })).toThrow(/TWITTER_API_CA_FILE/)
  })

  test('when LOGSTASH_HOST is set, then lines are shipped there, to port 5044 unless told otherwise', () => {
    expect(loadConfig({}).log).toEqual({ level: 'info', format: 'json', environment: 'development', logstash: null })
    expect(loadConfig({ LOGSTASH_HOST: 'logstash', LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug' }).log).toEqual({
      level: 'debug',
      format: 'pretty',
      environment: 'development',
      logstash: { host: 'logstash', port: 5044, maxQueuedLines: 10_000 },
    })
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT must be one of json, pretty, got "xml"')
  })

  test('when PUBLIC_BASE_URL is set, then an http(s) URL without query or fragment is taken, trailing slashes dropped', () => {
    expect(loadConfig({}).publicBaseUrl).toBeUndefined()
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://api.example.com/th/' }).publicBaseUrl).toBe('https://api.example.com/th')
    for (const bad of [
      'api.example.com',
      'ftp://api.example.com',
      'https://api.example.com/?x=1',
      'https://api.example.com/#top',
    ]) {
      expect(() => loadConfig({ PUBLIC_BASE_URL: bad })).toThrow(/PUBLIC_BASE_URL must be/)
    }
  })

  test('when CORS_ORIGINS is set, then only well-formed origins (or * alone) are accepted', () => {
    expect(loadConfig({}).corsOrigins).toEqual([])
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:3000',
    ])
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*'])
    for (const bad of [
      'https://a.example.com/',
      'a.example.com',
      'ftp://a.example.com',
      '*,https://a.example.com',
      'https://a.example.com/path',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS must be/)
    }
  })

  test('secret values include the password inside MYSQL_URL', () => {
    // secretlint-disable-next-line -- made-up credentials the test feeds to the parser
    expect(secretValues({ MYSQL_URL: 'mysql://u:p%40ss@h/d', TWITTER_BEARER_TOKEN: 'tok' }).sort()).toEqual(
      // secretlint-disable-next-line -- the same made-up credentials
      ['mysql://u:p%40ss@h/d', 'p%40ss', 'p@ss', 'tok'].sort(),
    )
  })

  test('durations', () => {
    expect([parseDuration('250ms'), parseDuration('30s'), parseDuration('15m'), parseDuration('2h')]).toEqual([
      250, 30_000, 900_000, 7_200_000,
    ])
    for (const bad of ['', '15', '1.5s', '-1s', '1d', '1 s']) expect(() => parseDuration(bad)).toThrow()
  })
})
