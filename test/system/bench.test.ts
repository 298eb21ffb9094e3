import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The benchmark is not a timed test: this only checks that `bun run bench --smoke` runs through
 * and reports well-formed results. The figures come from `bun run bench` (see docs/performance.md).
 */

const ROOT = join(import.meta.dir, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('bun run bench --smoke', () => {
  test('it runs every part and writes a table and a well-formed JSON report', async () => {
    if (Bun.which('wrk') === null) throw new Error('wrk is not installed: apt-get install wrk')
    const out = join(dir, 'report.json')
    const run = Bun.spawn(['bun', join(ROOT, 'scripts', 'bench.ts'), '--smoke', '--json', out], {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const code = await run.exited
    const stdout = await new Response(run.stdout).text()
    expect({ code, stderr: code === 0 ? '' : await new Response(run.stderr).text() }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toContain('bare Bun')
    expect(stdout).toContain(`results written to ${out}`)

    // Types checked one by one: toMatchObject with expect.any() rewrites the object it checks (Bun 1.4).
    const report = JSON.parse(readFileSync(out, 'utf8'))
    const types = (value: Record<string, unknown>, keys: string[]) =>
      Object.fromEntries(keys.map((key) => [key, typeof value[key]]))
    expect(types(report.machine, ['cpus', 'bun', 'mysql'])).toEqual({ cpus: 'number', bun: 'string', mysql: 'string' })
    expect(report.results.length).toBeGreaterThanOrEqual(5)
    for (const row of report.results) {
      expect(types(row, ['section', 'name', 'rps', 'p50_ms', 'p99_ms', 'errors'])).toEqual({
        section: 'string',
        name: 'string',
        rps: 'number',
        p50_ms: 'number',
        p99_ms: 'number',
        errors: 'number',
      })
      expect(row.errors).toBe(0)
      expect(row.rps).toBeGreaterThan(0)
      expect(row.p99_ms).toBeGreaterThanOrEqual(row.p50_ms)
    }
    const compared = report.results.filter((row: { baseline_rps?: number }) => row.baseline_rps !== undefined)
    expect(compared.length).toBeGreaterThanOrEqual(1)
    for (const row of compared) expect(row.ratio).toBeCloseTo(row.rps / row.baseline_rps, 1)
    // The analysis scenarios: each against its bare baseline, p99 too, with its target.
    const analysis = report.results.filter((row: { section: string }) => row.section.startsWith('analysis'))
    expect(analysis.map((row: { name: string }) => row.name)).toContain('related to #devops (7 d)')
    expect(analysis.length).toBeGreaterThanOrEqual(10)
    for (const row of analysis) {
      expect(types(row, ['baseline_rps', 'baseline_p99_ms', 'p99_ratio', 'target_p99_ms', 'target_met'])).toEqual({
        baseline_rps: 'number',
        baseline_p99_ms: 'number',
        p99_ratio: 'number',
        target_p99_ms: 'number',
        target_met: 'boolean',
      })
      expect(row.p99_ratio).toBeCloseTo(row.p99_ms / row.baseline_p99_ms, 1)
    }
    // Both exports read the whole selection, against the same bytes from a bare server.
    expect(report.exports.map((row: { format: string }) => row.format)).toEqual(['csv', 'ndjson'])
    for (const row of report.exports) {
      expect(row.tweets).toBe(5_000)
      expect(row.tweets_per_s).toBeGreaterThan(0)
      expect(row.bare_tweets_per_s).toBeGreaterThan(0)
      expect(row.rss_peak_mb).toBeGreaterThanOrEqual(row.rss_idle_mb)
    }
    expect(stdout).toContain('exports of tweets/all')
    // A cheap request beside as many exports as may run at once, against itself with none.
    const probe = report.results.filter((row: { section: string }) => row.section.startsWith('exports beside a probe'))
    expect(probe.map((row: { name: string }) => row.name)).toEqual(['/health/live'])
    expect(probe[0].baseline_rps).toBeGreaterThan(0)
    expect(report.facts.exports_probe_p99_loaded_ms).toBe(probe[0].p99_ms)
    // Every target is reported as met or missed; none fails the run.
    expect(report.targets.length).toBe(analysis.length + 2 * report.exports.length + 1)
    expect(report.targets.map((t: { figure: string }) => t.figure)).toContain('p99_growth_ms')
    for (const target of report.targets) {
      expect(types(target, ['name', 'figure', 'value', 'met'])).toEqual({
        name: 'string',
        figure: 'string',
        value: 'number',
        met: 'boolean',
      })
    }
    expect(stdout).toMatch(/targets: \d+ met, \d+ missed/)
    const facts = [
      'cold_start_ms',
      'cold_start_bare_bun_ms',
      'collector_tweets_per_second',
      'collector_plain_insert_tweets_per_second',
      'large_rss_peak_mb_cache_on',
    ]
    expect(types(report.facts, facts)).toEqual(Object.fromEntries(facts.map((fact) => [fact, 'number'])))
  }, 240_000)
})
