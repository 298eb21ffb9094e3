import { describe, expect, test } from 'bun:test'
import { createLogValues, DEFAULT_LIMITS, LEFT_OUT_KEY } from './log-values'
import { createLogger } from './logger'

const capture = (secrets: string[] = []) => {
  const lines: string[] = []
  const logger = createLogger({ destination: { write: (line) => void lines.push(line) }, values: createLogValues(secrets) })
  return { lines, logger, parsed: () => lines.map((line) => JSON.parse(line)) }
}

describe('logger', () => {
  test('when a secret is logged in a message, a field or an error, then no line carries it', () => {
    const out = capture(['s3cr3t-value'])
    out.logger.info({ url: { query: 'token=s3cr3t-value' } }, 'connecting with s3cr3t-value')
    out.logger.error({ err: new Error('auth failed for s3cr3t-value') }, 'failed')
    expect(out.lines.join('')).not.toContain('s3cr3t-value')
    expect(out.parsed()[0]).toMatchObject({ url: { query: 'token=[REDACTED]' }, message: 'connecting with [REDACTED]' })
    expect(out.parsed()[1].error).toMatchObject({ message: 'auth failed for [REDACTED]' })
    expect(out.parsed()[1].error.stack_trace).toStartWith('Error: auth failed for [REDACTED]\n')
  })

  test('when secrets overlap or one holds another, then the whole run is masked once', () => {
    const out = capture(['token-123', 'token-123-long', 'aba'])
    out.logger.info({ twitter: { a: 'x token-123-long y token-123 z', b: 'ababab' } })
    expect(out.parsed()[0].twitter).toEqual({ a: 'x [REDACTED] y [REDACTED] z', b: '[REDACTED]b' })
  })

  test('when a secret is too short to mask, then it is left alone', () => {
    const out = capture(['ab'])
    out.logger.info({ twitter: { a: 'ab' } }, 'ab')
    expect(out.parsed()[0]).toMatchObject({ twitter: { a: 'ab' }, message: 'ab' })
  })

  test('when a secret could show through the mask, then another mask is used', () => {
    const out = capture(['D]x'])
    out.logger.info({ twitter: { a: 'D]xD]x x' } })
    expect(out.parsed()[0].twitter.a).toBe('*** x')
  })

  test('when the API answers with 20,000 partial errors, then the line keeps 50 of them and counts the rest', () => {
    const out = capture()
    const errors = Array.from({ length: 20_000 }, (_, i) => ({
      title: 'Not Found Error',
      detail: `user ${i} is gone`,
      value: `${i}`,
    }))
    out.logger.warn({ twitter: { errors } }, 'partial errors')
    expect(out.lines[0]!.length).toBeLessThan(16 * 1024)
    const logged = out.parsed()[0].twitter.errors
    expect(logged).toHaveLength(DEFAULT_LIMITS.arrayItems + 1)
    expect(logged.slice(0, 50)).toEqual(errors.slice(0, 50))
    expect(logged[50]).toBe('[19950 more items]')
    expect(errors).toHaveLength(20_000)
  })

  test('when a string, a message or an error is huge, then it is cut with a marker, and the line stays small', () => {
    const out = capture()
    const huge = 'x'.repeat(5_000_000)
    out.logger.error({ twitter: { body: huge }, err: new Error(huge) }, huge)
    expect(out.lines[0]!.length).toBeLessThan(5 * DEFAULT_LIMITS.stringLength)
    const line = out.parsed()[0]
    for (const text of [line.twitter.body, line.error.message, line.error.stack_trace, line.message]) {
      expect(text.length).toBeLessThanOrEqual(DEFAULT_LIMITS.stringLength)
      expect(text).toEndWith(' characters, cut]')
    }
  })

  test('when an object is deep, circular or wide, then the line is bounded and still valid JSON', () => {
    const out = capture()
    let deep: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 1_000; i++) deep = { deep }
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    const wide = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, `value ${i}`]))
    out.logger.info({ twitter: { deep, circular, wide } })
    expect(out.lines[0]!.length).toBeLessThan(DEFAULT_LIMITS.total + 1024)
    const line = out.parsed()[0]
    expect(JSON.stringify(line.twitter.deep)).toContain('"[nested too deep]"')
    expect(line.twitter.circular).toEqual({ name: 'loop', self: '[Circular]' })
    expect(line.twitter.wide.key0).toBe('value 0')
    expect(line.twitter.wide[LEFT_OUT_KEY]).toMatch(/^\[\d+ more fields\]$/)
  })

  test('when LOG_FORMAT is pretty, then lines read as time, level and message, without the constant fields', () => {
    const lines: string[] = []
    createLogger({ destination: { write: (line) => void lines.push(line) }, format: 'pretty' }).warn(
      { event: { action: 'x' } },
      'hello',
    )
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: hello \{"event":\{"action":"x"\}\}\n$/)
  })

  test('extra targets receive the same JSON lines as stdout', () => {
    const out: string[] = []
    const extra: string[] = []
    createLogger({
      destination: { write: (line) => void out.push(line) },
      extraTargets: [{ write: (line) => void extra.push(line) }],
      values: createLogValues(['hide-me']),
    }).info('a hide-me b')
    expect(extra).toEqual(out)
    expect(JSON.parse(out[0]!).message).toBe('a [REDACTED] b')
  })
})
