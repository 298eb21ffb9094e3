/**
 * `bun run lint:licenses`: every package the service runs with (package.json's dependencies and
 * theirs, as installed in node_modules) carries a license that lets this MIT-licensed project be run,
 * changed and shipped: a permissive one from the list below, or an SPDX expression made of them.
 * Copyleft (GPL, LGPL, AGPL, MPL, EPL, SSPL…) and unknown licenses fail, naming the package.
 *
 *   bun scripts/lint-licenses.ts [project folder]
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/** Permissive licenses (SPDX ids) compatible with shipping under MIT. */
export const PERMISSIVE = new Set([
  'MIT',
  'MIT-0',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'Unlicense',
  'Python-2.0',
  'Zlib',
])

/** Whether an SPDX expression is satisfied by permissive licenses: every AND term, some OR term. */
export function permissive(expression: string): boolean {
  const text = expression.replace(/[()]/g, ' ').trim()
  if (text === '') return false
  return text.split(/\s+OR\s+/).some((alternative) => alternative.split(/\s+AND\s+/).every((id) => PERMISSIVE.has(id.trim())))
}

const licenseOf = (manifest: { license?: unknown; licenses?: unknown }): string => {
  if (typeof manifest.license === 'string') return manifest.license
  if (typeof manifest.license === 'object' && manifest.license !== null)
    return String((manifest.license as { type?: unknown }).type ?? '')
  if (Array.isArray(manifest.licenses))
    return manifest.licenses.map((l: { type?: unknown }) => String(l?.type ?? '')).join(' OR ')
  return ''
}

/** Every installed package the production dependencies pull in, with its license; missing ones named. */
export function productionLicenses(root: string): { packages: { name: string; license: string }[]; missing: string[] } {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const seen = new Map<string, { name: string; license: string }>()
  const missing: string[] = []
  const queue: [string, string][] = Object.keys(manifest.dependencies ?? {}).map((name) => [name, root])
  while (queue.length > 0) {
    const [name, from] = queue.shift()!
    // Node's resolution: the nearest node_modules up from the package that depends on it.
    let found: string | null = null
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name, 'package.json')
      if (existsSync(candidate)) {
        found = candidate
        break
      }
      if (dirname(dir) === dir) break
    }
    if (found === null) {
      missing.push(name)
      continue
    }
    if (seen.has(found)) continue
    const installed = JSON.parse(readFileSync(found, 'utf8'))
    seen.set(found, { name: `${installed.name}@${installed.version}`, license: licenseOf(installed) })
    for (const dependency of Object.keys({ ...installed.dependencies, ...installed.optionalDependencies }))
      queue.push([dependency, dirname(found)])
  }
  return { packages: [...seen.values()], missing }
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? join(import.meta.dir, '..'))
  const { packages, missing } = productionLicenses(root)
  const refused = packages.filter((p) => !permissive(p.license))
  for (const p of refused)
    console.error(
      `${p.name}: license ${p.license === '' ? '(none given)' : p.license} is not one this project can ship under MIT`,
    )
  // An optional dependency for another platform is not installed; a required one missing is an install problem.
  if (refused.length > 0) process.exit(1)
  console.log(
    `licenses: ${packages.length} production packages, all permissive${missing.length > 0 ? ` (not installed here: ${missing.join(', ')})` : ''}`,
  )
}
