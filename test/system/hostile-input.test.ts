import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import mysql from 'mysql2/promise'
import { connectionOptions } from '../../src/db/session'
import { ENDPOINTS } from '../support/endpoints'
import { isParserRefusal, rawRequest } from '../support/raw-http'
import { useSampleService } from '../support/sample-service'

/**
 * Hostile input, generated: at least 10,000 requests against the service running as a real process,
 * sent over raw sockets (so that what goes on the wire is exactly what was generated: broken
 * percent-escapes, repeated parameters, methods with bodies, odd Host headers or none, absolute-form
 * and asterisk-form targets, HTTP/1.0). Whatever arrives, the answer is below 500, every 4xx is
 * problem+json naming its status, a path that is not one of the service's routes never answers 200
 * with data, the stored data does not change and the process keeps serving.
 *
 * Bun refuses a few requests itself, before the service sees them (an HTTP/1.1 request without
 * Host, an asterisk-form target outside OPTIONS, a Host with control characters): a 400 without a
 * body. Those are told apart and allowed only for such requests.
 */

const RUNS = 500
const BATCH = 20 // requests sent at once per run: RUNS × BATCH requests in all

const ODD_PATHS = [
  '/health/live',
  '/health/ready',
  '/api/v1/resources/tweets/all/',
  '/api/v1/resources/../resources/tweets',
  '/api/v1/resources/%2e%2e/users/all',
  '/API/V1/RESOURCES/TWEETS/ALL',
  '/api/v1/resources/tweets/1',
  '/swagger/nothing',
]
/** Names a lookup in a plain object would find on Object.prototype. */
const PROTOTYPE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']
const PARAMETERS = [
  'hash',
  'hashtag',
  'lang',
  'author_id',
  'limit',
  'cursor',
  'tz',
  'page',
  'id',
  '',
  'hash[]',
  'limit[0]',
  ...PROTOTYPE_NAMES,
]
const SQL = [
  "' OR '1'='1",
  "devops'; DROP TABLE tweets; --",
  '1 UNION SELECT username, NULL FROM users --',
  "\\'; SELECT SLEEP(10); --",
  '0x31303235',
  '%27%20OR%201%3D1--',
  "en' AND (SELECT COUNT(*) FROM information_schema.tables) > 0 AND 'a'='a",
  '`tweets`',
  '1; UPDATE users SET followers_count = 0',
]
const NUMBERS = [
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  ' 5',
  '5 ',
  '18446744073709551616',
  '99999999999999999999999999',
  'NaN',
  'Infinity',
  '+1',
  '001',
  '1001',
  '1000',
]
const TZ = ['+25:00', '-03:00', '+05:45', 'Z', 'UTC', '+5', '99:99', '-00:00', '+14:01', '%2B05%3A30']

