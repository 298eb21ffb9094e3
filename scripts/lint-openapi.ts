/**
 * Lints the OpenAPI document the service serves with Redocly CLI's recommended rules (`bun run
 * lint:openapi`, part of `bun run lint`). Nothing is started: the app is built in this process on a
 * database that is never reached (building it opens no connection), /swagger/json is asked of it
 * through `app.handle`, and the answer is written to a temporary file for redocly.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { createApp } from '../src/app'
import type { Database } from '../src/db/sql'
import { createResponseCache } from '../src/http/response-cache'
import { createLogger } from '../src/observability/logger'

const ROOT = join(import.meta.dir, '..')
const REDOCLY = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js')

const unreachable = () => Promise.reject(new Error('the OpenAPI lint reads no data'))
const db = { config: {}, rows: unreachable, run: unreachable } as unknown as Database
const app = createApp({
  db,
  schema: new Map(),
  exportConcurrency: 1,
  lifecycle: { shuttingDown: false, starting: null },
  logger: createLogger({ level: 'fatal' }),
  registry: new Registry(),
  cache: createResponseCache({ current: unreachable, known: () => null, invalidate() {} }, 0, 1_000),
})
const response = await app.handle(new Request('http://localhost/swagger/json'))
if (response.status !== 200) throw new Error(`/swagger/json answered ${response.status}`)

const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'))
try {
  const file = join(dir, 'openapi.json')
  await Bun.write(file, await response.text())
  // Telemetry off: CI and closed networks have nowhere to send it.
  const lint = Bun.spawn(['node', REDOCLY, 'lint', '--extends=recommended', '--format=stylish', file], {
    stdout: 'inherit',
    stderr: 'inherit',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  })
  process.exitCode = await lint.exited
} finally {
  rmSync(dir, { recursive: true, force: true })
}
