import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'

/**
 * Imports point down the layers, as docs/architecture.md draws them. Each production
 * module of src/ belongs to one layer; it may import its own layer's modules and those of the layers
 * it is allowed to see, nothing above. Layers of one level (http and db, app and collector) do not
 * see each other. Type-only imports count too: they tie a module to another's shape.
 */

const SRC = join(import.meta.dir, '..', '..', 'src')

/** Layer of a module, by its path under src/. */
function layerOf(path: string): string {
  const [first] = path.split('/')
  const processModules = [
    'index.ts',
    'collect.ts',
    'command-line.ts',
    'healthcheck.ts',
    'memory-target.ts',
    'root.ts',
    'schema-start.ts',
    'stop-signals.ts',
  ]
  if (processModules.includes(path)) return 'process'
  if (path === 'app.ts') return 'app'
  if (first === 'config') return 'config'
  return first!
}

/** What each layer may import, besides itself. */
const SEES: Record<string, string[]> = {
  process: ['app', 'collector', 'modules', 'http', 'observability', 'db', 'domain', 'config'],
  app: ['modules', 'http', 'observability', 'db', 'domain', 'config'],
  collector: ['observability', 'db', 'domain', 'config'],
  modules: ['http', 'observability', 'db', 'domain', 'config'],
  http: ['observability', 'domain', 'config'],
  observability: ['domain', 'config'],
  db: ['domain', 'config'],
  config: ['domain'],
  domain: [],
}

function productionModules(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return productionModules(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(SRC, path)] : []
  })
}

/** The src/ modules a module imports (relative specifiers only; packages are not layers). */
function importsOf(path: string): string[] {
  const text = readFileSync(join(SRC, path), 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']*)'/g)]
    .map((match) => normalize(join(dirname(path), match[1]!)))
    .filter((target) => !target.startsWith('..'))
    .map((target) => [`${target}.ts`, join(target, 'index.ts'), target].find((file) => existsSync(join(SRC, file)))!)
}

describe('layers', () => {
  const modules = productionModules()

  test('every production module of src/ belongs to a known layer', () => {
    expect(modules.filter((path) => !Object.hasOwn(SEES, layerOf(path)))).toEqual([])
  })

  test('no module imports from a layer above it or beside it', () => {
    const violations = modules.flatMap((path) => {
      const from = layerOf(path)
      return importsOf(path)
        .filter((target) => {
          const to = layerOf(target)
          return to !== from && !SEES[from]!.includes(to)
        })
        .map((target) => `${path} (${from}) imports ${target} (${layerOf(target)})`)
    })
    expect(violations).toEqual([])
  })

  test('the check sees imports: the process layer imports the composition root', () => {
    expect(importsOf('index.ts')).toContain('root.ts')
  })
})
