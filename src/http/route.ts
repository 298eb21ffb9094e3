import type { Static, TObject, TSchema } from '@sinclair/typebox'
import { type Context, Elysia } from 'elysia'
import { CONTENT_TYPES, MEDIA_TYPES } from './export'
import { documentSchema, type HeaderName, headers, problemResponse, schemaRef } from './openapi'
import { MAX_QUERY_LENGTH, strictQuery } from './query'

/**
 * The one way a route of the API is declared. From the query schema, the body of a 200 and how the
 * route is answered, it wires the strict reading of the query (query.ts) and Elysia's validation of
 * it, and writes the route's whole OpenAPI operation: its parameters, every status it can answer with
 * (problems included, as application/problem+json), the headers each sends, and the detail
 * (operationId, summary, description, tag). The statuses written here are the ones the route
 * produces: src/declared-statuses.test.ts drives every route into each of them and nowhere else.
 */

/** How a route is answered, which decides most of what it can send. */
export type Answering =
  /**
   * Through the response cache (ResponseCache.respond): an ETag per data version and a 304 for a
   * matching If-None-Match; computed from the database, so a 503 (with Retry-After) when it cannot
   * answer in time and a 500 when the computation fails.
   */
  | 'cached'
  /** By the handler alone, which never throws (the health probes): no 304, 500 or problem 503. */
  | 'direct'

export interface ApiRoute<Q extends TObject> {
  path: string
  /** camelCase, a verb first: the method name of generated clients. */
  operationId: string
  tag: string
  summary: string
  description: string
  /** Every parameter needs a description and an example: both are shown to client developers. */
  query: Q
  /** Parameters in the path (`/tweets/:id`), each a string schema with a description and an example. */
  params?: TObject
  /** For a route that names one resource: what a 404 means there (an id nothing is stored under). */
  missing?: string
  /** Body of a 200: a schema with a title (its component's name) and a description. */
  success: TSchema
  answering: Answering
  /** Lists: a Link header names the next page. */
  paged?: boolean
  /**
   * Lists that also export their whole selection as CSV and NDJSON (src/http/export.ts): the item
   * of an NDJSON line, the CSV columns and an example of the CSV.
   */
  exports?: { item: TSchema; columns: readonly string[]; csvExample: string }
  /** Other answers the handler gives itself, with their bodies (readiness's 503). */
  answers?: Record<number, { schema: TSchema; description: string }>
}

function parametersOf(parameters: TObject, where: 'query' | 'path') {
  const required = new Set(parameters.required ?? [])
  return Object.entries(parameters.properties).map(([name, schema]) => {
    const { description, examples, ...rest } = documentSchema(schema) as Record<string, unknown>
    if (typeof description !== 'string' || !Array.isArray(examples) || examples.length === 0) {
      throw new Error(`${where} parameter ${name} needs a description and an example`)
    }
    return { name, in: where, required: where === 'path' || required.has(name), description, example: examples[0], schema: rest }
  })
}

/**
 * A body of a named schema: routes answer with named models only, so that clients get their types.
 * The schema's first example is also the response's, where viewers such as Swagger UI show it.
 */
function json(schema: TSchema) {
  if (typeof schema.title !== 'string') throw new Error('a response body needs a titled schema (its component name)')
  const example =
    Array.isArray(schema.examples) && schema.examples.length > 0 ? { examples: { sample: { value: schema.examples[0] } } } : {}
  return { 'application/json': { schema: schemaRef(schema.title), ...example } }
}

/** The media types of an export, beside the JSON page of a 200. */
function exportContent(exports: NonNullable<ApiRoute<TObject>['exports']>) {
  if (typeof exports.item.title !== 'string') throw new Error('an exported item needs a titled schema (its component name)')
  return {
    [MEDIA_TYPES.csv]: {
      schema: {
        type: 'string',
        description: `The whole selection as RFC 4180 CSV (${CONTENT_TYPES.csv}, no byte order mark, CRLF line ends): a header row, then one record per item, newest first. Columns: ${exports.columns.join(', ')}.`,
      },
      example: exports.csvExample,
    },
    [MEDIA_TYPES.ndjson]: {
      // One line per item: OpenAPI 3.1 has no keyword for a sequence of JSON texts; the item is named.
      schema: {
        ...schemaRef(exports.item.title),
        description: `The whole selection, newest first: one ${exports.item.title} per line, each line ending in \\n.`,
      },
    },
  }
}