/** Raw query text: encoded values, and deliberately broken escapes that a URL class would repair. */
const rawText = fc.oneof(
  fc.constantFrom('devops', 'sre', '%23observability', 'en', 'ja', '1', '50', '-03:00', '%2B05%3A30'),
  fc.constantFrom(...SQL, ...NUMBERS, ...TZ).map(encodeURIComponent),
  fc.constantFrom(...SQL, ...NUMBERS, ...TZ),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('%', '%2', '%zz', '%E0%A4%A', '%C0%AF', '%00', '%FF%FE', '%u0027', '%%32%35', '%ED%A0%80'),
  fc.integer({ min: 1_000, max: 3_000 }).map((n) => 'x'.repeat(n)), // past the length bound, often
  fc.constantFrom('#devops', '%23devops', 'DevOps', 'devops%20', 'a'.repeat(101), '日本語', 'en-US', ''),
  fc.constantFrom(...PROTOTYPE_NAMES),
)
/** What HTTP/1.1 lets into a request target; the rest is escaped (a raw space would end it). */
const targetSafe = (text: string) => text.replace(/[^\x21-\x7e]|#/g, (c) => encodeURIComponent(c))

const parameter = fc.tuple(
  fc.oneof({ arbitrary: fc.constantFrom(...PARAMETERS), weight: 4 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 }),
  rawText,
  fc.boolean(),
)
const query = fc
  .array(parameter, { maxLength: 4 })
  .map((pairs) =>
    pairs.map(([name, value, bare]) => (bare ? targetSafe(name) : `${targetSafe(name)}=${targetSafe(value)}`)).join('&'),
  )
const method = fc.oneof(
  { arbitrary: fc.constant('GET'), weight: 8 },
  { arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'), weight: 2 },
)
const body = fc.option(
  fc.oneof(
    fc.json(),
    fc.string({ unit: 'binary', maxLength: 2_000 }),
    fc.constantFrom('{"hash":"devops"', '<xml/>', 'a=1&a=2', '\u0000\u0001'),
  ),
)
const contentType = fc.constantFrom(
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
)

const hostChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_'.split(''))
const hostname = fc.oneof(
  fc.string({ unit: hostChar, maxLength: 6 }),
  fc.string({ unit: hostChar, maxLength: 300 }),
  fc.constantFrom('app', 'localhost', '127.0.0.1', 'twitter-hashtags.example.com'),
)
const portText = fc.oneof(fc.integer({ min: 0, max: 65_535 }).map(String), fc.constantFrom('', '99999', '0x50', '-1', '3000'))
const ipv6 = fc.constantFrom('[::1]', '[::]', '[2001:db8::1]', '[fe80::1%25eth0]', '[::ffff:127.0.0.1]', '[::1')
/** What an absolute-form target may name as its authority (no '/', '?', '#': they would end it). */
const authority = fc.oneof(
  hostname,
  ipv6,
  fc.tuple(fc.oneof(hostname, ipv6), portText).map(([h, p]) => `${h}:${p}`),
)
/** Host header values: absent, empty, short, long, with ports, IPv6 literals and characters no host has. */
const host = fc.oneof(
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: fc.constant('127.0.0.1'), weight: 6 },
  { arbitrary: authority, weight: 6 },
  {
    arbitrary: fc.string({
      unit: fc.constantFrom(' ', '/', '?', '#', '@', '%', ',', ':', '[', ']', '"', 'é', '日', '\t', 'a'),
      maxLength: 12,
    }),
    weight: 1,
  },
  { arbitrary: fc.constantFrom('\u0001', 'a\u007fb', 'a\u0000b'), weight: 1 },
)

/** Real paths of the service, and ways of dressing one up so that it is no longer one. */
const routePath = fc.oneof(
  { arbitrary: fc.constantFrom(...ENDPOINTS), weight: 6 },
  { arbitrary: fc.constantFrom(...ODD_PATHS), weight: 1 },
)
const notARoute = fc.oneof(
  // A segment of dots only is resolved away by Bun ("/./api/…" is "/api/…"): not a prefix.
  fc
    .tuple(
      fc.stringMatching(/^\/[a-z0-9._-]{1,6}$/).filter((prefix) => !/^\/\.+$/.test(prefix)),
      routePath,
    )
    .map(([prefix, path]) => `${prefix}${path}`),
  routePath.map((path) => `/${path}`),
  routePath.map((path) => `/${path.slice(1).replaceAll('/', '%2F')}`),
  routePath.map((path) => path.replace(/\/([^/]*)$/, '%2F$1')),
  fc.constantFrom(...PROTOTYPE_NAMES).chain((name) =>
    // (/tweets/{name} is the route of one tweet: a name there is a malformed id, answered 400.)
    fc.constantFrom(`/${name}`, `/api/v1/resources/${name}`, `/api/v1/resources/tweets/all/${name}`, `/swagger/assets/${name}`),
  ),
)

type Form = 'origin' | 'absolute' | 'asterisk'

const request = fc.record({
  method,
  path: fc.oneof({ arbitrary: routePath, weight: 5 }, { arbitrary: notARoute.map((p) => `!${p}`), weight: 2 }),
  query,
  body,
  contentType,
  repeatLimit: fc.oneof({ arbitrary: fc.constant(true), weight: 1 }, { arbitrary: fc.constant(false), weight: 4 }),
  host,
  version: fc.oneof({ arbitrary: fc.constant('1.1'), weight: 4 }, { arbitrary: fc.constant('1.0'), weight: 1 }),
  form: fc.oneof(
    { arbitrary: fc.constant<Form>('origin'), weight: 12 },
    { arbitrary: fc.constant<Form>('absolute'), weight: 3 },
    { arbitrary: fc.constant<Form>('asterisk'), weight: 1 },
  ),
  targetAuthority: authority,
})

interface Sent {
  method: string
  target: string
  head: string
  /** The path is not one of the service's routes: the statuses it may get (none of them 200). */
  notARoute: number[] | null
  /** Bun's parser may refuse it before the service sees it. */
  mayBeRefusedByBun: boolean
}

/** The request as bytes: what was generated, written as it is. */
/** Control characters other than tab, which Bun refuses in a header value. */
const isControl = (c: string) => (c < ' ' && c !== '\t') || c === '\u007f'

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never

function compose(r: Generated): { sent: Sent; bytes: Buffer } {
  const notARoute = r.path.startsWith('!')
  const path = notARoute ? r.path.slice(1) : r.path
  const query = `${r.query === '' ? '' : `?${r.query}`}${r.repeatLimit ? `${r.query === '' ? '?' : '&'}limit=1&limit=2` : ''}`
  const method = r.form === 'asterisk' ? 'OPTIONS' : r.method
  const target =
    r.form === 'asterisk' ? '*' : r.form === 'absolute' ? `http://${r.targetAuthority}${path}${query}` : `${path}${query}`
  const payload = r.body === null ? null : Buffer.from(r.body)
  const head = [
    `${method} ${target} HTTP/${r.version}`,
    ...(r.host === null ? [] : [`Host: ${r.host}`]),
    'Connection: close',
    'User-Agent: hostile-input-test',
    ...(payload === null ? [] : [`Content-Type: ${r.contentType}`, `Content-Length: ${payload.length}`]),
    '',
    '',
  ].join('\r\n')
  const mayBeRefusedByBun =
    r.form === 'asterisk' || (r.host === null && r.version === '1.1') || (r.host !== null && [...r.host].some(isControl))
  return {
    sent: {
      method,
      target,
      head,
      // 405 only where a route's pattern matches the path (an asset name) for another method; 414 before routing.
      // 400 where a dressed-up path still matches the route of one tweet or user (/tweets/{id}): a malformed id.
      notARoute:
        notARoute && r.form !== 'asterisk'
          ? path.startsWith('/swagger/assets/')
            ? [404, 405, 414]
            : /^\/api\/v1\/resources\/(tweets|users)\/./.test(path)
              ? [400, 404, 405, 414]
              : [404, 414]
          : null,
      mayBeRefusedByBun,
    },
    bytes: payload === null ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'utf8'), payload]),
  }
}

