import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'

/**
 * Every command a person runs answers --help with its usage (exit 0) and refuses what it does not
 * take in one line on stderr (exit 2), before it touches a database, a port or a file.
 */

const ROOT = join(import.meta.dir, '..', '..')
const COMMANDS = [
  ['bun run start', 'src/index.ts'],
  ['bun run collect', 'src/collect.ts'],
  ['bun run seed', 'scripts/seed.ts'],
  ['bun run bench', 'scripts/bench.ts'],
  ['bun scripts/generate-sample.ts', 'scripts/generate-sample.ts'],
] as const

const run = (file: string, args: string[]) => {
  // No database reachable: a command that went past its command line would fail another way.
  const child = Bun.spawnSync(['bun', join(ROOT, file), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MYSQL_URL: 'mysql://nobody@127.0.0.1:1/none' },
  })
  return { code: child.exitCode, out: child.stdout.toString(), err: child.stderr.toString() }
}

describe('every command', () => {
  for (const [name, file] of COMMANDS) {
    test(`${name} --help prints its usage and exits 0`, () => {
      const { code, out, err } = run(file, ['--help'])
      expect({ code, err }).toEqual({ code: 0, err: '' })
      expect(out.split('\n')[0]).toStartWith(`Usage: ${name}`)
      expect(out).toContain('--help')
    })

    test(`${name} with an option it does not take says so in one line and exits 2`, () => {
      for (const args of [['--no-such-option'], ['stray'], ['--help=yes']]) {
        const { code, out, err } = run(file, args)
        expect({ args, code, out, lines: err.trimEnd().split('\n').length }).toEqual({ args, code: 2, out: '', lines: 1 })
        expect(err).toStartWith(`${name}: `)
      }
    })
  }
})
