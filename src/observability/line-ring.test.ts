import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { LineRing } from './line-ring'

/** What the ring must behave like: an array of lines, with the same two bounds. */
class ModelQueue {
  lines: string[] = []
  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}
  private bytes = () => this.lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0)
  push(line: string): number {
    const length = Buffer.byteLength(line)
    if (length > this.maxBytes) return 1
    let dropped = 0
    while (this.bytes() + length > this.maxBytes || this.lines.length === this.maxLines) {
      this.lines.shift()
      dropped++
    }
    this.lines.push(line)
    return dropped
  }
  take(maxBytes: number): string[] {
    const taken: string[] = []
    let bytes = 0
    for (const line of this.lines) {
      const length = Buffer.byteLength(line)
      if (taken.length > 0 && bytes + length > maxBytes) break
      taken.push(line)
      bytes += length
    }
    this.lines.splice(0, taken.length)
    return taken
  }
}

// Lines of ASCII, accented letters, CJK and emoji: one to four bytes per character in UTF-8.
const lineArbitrary = fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => `${text}\n`)
const operation = fc.oneof(
  { weight: 3, arbitrary: lineArbitrary.map((line) => ({ push: line }) as const) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((maxBytes) => ({ take: maxBytes }) as const) },
)

describe('LineRing', () => {
  test('behaves as a bounded queue of lines through any sequence of appends and takes, across the end of the ring', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 8, max: 400 }),
        fc.array(operation, { maxLength: 200 }),
        (maxLines, maxBytes, operations) => {
          const ring = new LineRing(maxLines, maxBytes)
          const model = new ModelQueue(maxLines, maxBytes)
          for (const op of operations) {
            if ('push' in op) expect(ring.push(op.push)).toBe(model.push(op.push))
            else {
              const expected = model.take(op.take)
              const taken = ring.take(op.take)
              expect(taken?.chunk.toString('utf8') ?? '').toBe(expected.join(''))
              expect(taken?.lines ?? 0).toBe(expected.length)
            }
            expect(ring.lines).toBe(model.lines.length)
          }
          const rest = ring.take(Number.MAX_SAFE_INTEGER)
          expect(rest?.chunk.toString('utf8') ?? '').toBe(model.lines.join(''))
        },
      ),
      { numRuns: 500 },
    )
  })

  test('drops the oldest lines to stay within its bytes, and a line larger than the ring is itself dropped', () => {
    const ring = new LineRing(100, 64)
    for (let i = 0; i < 10; i++) expect(ring.push(`line ${i} ${'x'.repeat(10)}\n`)).toBe(i < 3 ? 0 : 1)
    expect(ring.lines).toBe(3)
    expect(ring.push(`${'y'.repeat(64)}\n`)).toBe(1)
    expect(ring.take(1_000)!.chunk.toString()).toBe(
      ['line 7', 'line 8', 'line 9'].map((l) => `${l} ${'x'.repeat(10)}\n`).join(''),
    )
    expect(ring.take(1_000)).toBeNull()
  })

  test('hands out a copy: lines written after a take do not change what was taken', () => {
    const ring = new LineRing(4, 32)
    ring.push('aaaaaaaaaa\n')
    ring.push('bbbbbbbbbb\n')
    const { chunk } = ring.take(11)!
    for (let i = 0; i < 8; i++) ring.push('cccccccccc\n')
    expect(chunk.toString()).toBe('aaaaaaaaaa\n')
    expect(ring.clear()).toBe(2)
    expect(ring.lines).toBe(0)
  })
})