const world = useSampleService()

const TABLES = ['hashtags', 'users', 'tweets', 'hashtag_counts', 'data_version']
async function checksums(): Promise<Record<string, string>> {
  const admin = await mysql.createConnection({
    ...connectionOptions(world.database.config),
    database: world.database.config.database,
  })
  try {
    const [rows] = (await admin.query(`CHECKSUM TABLE ${TABLES.join(', ')} EXTENDED`)) as any
    return Object.fromEntries((rows as { Table: string; Checksum: unknown }[]).map((r) => [r.Table, String(r.Checksum)]))
  } finally {
    await admin.end()
  }
}

describe('hostile input', () => {
  test(`when ${RUNS * BATCH} generated requests arrive, then none gets a 5xx, every 4xx is problem+json and nothing changes`, async () => {
    const before = await checksums()
    expect(Number(before.tweets)).not.toBe(0)
    let sentCount = 0
    let refusedByBun = 0
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const answers = await Promise.all(
          batch.map(async (r) => {
            const { sent, bytes } = compose(r)
            return { sent, answer: await rawRequest(world.port, bytes, sent.method === 'HEAD') }
          }),
        )
        for (const { sent, answer } of answers) {
          sentCount++
          const where = sent.head.split('\r\n').slice(0, 2).join(' | ').slice(0, 300)
          expect({ where, answered: answer !== null }).toEqual({ where, answered: true })
          const status = answer!.status
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          if (isParserRefusal(answer!) && status === 400) {
            // Bun's own refusal: allowed only for what Bun refuses before the service sees it.
            expect({ where, mayBeRefusedByBun: sent.mayBeRefusedByBun }).toEqual({ where, mayBeRefusedByBun: true })
            refusedByBun++
            continue
          }
          expect({ where, status, below500: status >= 100 && status < 500 }).toEqual({ where, status, below500: true })
          if (sent.notARoute !== null) {
            // Not a route of the service, however it is dressed up: never its data.
            expect({ where, refused: sent.notARoute.includes(status), data: /"data"/.test(answer!.body) }).toEqual({
              where,
              refused: true,
              data: false,
            })
          }
          if (status >= 400) {
            expect({ where, type: answer!.headers['content-type'] }).toEqual({ where, type: 'application/problem+json' })
            if (sent.method !== 'HEAD') {
              const problem = JSON.parse(answer!.body) as { status: number; detail: string; title: string }
              expect({ where, status: problem.status, detail: typeof problem.detail }).toEqual({
                where,
                status,
                detail: 'string',
              })
            }
          }
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    )
    expect(sentCount).toBeGreaterThanOrEqual(10_000)
    // Both kinds of answer must have been exercised, or the generators are broken.
    const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0)
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0)
    expect(ok).toBeGreaterThan(100)
    expect(refused).toBeGreaterThan(1_000)
    // Most requests must reach the service, or the generators test Bun's parser only.
    expect(refusedByBun).toBeLessThan(sentCount / 4)
    console.log(
      `hostile input: ${sentCount} requests (${refusedByBun} refused by Bun's parser); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    )
    expect(await checksums()).toEqual(before)
    expect(world.service.child.exitCode).toBeNull()
    expect((await fetch(`${world.service.url}/health/ready`)).status).toBe(200)
    expect(world.service.stderr()).toBe('')
  }, 240_000)
})
