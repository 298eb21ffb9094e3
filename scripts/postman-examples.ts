/**
 * `bun scripts/postman-examples.ts`: saves, in every request of the Postman collection, the example
 * response that Postman's documentation and mock server show, taken from a real run. It starts the
 * service (`bun src/index.ts`) on a throwaway database filled from the bundled sample data, runs the
 * collection with newman (so pre-request scripts fetch their cursor and ETag as they do for a user),
 * and replaces each request's `response` with what it got: status, the headers a client reads, and
 * the body (JSON pretty-printed; the metrics cut to their first lines, the CSV and NDJSON exports to
 * their first records). Nothing else in the collection changes. It fails, writing nothing, when any
 * request or test of the run fails.
 *
 * Needs a MySQL/MariaDB server (MYSQL_URL, or root@127.0.0.1:3306) and Node.js for newman. The sample's
 * ids are synthetic; its dates are moved to the time of the run, so ETags, dates and request ids
 * change each time it is run.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '../test/support/database'
import { mysqlUrl, startService } from './lib/service-process'

const ROOT = join(import.meta.dir, '..')
const COLLECTION = join(ROOT, 'postman', 'twitter-hashtags.postman_collection.json')
const NEWMAN = join(ROOT, 'node_modules', 'newman', 'bin', 'newman.js')
const BIOME = join(ROOT, 'node_modules', '.bin', 'biome')

/**
 * The response headers an example keeps: those a client acts on. Date and the request id's value
 * change every time, Content-Length and Content-Encoding describe the bytes on the wire, not the
 * decoded (and pretty-printed) body saved here.
 */
const KEPT_HEADERS = [
  'Content-Type',
  'Content-Disposition',
  'ETag',
  'Cache-Control',
  'Vary',
  'Link',
  'Allow',
  'Retry-After',
  'X-Request-Id',
]

/** The metrics are some 30 KB: an example shows how they look, not all of them. */
const TEXT_LINES = 30

/**
 * An export holds every tweet selected: its example keeps the first few records, whole (and the CSV
 * header row), so that it still parses as the format says; the example's name says how many it left out.
 */
const EXPORT_RECORDS = 5

/** A JSON document (application/json, application/problem+json), not JSON lines (application/x-ndjson). */
const isJsonDocument = (type: string) => /^application\/([\w.-]+\+)?json\b/i.test(type)

/** The records of a CSV text (CRLF outside quotes ends one) or of NDJSON (LF), each with its line end. */
function recordsOf(text: string, csv: boolean): string[] {
  if (!csv) return text.split(/(?<=\n)/)
  const records: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted
    else if (!quoted && text[i] === '\r' && text[i + 1] === '\n') {
      records.push(text.slice(start, i + 2))
      start = i + 2
    }
  }
  if (start < text.length) records.push(text.slice(start))
  return records
}

interface Header {
  key: string
  value: string
}
interface Item {
  name: string
  item?: Item[]
  request?: { method: string; header: Header[]; url: unknown; description?: string }
  response?: unknown[]
}
interface Execution {
  item: { name: string }
  requestError?: unknown
  response?: { code: number; status: string; header: Header[]; stream?: { data: number[] } }
}

function requestsOf(items: Item[]): Item[] {
  return items.flatMap((item) => (item.item ? requestsOf(item.item) : [item]))
}

function bodyOf(type: string, bytes: number[]): { body: string; language: string; left?: number } {
  const text = Buffer.from(bytes).toString('utf8')
  if (text === '') return { body: '', language: 'text' }
  if (isJsonDocument(type)) return { body: JSON.stringify(JSON.parse(text), null, 2), language: 'json' }
  const csv = type.startsWith('text/csv')
  if (csv || type.startsWith('application/x-ndjson')) {
    const records = recordsOf(text, csv)
    const kept = EXPORT_RECORDS + (csv ? 1 : 0)
    const left = Math.max(0, records.length - kept)
    return { body: records.slice(0, kept).join(''), language: 'text', ...(left > 0 ? { left } : {}) }
  }
  const lines = text.split('\n')
  if (lines.length <= TEXT_LINES) return { body: text, language: 'text' }
  return {
    body: [...lines.slice(0, TEXT_LINES), `# ... ${lines.length - TEXT_LINES} more lines, cut from this example`, ''].join('\n'),
    language: 'text',
  }
}

/** The example Postman stores for a request: the request as written (variables unresolved) and what it got. */
function exampleOf(item: Item, execution: Execution) {
  const response = execution.response!
  const header = KEPT_HEADERS.flatMap((name) => {
    const found = response.header.find((h) => h.key.toLowerCase() === name.toLowerCase())
    return found ? [{ key: name, value: found.value }] : []
  })
  const { body, language, left } = bodyOf(header.find((h) => h.key === 'Content-Type')?.value ?? '', response.stream?.data ?? [])
  const { description: _, ...originalRequest } = item.request!
  return {
    name: `${response.code} ${response.status}${left === undefined ? '' : ` (first ${EXPORT_RECORDS} tweets; ${left} more cut from this example)`}`,
    originalRequest,
    status: response.status,
    code: response.code,
    _postman_previewlanguage: language,
    header,
    cookie: [],
    body,
  }
}

async function run(baseUrl: string, report: string): Promise<Execution[]> {
  const newman = Bun.spawn(
    [
      'node',
      NEWMAN,
      'run',
      COLLECTION,
      '--env-var',
      `baseUrl=${baseUrl}`,
      '--reporters',
      'cli,json',
      '--reporter-json-export',
      report,
    ],
    { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  )
  const code = await newman.exited
  if (code !== 0) {
    const output = (await new Response(newman.stdout).text()) + (await new Response(newman.stderr).text())
    throw new Error(`newman failed (exit code ${code}); no example was written:\n${output}`)
  }
  return JSON.parse(readFileSync(report, 'utf8')).run.executions
}

const dir = mkdtempSync(join(tmpdir(), 'postman-examples-'))
const database = await createTestDatabase()
try {
  const service = await startService(
    { MYSQL_URL: mysqlUrl(database.config), COLLECT_SOURCE: 'sample', LOG_LEVEL: 'warn' },
    60_000,
  )
  let executions: Execution[]
  try {
    executions = await run(service.url, join(dir, 'report.json'))
  } finally {
    await service.stop()
  }
  const collection = JSON.parse(readFileSync(COLLECTION, 'utf8'))
  const items = requestsOf(collection.item)
  for (const item of items) {
    // A request's own answer comes after those its pre-request script asked for.
    const execution = executions.findLast((e) => e.item.name === item.name)
    if (execution?.response === undefined) throw new Error(`no response was recorded for "${item.name}"`)
    item.response = [exampleOf(item, execution)]
  }
  writeFileSync(COLLECTION, `${JSON.stringify(collection, null, 2)}\n`)
  // The collection is checked by Biome like the code: write it in its format.
  const format = Bun.spawnSync([BIOME, 'format', '--write', COLLECTION], { stdout: 'ignore', stderr: 'pipe' })
  if (format.exitCode !== 0) throw new Error(`biome could not format the collection: ${format.stderr}`)
  console.log(`saved an example response in each of the ${items.length} requests of ${COLLECTION}`)
} finally {
  await database.drop()
  rmSync(dir, { recursive: true, force: true })
}