/** The route's OpenAPI operation, as Elysia's `detail`. */
export function operationOf(route: ApiRoute<TObject>) {
  const cached = route.answering === 'cached'
  const validators: HeaderName[] = cached ? ['ETag', 'Cache-Control'] : []
  const ok: HeaderName[] = [
    'X-Request-Id',
    ...validators,
    ...(cached ? (['Vary', 'Content-Encoding'] as const) : []),
    ...(route.paged ? (['Link'] as const) : []),
    ...(route.exports ? (['Content-Disposition'] as const) : []),
  ]
  const described = route.success.description ?? route.summary
  const responses: Record<string, unknown> = {
    200: {
      description:
        route.exports === undefined
          ? described
          : `${described} Asked for as text/csv or application/x-ndjson (Accept, or the format parameter): the whole selection in one streamed download, from the cursor when one is given; limit does not cap it.`,
      headers: headers(...ok),
      content: { ...json(route.success), ...(route.exports === undefined ? {} : exportContent(route.exports)) },
    },
  }
  if (cached) {
    responses[304] = {
      description: 'Not modified: the ETag sent in If-None-Match is still current. No body; keep using the held answer.',
      headers: headers('X-Request-Id', ...validators, 'Vary'),
    }
  }
  responses[400] = problemResponse(
    'A query parameter is invalid, repeated or unknown: `errors[]` names each and what it accepts.',
    ['invalid-parameter', 'unknown-parameter'],
  )
  if (route.missing !== undefined) responses[404] = problemResponse(route.missing, ['not-found'])
  responses[414] = problemResponse(`The query string is longer than ${MAX_QUERY_LENGTH} characters.`, ['query-too-long'])
  if (cached) {
    responses[500] = problemResponse("The request failed on the service's side; the cause is logged, never sent.", ['internal'])
    responses[503] = problemResponse(
      'The database is unreachable or did not answer in time; retry after Retry-After seconds.',
      ['unavailable'],
      ['Retry-After'],
    )
  }
  for (const [status, answer] of Object.entries(route.answers ?? {})) {
    responses[status] = { description: answer.description, headers: headers('X-Request-Id'), content: json(answer.schema) }
  }
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: route.description,
    // If-None-Match is declared on the path (apiDocument), beside every operation that may answer 304.
    parameters: [...parametersOf(route.params ?? ({ properties: {} } as TObject), 'path'), ...parametersOf(route.query, 'query')],
    responses,
  }
}

/** What a handler is given: the validated query, the request, and the answer's status and headers. */
export interface RouteContext<Q extends TObject> {
  query: Static<Q>
  /** The path parameters, validated against the route's `params`. */
  params: Record<string, string>
  request: Request
  set: Context['set']
}

/** The route as an Elysia instance for its module to `use`. */
export function apiRoute<Q extends TObject>(route: ApiRoute<Q>, handle: (context: RouteContext<Q>) => unknown) {
  const response: Record<number, TSchema> = { 200: route.success }
  for (const [status, answer] of Object.entries(route.answers ?? {})) response[Number(status)] = answer.schema
  return new Elysia().get(route.path, (context) => handle(context as unknown as RouteContext<Q>), {
    query: route.query,
    ...(route.params === undefined ? {} : { params: route.params }),
    transform: strictQuery(route.query),
    // Validates (and trims) bodies the handler returns as values; answers built as Responses (the
    // cache's, the error handler's problems) are sent as they are.
    response,
    detail: operationOf(route) as Record<string, unknown>,
  })
}
