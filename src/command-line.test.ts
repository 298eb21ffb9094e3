import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { type CommandSpec, flag, oneOfWords, readCommandLine, wholeNumber } from './command-line'

/** Whatever a person or a script types after a command: the help, the values, or one line saying what is wrong. */

const SPEC = {
  name: 'bun run thing',
  summary: 'Does a thing.',
  options: {
    count: { value: 'N', description: 'how many', default: '10', parse: wholeNumber(1, 100) },
    mode: { value: 'MODE', description: 'how', parse: oneOfWords('fast', 'slow') },
    dry: flag('change nothing'),
  },
} satisfies CommandSpec<any>

describe('reading a command line', () => {
  test('--help and -h give the usage with every option, its value, default and meaning', () => {
    for (const args of [['--help'], ['-h'], ['--count', '5', '--help']]) {
      const read = readCommandLine(SPEC, args)
      expect(read.kind).toBe('help')
      if (read.kind !== 'help') continue
      expect(read.text.split('\n')[0]).toBe('Usage: bun run thing [--count N] [--mode MODE] [--dry]')
      expect(read.text).toContain('--count N')
      expect(read.text).toContain('how many (default: 10)')
      expect(read.text).toContain('--help')
    }
  })

  test('values are parsed and defaulted; a flag is false unless given', () => {
    expect(readCommandLine(SPEC, [])).toEqual({ kind: 'run', values: { count: 10, dry: false } } as any)
    expect(readCommandLine(SPEC, ['--count=7', '--mode', 'slow', '--dry'])).toEqual({
      kind: 'run',
      values: { count: 7, mode: 'slow', dry: true },
    })
  })

  test('an unknown option, a bad value, a missing value or an argument is one line naming it', () => {
    for (const [args, says] of [
      [['--nope'], "Unknown option '--nope'"],
      [['--count', 'abc'], '--count must be a whole number from 1 to 100, not "abc"'],
      [['--count', '0x10'], '--count must be a whole number from 1 to 100, not "0x10"'],
      [['--mode', 'warp'], '--mode must be one of fast, slow, not "warp"'],
      [['--count'], "Option '--count <value>' argument missing"],
      [['extra'], "Unexpected argument 'extra'"],
    ] as const) {
      const read = readCommandLine(SPEC, [...args])
      expect({ args, kind: read.kind }).toEqual({ args, kind: 'usage-error' })
      if (read.kind === 'usage-error') expect(read.text).toStartWith(`bun run thing: ${says}`)
    }
  })

  test('whatever is typed, the answer is the help, the values, or one bounded line without control characters', () => {
    const token = fc.oneof(
      fc.constantFrom('--help', '-h', '--count', '--mode', '--dry', '--', '-', '--count=', '--dry=1', 'fast', '5'),
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 20 }).map((s) => `--${s}`),
      fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `--count=${s}`),
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 6 }), (args) => {
        const read = readCommandLine(SPEC, args)
        if (read.kind !== 'usage-error') return
        expect(read.text.includes('\n')).toBe(false)
        expect(/\p{Cc}/u.test(read.text)).toBe(false)
        expect(read.text.length).toBeLessThan(400)
        expect(read.text).toEndWith('(see --help)')
      }),
      { numRuns: 2_000 },
    )
  })
})
