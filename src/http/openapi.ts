import type { TSchema } from '@sinclair/typebox'
import { ParameterError, PROBLEM_CONTENT_TYPE, PROBLEM_KINDS, PROBLEM_TYPES, ProblemDetails, problemType } from './problem'

/**
 * The parts of the OpenAPI document that are not one route's: named schemas, shared headers and
 * responses, and the assembly of the document from the routes declared with src/http/route.ts.
 *
 * A TypeBox schema with a `title` is a named component: wherever it appears in another schema or in a
 * response it is written as a `$ref` to `#/components/schemas/<title>`, so generated clients get one
 * named type per model instead of an inlined copy per use. The document leaves out what is ours only:
 * the `error` keyword (the sentence a 400 says about a parameter) stays in the runtime schemas and out
 * of the served document, which holds standard keywords only.
 */

/** Keywords of our runtime schemas that are not JSON Schema: kept for the 400 messages, left out here. */
const OWN_KEYWORDS = new Set(['error'])

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** The schema as the document writes it: named sub-schemas as references, our own keywords left out. */
export function documentSchema(schema: unknown, root: unknown = undefined): unknown {
  if (Array.isArray(schema)) return schema.map((item) => documentSchema(item))
  if (!isObject(schema)) return schema
  if (schema !== root && typeof schema.title === 'string' && typeof schema.type === 'string') return schemaRef(schema.title)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (OWN_KEYWORDS.has(key)) continue
    // `examples` and `default` are values, not schemas: a title inside them is data.
    out[key] = key === 'examples' || key === 'default' || key === 'const' ? value : documentSchema(value)
  }
  return out
}

/** Every named schema reachable from `schemas`, by name; two different schemas under one name are a mistake. */
export function namedSchemas(schemas: unknown[]): Map<string, TSchema> {
  const named = new Map<string, TSchema>()
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit)
    if (!isObject(value)) return
    if (typeof value.title === 'string' && typeof value.type === 'string') {
      const known = named.get(value.title)
      if (known === value) return
      if (known !== undefined && JSON.stringify(known) !== JSON.stringify(value)) {
        throw new Error(`two different schemas are titled ${value.title}: give one of them another title`)
      }
      named.set(value.title, value as TSchema)
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'examples' && key !== 'default') visit(child)
  }
  schemas.forEach(visit)
  return named
}

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` })

/** Response headers, declared once and referenced by name from each response that sends them. */
export const HEADERS = {
  'X-Request-Id': {
    description: 'Id of this request, also in its log lines; sent back as given when the request carried a valid one.',
    schema: { type: 'string' },
    example: '5f0c6f0e-8a53-4a43-9c4c-2d6f3c1b9e0a',
  },
  ETag: {
    description: 'Validator of the answer: it changes when the stored data changes. Send it back in If-None-Match.',
    schema: { type: 'string' },
    example: '"42-1x9k3m"',
  },
  'Cache-Control': {
    description:
      '`no-cache`: a client may keep the answer but revalidates it (If-None-Match) before use. `no-store` on CSV and NDJSON exports, which are not kept and have no ETag.',
    schema: { type: 'string', enum: ['no-cache', 'no-store'] },
  },
  Vary: {
    description:
      'Accept-Encoding (with Origin when CORS is on): the answer depends on the encodings the client accepts. Accept on CSV and NDJSON exports, which are sent as they are.',
    schema: { type: 'string' },
    example: 'Accept-Encoding',
  },
  'Content-Encoding': {
    description:
      'br, zstd or gzip when the answer (1 KB or more) is sent compressed, as Accept-Encoding allowed; absent when plain.',
    schema: { type: 'string', enum: ['br', 'zstd', 'gzip'] },
  },
  Link: {
    description: 'RFC 8288 link to the next page (rel="next"), the same request with the new cursor; absent on the last page.',
    schema: { type: 'string' },
    example: '</api/v1/resources/tweets/all?limit=100&cursor=MTk5OTk5OTk5OTk5OTk5OTk5OQ>; rel="next"',
  },
  'Content-Disposition': {
    description:
      'CSV and NDJSON exports only: a download named after the selection, with `filename*` (RFC 8187) when the name is not ASCII.',
    schema: { type: 'string' },
    example: 'attachment; filename="tweets-devops-en.csv"',
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    required: true,
    schema: { type: 'integer', minimum: 0 },
    example: 1,
  },
  Allow: {
    description: 'The methods the path takes.',
    required: true,
    schema: { type: 'string' },
    example: 'GET, HEAD',
  },
} as const

export type HeaderName = keyof typeof HEADERS

export const headers = (...names: HeaderName[]) => Object.fromEntries(names.map((name) => [name, headerRef(name)]))

export const IF_NONE_MATCH = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'The ETag of an answer the client holds: when the data has not changed since, the answer is 304 without a body.',
  schema: { type: 'string' },
  example: '"42-1x9k3m"',
}

/** A problem+json response: the Problem schema and the types it may carry. */
export function problemResponse(
  description: string,
  kinds: readonly (keyof typeof PROBLEM_TYPES)[],
  extraHeaders: HeaderName[] = [],
) {
  const types = kinds.map((kind) => `\`${problemType(kind)}\``).join(' or ')
  return {
    description: `${description} Problem type: ${types}.`,
    headers: headers('X-Request-Id', ...extraHeaders),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: schemaRef(ProblemDetails.title!) } },
  }
}

