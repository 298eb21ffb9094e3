import { afterAll, describe, expect, test } from 'bun:test'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bufferedStdout } from './stdout-buffer'

const dir = mkdtempSync(join(tmpdir(), 'stdout-buffer-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('buffered stdout', () => {
  test('writes every line whole and in order: multi-byte characters at the buffer edge, lines longer than the buffer', async () => {
    const file = join(dir, 'out.log')
    const fd = openSync(file, 'w')
    const out = bufferedStdout(fd)
    const lines: string[] = []
    for (let i = 0; i < 5_000; i++) {
      // Sizes that do not divide the buffer, so that lines keep landing on its edge.
      const text = i % 997 === 0 ? 'é🚀'.repeat(40_000) : `${i} ${'ação 🚀 日本 '.repeat(i % 37)}`
      lines.push(`${text}\n`)
      out.write(`${text}\n`)
      if (i % 500 === 0) await Bun.sleep(0)
    }
    out.flush()
    closeSync(fd)
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''))
  })

  test('sends what a turn of the event loop wrote on the next turn, without an explicit flush', async () => {
    const file = join(dir, 'turn.log')
    const fd = openSync(file, 'w')
    const out = bufferedStdout(fd)
    out.write('first\n')
    out.write('second\n')
    expect(readFileSync(file, 'utf8')).toBe('')
    await new Promise((resolve) => setImmediate(resolve))
    await Bun.sleep(0)
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n')
    closeSync(fd)
  })
})
