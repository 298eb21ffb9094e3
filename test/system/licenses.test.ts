import { describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkg from '../../package.json'
import { permissive } from '../../scripts/lint-licenses'

/** The project is MIT-licensed, and so may be everything it runs with: the lint step proves it, and fails on anything else. */

const ROOT = join(import.meta.dir, '..', '..')
const lint = (root: string) => {
  const run = Bun.spawnSync(['bun', join(ROOT, 'scripts', 'lint-licenses.ts'), root])
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() }
}

describe('licenses', () => {
  test('the project grants MIT: LICENSE and package.json say so (the OpenAPI document: src/app.test.ts)', () => {
    expect(pkg.license).toBe('MIT')
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toStartWith('MIT License\n')
  })

  test('every production dependency, installed, carries a permissive license', () => {
    const { code, out } = lint(ROOT)
    expect(code).toBe(0)
    expect(out).toContain('all permissive')
  })

  test('when a dependency, however deep, is copyleft or gives no license, then the lint fails naming it; a choice that includes a permissive license passes', () => {
    const root = mkdtempSync(join(tmpdir(), 'licenses-'))
    try {
      const install = (dir: string, name: string, license: string | null, dependencies: string[] = []) => {
        mkdirSync(join(dir, 'node_modules', name), { recursive: true })
        const manifest = {
          name,
          version: '1.0.0',
          ...(license === null ? {} : { license }),
          dependencies: Object.fromEntries(dependencies.map((d) => [d, '*'])),
        }
        writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify(manifest))
      }
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'p', dependencies: { a: '*', d: '*', e: '*' } }))
      install(root, 'a', 'MIT', ['b', 'c'])
      install(root, 'b', 'GPL-3.0-only')
      install(root, 'c', null)
      install(root, 'd', '(MIT OR GPL-3.0-or-later)')
      install(root, 'e', 'MIT AND LGPL-2.1-only')
      const { code, err } = lint(root)
      expect(code).toBe(1)
      const named = err
        .trim()
        .split('\n')
        .map((line) => line.split(':')[0])
      expect(named.sort()).toEqual(['b@1.0.0', 'c@1.0.0', 'e@1.0.0'])
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  test('SPDX expressions: every AND term and some OR term must be permissive', () => {
    expect(permissive('MIT')).toBe(true)
    expect(permissive('(MIT OR Apache-2.0)')).toBe(true)
    expect(permissive('MIT AND BSD-3-Clause')).toBe(true)
    expect(permissive('GPL-2.0-only OR MIT')).toBe(true)
    expect(permissive('MIT AND GPL-2.0-only')).toBe(false)
    expect(permissive('SSPL-1.0')).toBe(false)
    expect(permissive('')).toBe(false)
    expect(permissive('SEE LICENSE IN LICENSE.txt')).toBe(false)
  })
})