/** Answers of any path rather than of an operation: declared once, named in the API description. */
const SHARED_RESPONSES = {
  NotFound: problemResponse('Any path that is not in this document.', ['not-found']),
  MethodNotAllowed: problemResponse(
    'Any method other than GET or HEAD on a path of this document.',
    ['method-not-allowed'],
    ['Allow'],
  ),
}

export interface DocumentOptions {
  info: { title: string; version: string; description: string; license: { name: string; identifier?: string; url?: string } }
  tags: { name: string; description: string }[]
  /** Where clients reach the API; unset: relative to the document's own URL. */
  publicBaseUrl?: string
}

/** One route as Elysia lists it (`app.routes`): its declaration is in `hooks`. */
export interface DeclaredRoute {
  path: string
  method: string
  hooks: { detail?: unknown; response?: unknown }
}

const problemTypesText = PROBLEM_KINDS.map(
  (kind) => `- \`${problemType(kind)}\` (${PROBLEM_TYPES[kind].status}): ${PROBLEM_TYPES[kind].description}`,
).join('\n')

/**
 * The document: the paths of the routes that carry an operation (those declared with route.ts), the
 * named schemas they use, and what every answer shares.
 */
export function apiDocument(routes: DeclaredRoute[], options: DocumentOptions) {
  const paths: Record<string, Record<string, unknown>> = {}
  const schemas: unknown[] = [ProblemDetails, ParameterError]
  for (const route of routes) {
    const detail = route.hooks.detail as { operationId?: string; hide?: boolean; responses?: object } | undefined
    if (detail?.operationId === undefined || detail.hide === true) continue
    // A request header of the path rather than of the operation: the validator a 304 answers to.
    const revalidated = detail.responses !== undefined && Object.hasOwn(detail.responses, '304')
    // OpenAPI writes a path parameter {id}, the router :id.
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    paths[path] = {
      ...paths[path],
      ...(revalidated ? { parameters: [IF_NONE_MATCH] } : {}),
      [route.method.toLowerCase()]: detail,
    }
    if (isObject(route.hooks.response)) schemas.push(...Object.values(route.hooks.response))
  }
  const named = namedSchemas(schemas)
  return {
    info: {
      ...options.info,
      description: `${options.info.description}

Any other path answers 404 (\`NotFound\`), any other method on these paths 405 with \`Allow\` (\`MethodNotAllowed\`).
Problem types (\`type\` of every problem; each URI serves a short text about its kind):
${problemTypesText}`,
    },
    servers: [
      options.publicBaseUrl === undefined
        ? { url: '/', description: 'The host that served this document.' }
        : { url: options.publicBaseUrl, description: 'The public address of this service.' },
    ],
    // Public read-only API: no operation needs credentials.
    security: [],
    tags: options.tags,
    paths,
    components: {
      schemas: Object.fromEntries(
        [...named].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => [name, documentSchema(s, s)]),
      ),
      headers: HEADERS,
      responses: SHARED_RESPONSES,
    },
  }
}
