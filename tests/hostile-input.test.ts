import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import fc from 'fast-check'
import mysql from 'mysql2/promise'
import { connectionOptions } from '../src/db/database'
import { createTestDatabase, type TestDatabase } from '../src/testing/database'
import { ENDPOINTS } from '../src/testing/endpoints'
import { mysqlUrl, type RunningService, startService } from '../src/testing/process'

/**
 * Hostile input, generated: at least 10,000 requests against the service running as a real process,
 * sent over raw sockets (so that what goes on the wire is exactly what was generated: broken
 * percent-escapes, repeated parameters, methods with bodies). Whatever arrives, the answer is below
 * 500, every 4xx is problem+json naming its status, the stored data does not change and the process
 * keeps serving.
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
const PARAMETERS = ['hash', 'hashtag', 'lang', 'author_id', 'limit', 'cursor', 'tz', 'page', 'id', '', 'hash[]', 'limit[0]']
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

interface Sent {
  method: string
  target: string
  body: string | null
  contentType: string
}

const request = fc.record({
  method,
  path: fc.oneof(
    { arbitrary: fc.constantFrom(...ENDPOINTS), weight: 6 },
    { arbitrary: fc.constantFrom(...ODD_PATHS), weight: 1 },
  ),
  query,
  body,
  contentType,
  repeatLimit: fc.oneof({ arbitrary: fc.constant(true), weight: 1 }, { arbitrary: fc.constant(false), weight: 4 }),
})

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

/** One request on its own connection, written byte for byte as generated. */
function send(port: number, sent: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const payload = sent.body === null ? null : Buffer.from(sent.body)
    const head = [
      `${sent.method} ${sent.target} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: close',
      'User-Agent: hostile-input-test',
      ...(payload === null ? [] : [`Content-Type: ${sent.contentType}`, `Content-Length: ${payload.length}`]),
      '',
      '',
    ].join('\r\n')
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer within 10 s to ${sent.method} ${sent.target}`)))
    socket.on('connect', () => {
      socket.write(head)
      if (payload !== null) socket.write(payload)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const end = text.indexOf('\r\n\r\n')
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, body: text.slice(end + 4) })
    })
  })
}

/** Decodes a chunked body (Bun sends problem bodies with a length, but stay general). */
const bodyText = (answer: Answer): string => {
  if (answer.headers['transfer-encoding'] !== 'chunked') return answer.body
  let rest = answer.body
  let out = ''
  for (;;) {
    const lineEnd = rest.indexOf('\r\n')
    const size = Number.parseInt(rest.slice(0, lineEnd), 16)
    if (!(size > 0)) return out
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size)
    rest = rest.slice(lineEnd + 2 + size + 2)
  }
}

let database: TestDatabase
let service: RunningService
let port: number

const TABLES = ['hashtags', 'users', 'tweets', 'hashtag_counts', 'data_version']
async function checksums(): Promise<Record<string, string>> {
  const admin = await mysql.createConnection({ ...connectionOptions(database.config), database: database.config.database })
  try {
    const [rows] = (await admin.query(`CHECKSUM TABLE ${TABLES.join(', ')} EXTENDED`)) as any
    return Object.fromEntries((rows as { Table: string; Checksum: unknown }[]).map((r) => [r.Table, String(r.Checksum)]))
  } finally {
    await admin.end()
  }
}

beforeAll(async () => {
  database = await createTestDatabase()
  service = await startService({ MYSQL_URL: mysqlUrl(database.config), COLLECT_SOURCE: 'sample', LOG_LEVEL: 'warn' })
  port = Number(new URL(service.url).port)
}, 60_000)

afterAll(async () => {
  await service?.stop()
  await database?.drop()
})

describe('hostile input', () => {
  test(`when ${RUNS * BATCH} generated requests arrive, then none gets a 5xx, every 4xx is problem+json and nothing changes`, async () => {
    const before = await checksums()
    expect(Number(before.tweets)).not.toBe(0)
    let sentCount = 0
    const statuses = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const answers = await Promise.all(
          batch.map(async (r) => {
            const target = `${r.path}${r.query === '' ? '' : `?${r.query}`}${r.repeatLimit ? `${r.query === '' ? '?' : '&'}limit=1&limit=2` : ''}`
            const sent: Sent = { method: r.method, target, body: r.body, contentType: r.contentType }
            return { sent, answer: await send(port, sent) }
          }),
        )
        for (const { sent, answer } of answers) {
          sentCount++
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
          const where = `${sent.method} ${sent.target.slice(0, 200)}`
          expect({ where, status: answer.status, below500: answer.status >= 100 && answer.status < 500 }).toEqual({
            where,
            status: answer.status,
            below500: true,
          })
          if (answer.status >= 400) {
            expect({ where, type: answer.headers['content-type'] }).toEqual({ where, type: 'application/problem+json' })
            if (sent.method !== 'HEAD') {
              const problem = JSON.parse(bodyText(answer)) as { status: number; detail: string; title: string }
              expect({ where, status: problem.status, detail: typeof problem.detail }).toEqual({
                where,
                status: answer.status,
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
    console.log(`hostile input: ${sentCount} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`)
    expect(await checksums()).toEqual(before)
    expect(service.child.exitCode).toBeNull()
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200)
    expect(service.stderr()).toBe('')
  }, 240_000)
})
