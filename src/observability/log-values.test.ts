import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { createLogValues, MIN_SECRET_LENGTH } from './log-values'
import { CONSTANT_FIELDS, createLogger, type Logger } from './logger'

/**
 * Whatever a secret is, and wherever and however it is echoed into a log call, the line is valid
 * JSON, carries no form of the secret in any value, and keeps its keys. Lines are checked after
 * JSON.parse, which undoes exactly the JSON escaping: the raw line may show a secret's letters by
 * coincidence of escapes ("\n" followed by "ab" reads "nab") without any value holding it.
 */

const attempt = (transform: (text: string) => string, text: string): string | null => {
  try {
    return transform(text)
  } catch {
    return null
  }
}
const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1)
const formEncoded = (text: string) => new URLSearchParams({ v: text }).toString().slice(2)

/** The forms an echo of a secret takes, as the tests understand them. */
function echoes(secret: string): string[] {
  const decoded = attempt(decodeURIComponent, secret)
  const texts = decoded === null ? [secret] : [secret, decoded]
  return texts.flatMap((text) =>
    [text, jsonEscaped(text), attempt(encodeURIComponent, text), formEncoded(text)].filter((f): f is string => f !== null),
  )
}

/** Fields the logger itself adds (time, level, process, service): not from the log call. */
const OWN_FIELDS = new Set(['@timestamp', 'log.level', ...CONSTANT_FIELDS])

function stringValues(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (value !== null && typeof value === 'object') for (const child of Object.values(value)) stringValues(child, out)
  return out
}

function keysOf(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}/${key}`, ...keysOf(child, `${prefix}/${key}`)])
}

const capture = (secrets: string[]) => {
  const lines: string[] = []
  const logger = createLogger({ destination: { write: (line) => void lines.push(line) }, values: createLogValues(secrets) })
  return { lines, logger }
}

/** Secrets a masking on the finished line gets wrong, and secrets of every shape. */
const SHAPES = [
  'false',
  'true',
  'null',
  '1',
  '123',
  'message',
  'level',
  'log.level',
  'error',
  'stack_trace',
  'twitter',
  'info',
  'p"ss\\word',
  '100%',
  'a%zz',
  'tok%2Fen%3D',
  'a+b c',
  'pa%ss',
  'ACT',
  'D]x',
  '[RE',
  'ü"\\é😀',
  '__proto__',
]
const ALPHABET = [
  'a',
  'b',
  'A',
  '0',
  '%',
  '2',
  'F',
  '3',
  'D',
  '+',
  ' ',
  '"',
  '\\',
  '/',
  '=',
  '\n',
  'é',
  '😀',
  '[',
  ']',
  ':',
  ',',
  '{',
]
const secretArbitrary = fc.oneof(
  fc.constantFrom(...SHAPES),
  fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 1, maxLength: 14 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
)
const filler = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 8 })

/** A log call holding the secret in each of its forms: in the message, in fields, in an error, in an array, as a key. */
function logWith(logger: Logger, secret: string, before: string, after: string) {
  const decoded = attempt(decodeURIComponent, secret) ?? secret
  const body = JSON.stringify({ title: 'Unauthorized', detail: `bad token ${decoded}`, token: secret })
  const fields = {
    event: { action: `${before}${secret}${after}` },
    url: { query: `token=${attempt(encodeURIComponent, secret) ?? ''}&form=${formEncoded(secret)}` },
    twitter: {
      forms: echoes(secret).map((form) => `${before}${form}${after}`),
      body,
      nested: { deeper: { echo: `${after}${jsonEscaped(decoded)}${before}` } },
      [secret]: before,
      flag: false,
      count: 1,
      nothing: null,
    },
  }
  logger.warn({ ...fields, err: new Error(`401 from the API: ${body}`) }, `refused ${before}${secret}${after}: %s`, decoded)
  return fields
}

describe('log values', () => {
  test('when a secret of any shape is echoed in any form, then every line parses, keeps its keys and shows no form of it', () => {
    fc.assert(
      fc.property(secretArbitrary, filler, filler, (secret, before, after) => {
        const { lines, logger } = capture([secret])
        const fields = logWith(logger, secret, before, after)
        expect(lines).toHaveLength(1)
        const line = JSON.parse(lines[0]!)
        expect(keysOf(line.twitter)).toEqual(keysOf(fields.twitter))
        expect(line.twitter).toMatchObject({ flag: false, count: 1, nothing: null })
        const logged = Object.fromEntries(Object.entries(line).filter(([key]) => !OWN_FIELDS.has(key)))
        const forms = echoes(secret).filter((form) => form.length >= MIN_SECRET_LENGTH)
        for (const value of stringValues(logged)) {
          for (const form of forms) expect({ value, form, leaked: value.includes(form) }).toEqual({ value, form, leaked: false })
        }
      }),
      { numRuns: 500 },
    )
  })
})
