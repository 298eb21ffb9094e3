import { afterAll, describe, expect, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The credential scan `bun run lint` runs in CI (secretlint with the repository's rules): it passes
 * on the tree as committed and catches each kind of credential this project handles. The planted
 * values are assembled at run time, so this file itself holds none.
 */

const ROOT = join(import.meta.dir, '..', '..')
const planted = mkdtempSync(join(tmpdir(), 'secret-scan-'))
afterAll(() => rmSync(planted, { recursive: true, force: true }))

const randomText = (length: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') =>
  Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('')

function scan(files: string[]) {
  const run = Bun.spawnSync(
    [
      join(ROOT, 'node_modules', '.bin', 'secretlint'),
      '--secretlintrc',
      join(ROOT, '.secretlintrc.json'),
      '--format',
      'json',
      ...files,
    ],
    { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
  )
  const text = run.stdout.toString()
  const results = text.trim() === '' ? [] : (JSON.parse(text) as { filePath: string; messages: { ruleId: string }[] }[])
  return { exitCode: run.exitCode, flagged: results.filter((r) => r.messages.length > 0).map((r) => r.filePath) }
}

describe('credential scan', () => {
  test('when run on the committed tree, then it finds nothing', () => {
    const tracked = Bun.spawnSync(['git', 'ls-files'], { cwd: ROOT }).stdout.toString().trim().split('\n')
    const { exitCode, flagged } = scan(tracked.filter((file) => file !== 'bun.lock'))
    expect(flagged).toEqual([])
    expect(exitCode).toBe(0)
  })

  test.each([
    ['a filled-in .env', '.env', `MYSQL_PASSWORD=${randomText(20)}\n`],
    [
      'a password in compose YAML',
      'docker-compose.override.yml',
      `services:\n  app:\n    environment:\n      GRAFANA_ADMIN_PASSWORD: ${randomText(16)}\n`,
    ],
    ['an X API bearer token in code', 'client.ts', `export const token = '${'A'.repeat(21)}${randomText(80)}'\n`],
    [
      'a MySQL URL with a password',
      'config.ts',
      `export const url = 'mysql://app:${randomText(12)}@db.example.com:3306/twitter'\n`,
    ],
    ['a GitHub token', 'notes.md', `token: ghp_${randomText(36)}\n`],
    [
      'a private key',
      'key.pem',
      generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } }).privateKey,
    ],
  ])('when %s is committed, then the scan fails and names the file', (_, name, content) => {
    const file = join(planted, name)
    writeFileSync(file, content)
    const { exitCode, flagged } = scan([file])
    expect(flagged).toEqual([file])
    expect(exitCode).toBe(1)
  })
})
