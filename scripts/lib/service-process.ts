import { createServer } from 'node:net'
import { join } from 'node:path'
import type { MysqlConfig } from '../../src/config'

/**
 * The service and its commands as real processes, the way `bun run start` and `bun run collect` run
 * them: for the system tests and the bench alike.
 */

export const SRC = join(import.meta.dir, '..', '..', 'src')

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Runs `bun <entry>` with only the given environment (plus PATH and HOME). */
export function spawnBun(entry: string, env: Record<string, string>) {
  return Bun.spawn(['bun', join(SRC, entry)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
}

/** Polls `url` until it answers 200; the time that took, in ms. */
export async function waitForOk(url: string, timeoutMs = 15_000): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) return performance.now() - started
    await Bun.sleep(5)
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
}

/** Waits until the service at `url` is ready (/health/ready answers 200). */
export const waitReady = (url: string, timeoutMs = 15_000): Promise<number> => waitForOk(`${url}/health/ready`, timeoutMs)

/** The MYSQL_URL that names a database of a test server. */
export const mysqlUrl = (config: Pick<MysqlConfig, 'user' | 'password' | 'host' | 'port' | 'database'>): string =>
  `mysql://${encodeURIComponent(config.user)}${config.password ? `:${encodeURIComponent(config.password)}` : ''}@${config.host}:${config.port}/${config.database}`

export interface RunningService {
  url: string
  child: ReturnType<typeof spawnBun>
  /** What the process wrote on stderr so far. */
  stderr(): string
  stop(): Promise<void>
}

/**
 * `bun run start` as a real process on a free port of 127.0.0.1, ready to serve. Its stdout (the
 * log lines) is read and thrown away, so that a full pipe never blocks it.
 */
export async function startService(env: Record<string, string>, readyTimeoutMs = 15_000): Promise<RunningService> {
  const port = await freePort()
  const child = spawnBun('index.ts', { PORT: String(port), HOST: '127.0.0.1', ...env })
  void new Response(child.stdout).arrayBuffer()
  let stderr = ''
  void (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true })
  })()
  const url = `http://127.0.0.1:${port}`
  await waitReady(url, readyTimeoutMs)
  return {
    url,
    child,
    stderr: () => stderr,
    async stop() {
      child.kill()
      await child.exited
    },
  }
}
