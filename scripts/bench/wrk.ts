import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** wrk (Debian package "wrk") over a list of paths, requested in turn (see wrk-report.lua), with a JSON summary. */

export interface LoadResult {
  rps: number
  p50_ms: number
  p99_ms: number
  max_ms: number
  /** Connect, read, write and timeout errors, and answers that were not 2xx or 3xx. */
  errors: number
  requests: number
  /** Bytes read per answer, status line and headers included: what the answers cost on the wire. */
  bytes_per_response: number
}

export interface LoadOptions {
  connections: number
  seconds: number
  /** Sent with every request (Accept-Encoding, say). */
  headers?: Record<string, string>
}

export async function runWrk(
  url: string,
  paths: string[],
  { connections, seconds, headers = {} }: LoadOptions,
): Promise<LoadResult> {
  const binary = Bun.which('wrk')
  if (binary === null) throw new Error('wrk is not installed: apt-get install wrk')
  const dir = mkdtempSync(join(tmpdir(), 'wrk-'))
  const file = join(dir, 'paths.txt')
  writeFileSync(file, `${paths.join('\n')}\n`)
  try {
    const run = Bun.spawn(
      [
        binary,
        '-t1',
        `-c${connections}`,
        `-d${seconds}s`,
        '--timeout',
        '5s',
        '-s',
        join(import.meta.dir, 'wrk-report.lua'),
        url,
        '--',
        file,
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    const out = await new Response(run.stdout).text()
    await run.exited
    const line = out.split('\n').find((l) => l.startsWith('{"requests"'))
    if (line === undefined) throw new Error(`wrk printed no summary:\n${out}\n${await new Response(run.stderr).text()}`)
    const r = JSON.parse(line)
    return {
      rps: Math.round(r.requests / (r.duration_us / 1e6)),
      p50_ms: r.p50_us / 1000,
      p99_ms: r.p99_us / 1000,
      max_ms: r.max_us / 1000,
      errors: r.errors.connect + r.errors.read + r.errors.write + r.errors.status + r.errors.timeout,
      requests: r.requests,
      bytes_per_response: r.requests === 0 ? 0 : Math.round(r.bytes / r.requests),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
