import { describe, expect, test } from 'bun:test'
import { createLogger, redactor } from './logger'

const capture = () => {
  const lines: string[] = []
  return { lines, write: (line: string) => void lines.push(line) }
}

describe('logger', () => {
  test('when a secret appears raw or JSON-escaped, then it is masked, longest first', () => {
    const redact = redactor(['p"ss\\word', 'token-123', 'token-123-long', 'ab'])
    expect(redact('{"message":"token-123-long and token-123"}')).toBe('{"message":"[REDACTED] and [REDACTED]"}')
    expect(redact(JSON.stringify({ message: 'pw is p"ss\\word' }))).toBe('{"message":"pw is [REDACTED]"}')
    // Too short to mask without masking everything.
    expect(redact('ab')).toBe('ab')
  })

  test('when a secret is logged in a message, a field or an error, then no line carries it', () => {
    const out = capture()
    const logger = createLogger({ destination: out, secrets: ['s3cr3t-value'] })
    logger.info({ url: { query: 'token=s3cr3t-value' } }, 'connecting with s3cr3t-value')
    logger.error({ err: new Error('auth failed for s3cr3t-value') }, 'failed')
    expect(out.lines.join('')).not.toContain('s3cr3t-value')
    expect(out.lines.join('')).toContain('[REDACTED]')
  })

  test('when LOG_FORMAT is pretty, then lines read as time, level and message, without the constant fields', () => {
    const out = capture()
    createLogger({ destination: out, format: 'pretty' }).warn({ event: { action: 'x' } }, 'hello')
    expect(out.lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: hello \{"event":\{"action":"x"\}\}\n$/)
  })

  test('extra targets receive the same JSON lines as stdout', () => {
    const out = capture()
    const extra = capture()
    createLogger({ destination: out, extraTargets: [extra], secrets: ['hide-me'] }).info('a hide-me b')
    expect(extra.lines).toEqual(out.lines)
    expect(JSON.parse(out.lines[0]!).message).toBe('a [REDACTED] b')
  })
})
