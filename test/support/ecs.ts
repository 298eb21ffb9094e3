import { isIP } from 'node:net'
import { EcsFlat } from '@elastic/ecs'

/**
 * Checks log lines against the ECS field definitions of the @elastic/ecs package: every field must
 * be an ECS field holding a value of its ECS type, or sit under the service's own namespace.
 */

export const CUSTOM_NAMESPACE = 'twitter'

type FieldDefinition = { type: string; normalize: string[] }
const fields = EcsFlat as unknown as Record<string, FieldDefinition>

function accepts(type: string, value: unknown): boolean {
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'text':
    case 'match_only_text':
      return typeof value === 'string'
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'unsigned_long':
      return Number.isInteger(value)
    case 'float':
    case 'double':
    case 'half_float':
    case 'scaled_float':
      return typeof value === 'number'
    case 'boolean':
      return typeof value === 'boolean'
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value))
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0
    default:
      return false
  }
}

/** Leaf fields of a log line as dotted paths; pino's ECS format mixes dotted keys and nested objects. */
export function leaves(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`
    if (child !== null && typeof child === 'object' && !Array.isArray(child))
      return leaves(child as Record<string, unknown>, path)
    return [[path, child] as [string, unknown]]
  })
}

/** Problems of one log line; empty when every field is ECS-typed or custom-namespaced. */
export function ecsProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = []
  for (const [path, value] of leaves(line)) {
    if (path === CUSTOM_NAMESPACE || path.startsWith(`${CUSTOM_NAMESPACE}.`)) continue
    const definition = fields[path]
    if (definition === undefined) {
      problems.push(`${path} is neither an ECS field nor under ${CUSTOM_NAMESPACE}.*`)
      continue
    }
    const values = Array.isArray(value) ? value : [value]
    if (Array.isArray(value) && !definition.normalize.includes('array')) problems.push(`${path} is an array, ECS says one value`)
    for (const v of values) {
      if (!accepts(definition.type, v)) problems.push(`${path} = ${JSON.stringify(v)} is not of ECS type ${definition.type}`)
    }
  }
  return problems
}

/** Dotted paths of the custom fields a line carries (arrays of objects count as one field). */
export const customFields = (line: Record<string, unknown>): string[] =>
  leaves(line)
    .map(([path]) => path)
    .filter((path) => path.startsWith(`${CUSTOM_NAMESPACE}.`))
