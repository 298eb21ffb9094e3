import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { freePort } from '../../scripts/lib/service-process'
import { PROMETHEUS_YML, RULES } from './provisioning'

/**
 * A real Prometheus (Debian's package) with the project's configuration and alert rules, rewritten
 * only where a test must: it scrapes the given target instead of the compose service, every second.
 */

export function requireTool(name: string): string {
  const path = Bun.which(name)
  // Not a skip: CI installs Prometheus (Debian package "prometheus"); without it this proof is missing.
  if (path === null) throw new Error(`${name} is not installed: apt-get install prometheus`)
  return path
}

export async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(250)
  }
}

export interface RunningPrometheus {
  url: string
  /** The rewritten configuration it runs with. */
  configFile: string
  query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }>
  stop(): Promise<void>
}

/** Prometheus on a free port of 127.0.0.1, scraping `target` (host:port) with the project's job and rules; ready. */
export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const binary = requireTool('prometheus')
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-test-'))
  const config = parse(readFileSync(PROMETHEUS_YML, 'utf8'))
  config.global.scrape_interval = '1s'
  config.global.evaluation_interval = '1s'
  config.rule_files = [RULES]
  const job = config.scrape_configs[0]
  delete job.dns_sd_configs
  job.static_configs = [{ targets: [target] }]
  const configFile = join(dir, 'prometheus.yml')
  writeFileSync(configFile, stringify(config))

  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = Bun.spawn(
    [
      binary,
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdout: 'ignore', stderr: 'pipe' },
  )
  const stop = async () => {
    child.kill()
    await child.exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await until(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.status === 200, 20_000, 'Prometheus to be ready')
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    configFile,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
      return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } }
    },
    stop,
  }
}
