import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { variables } from '../../src/config'

const root = join(import.meta.dir, '..', '..')
const envExample = readFileSync(join(root, '.env.example'), 'utf8')
const table = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')

describe('configuration documentation', () => {
  for (const [name, variable] of Object.entries(variables)) {
    const fallback = 'default' in variable ? variable.default : undefined
    test(`${name} is in .env.example with its default`, () => {
      const line = envExample.split('\n').find((l) => new RegExp(`^#?${name}=`).test(l))
      expect(line).toBeDefined()
      if (fallback !== undefined) expect(line).toBe(`${name}=${fallback}`)
    })
    test(`${name} is in the configuration table (docs/configuration.md) with its default`, () => {
      const row = table.split('\n').find((l) => l.startsWith(`| \`${name}\` |`))
      expect(row).toBeDefined()
      expect(row!.split('|')[2]!.trim()).toBe(fallback === undefined ? '' : `\`${fallback}\``)
    })
  }

  test('every variable .env.example mentions is one the service or the compose file reads', () => {
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8')
    const read = new Set([...Object.keys(variables), ...[...compose.matchAll(/\$\{([A-Z_]+)[:}]/g)].map((m) => m[1]!)])
    const mentioned = [...envExample.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!)
    for (const name of mentioned) expect({ name, read: read.has(name) }).toEqual({ name, read: true })
  })
})
