import { createServer } from 'node:net'
import { join } from 'node:path'

/** The service and its commands as real processes, the way `bun run start` and `bun run collect` run them. */

export const SRC = join(import.meta.dir, '..')

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

export async function waitReady(url: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const status = await fetch(`${url}/health/ready`).then(
      (r) => r.status,
      () => 0,
    )
    if (status === 200) return
    await Bun.sleep(50)
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`)
}

/** Parses a stream of JSON log lines. */
export const jsonLines = (text: string): Record<string, any>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
