import { describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

/**
 * The GitHub Actions workflow is linted by actionlint in `bun run lint`. Here: the shipped workflow
 * passes, the lint fails on workflows broken the ways a careless edit breaks them, and the workflow
 * covers what the manual (docs/testing.md) promises it proves elsewhere.
 */

const ROOT = join(import.meta.dir, '..', '..')
const WORKFLOW = join(ROOT, '.github', 'workflows', 'ci.yml')

function lint(files: string[]) {
  const run = Bun.spawnSync(['bun', join(ROOT, 'scripts', 'lint-workflows.ts'), ...files], { cwd: ROOT })
  return { code: run.exitCode, out: run.stdout.toString() + run.stderr.toString() }
}

describe('workflow lint', () => {
  test('the shipped workflow has no findings', () => {
    const { code, out } = lint([])
    expect(out).toContain('0 findings')
    expect(code).toBe(0)
  })

  test.each([
    [
      'an unknown job key',
      (text: string) => text.replace('    timeout-minutes: 40\n', '    timeout-minutes: 40\n    timeout: 40\n'),
    ],
    [
      'an expression naming a context that does not exist',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
      (text: string) => text.replace('${{ matrix.engine.port }}', '${{ matrx.engine.port }}'),
    ],
    [
      'a step with both uses and run',
      (text: string) =>
        text.replace('      - uses: actions/checkout@v4\n', '      - uses: actions/checkout@v4\n        run: echo\n'),
    ],
  ])('when the workflow has %s, then the lint fails naming the line', (_, breakIt) => {
    const dir = mkdtempSync(join(tmpdir(), 'workflow-'))
    try {
      const file = join(dir, 'ci.yml')
      writeFileSync(file, breakIt(readFileSync(WORKFLOW, 'utf8')))
      const { code, out } = lint([relative(ROOT, file)])
      expect(code).toBe(1)
      expect(out).toMatch(/ci\.yml:\d+:\d+: /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('what the workflow proves elsewhere', () => {
  const text = readFileSync(WORKFLOW, 'utf8')

  test('the suite runs against MySQL 8.4, MariaDB 10.11 and 11.4, and TiDB', () => {
    for (const image of ['mysql:8.4', 'mariadb:10.11', 'mariadb:11.4', 'pingcap/tidb:v8.5'])
      expect(text).toContain(`image: ${image}`)
    expect(text).toContain('run: scripts/test.sh')
  })

  test('the stack job starts the stack, verifies it and purges it', () => {
    for (const step of ['scripts/start.sh', 'scripts/verify-stack.sh', 'scripts/stop.sh --purge'])
      expect(text).toContain(`run: ${step}`)
  })
})
