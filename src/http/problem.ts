import { STATUS_CODES } from 'node:http'
import { Type } from '@sinclair/typebox'
import { type Static, t } from 'elysia'
import { echo } from './echo'

/**
 * RFC 9457 problem details. Every error the API returns is one of these, as
 * `application/problem+json`, and names its kind in `type`: a client branches on `type` (two kinds
 * share 400), shows `title` (fixed per kind: the status phrase, as RFC 9457 §3.1.3 advises for a
 * type's summary), and logs `detail`, which says what went wrong for this request.
 *
 * The type URIs are relative references, `/problems/<kind>`, served by this service with a short
 * text (src/modules/problems): they resolve against the request's URL (RFC 9457 §3.1.1) to a page
 * that exists wherever the service runs, closed networks included, and they stay the same string
 * whatever host or port a client used, so comparing them is safe. A `tag:` URI would be as stable but
 * resolve to nothing; an absolute URL would change with the host.
 */

export const PROBLEMS_PATH = '/problems'

interface ProblemType {
  status: number
  /** What the kind means, for the page its type URI serves and for the OpenAPI document. */
  description: string
}

/** Every kind of problem the service reports. */
export const PROBLEM_TYPES = {
  'invalid-parameter': {
    status: 400,
    description:
      'A query parameter has a value it does not accept, is given more than once, or the query string has a broken percent-escape. `errors[]` names each parameter at fault and what it accepts; it may also list unknown parameters.',
  },
  'unknown-parameter': {
    status: 400,
    description:
      'The query string names parameters this endpoint does not take (a typo such as `lng`, or a parameter of another endpoint); every entry of `errors[]` is one of them. Nothing is answered from a partly understood query.',
  },
  'unreadable-body': { status: 400, description: 'The request body could not be parsed. No endpoint of this API takes a body.' },
  'not-found': {
    status: 404,
    description: 'There is no resource at this path; the OpenAPI document at /swagger/json lists them.',
  },
  'method-not-allowed': {
    status: 405,
    description: 'The path exists, but not for this method; the `Allow` header lists the methods it takes.',
  },
  'query-too-long': { status: 414, description: 'The query string is longer than any valid one can be (2048 characters).' },
  internal: {
    status: 500,
    description: "The request failed on the service's side. The cause is logged under the request id, never sent.",
  },
  unavailable: {
    status: 503,
    description: 'The database is unreachable or did not answer in time. Retry after the seconds in `Retry-After`.',
  },
} as const satisfies Record<string, ProblemType>

export type ProblemKind = keyof typeof PROBLEM_TYPES
export const PROBLEM_KINDS = Object.keys(PROBLEM_TYPES) as ProblemKind[]

export const problemType = (kind: ProblemKind): string => `${PROBLEMS_PATH}/${kind}`
export const problemTitle = (kind: ProblemKind): string => STATUS_CODES[PROBLEM_TYPES[kind].status]!

export const ParameterError = t.Object(
  {
    parameter: t.String({ description: 'The query parameter at fault, or "(query)" when no name could be read.' }),
    detail: t.String({ description: 'What the parameter accepts, and what was sent.' }),
  },
  { title: 'ParameterError', description: 'One query parameter at fault.' },
)
export type ParameterError = Static<typeof ParameterError>

export const ProblemDetails = t.Object(
  {
    type: t.Union(
      PROBLEM_KINDS.map((kind) => t.Literal(problemType(kind))),
      { description: 'The kind of problem: a URI reference served by this service with a short text about the kind.' },
    ),
    title: t.String({ description: 'Summary of the kind: the HTTP status phrase, the same for every problem of that type.' }),
    status: Type.Integer({ description: 'The HTTP status code.' }),
    detail: t.String({ description: 'What went wrong, for this request.' }),
    instance: t.String({ description: 'Path of the request.' }),
    request_id: t.Optional(t.String({ description: 'The X-Request-Id of the request, for log search.' })),
    errors: t.Optional(t.Array(ParameterError, { description: 'One entry per query parameter at fault (400 only).' })),
  },
  {
    title: 'Problem',
    description: 'RFC 9457 problem details, sent as application/problem+json.',
    examples: [
      {
        type: problemType('invalid-parameter'),
        title: 'Bad Request',
        status: 400,
        detail: 'limit must be an integer from 1 to 1000, got "5000"',
        instance: '/api/v1/resources/tweets/all',
        request_id: '5f0c6f0e-8a53-4a43-9c4c-2d6f3c1b9e0a',
        errors: [{ parameter: 'limit', detail: 'limit must be an integer from 1 to 1000, got "5000"' }],
      },
    ],
  },
)
export type ProblemDetails = Static<typeof ProblemDetails>

/**
 * An error that knows the HTTP answer it deserves. Thrown anywhere; rendered once by the error
 * handler. Given a kind, it answers with that kind's status, type and title; given a bare status
 * (a status no kind covers), it answers as RFC 9457 §4.2.1 says: type "about:blank" and the status
 * phrase as title.
 */
export class HttpProblem extends Error {
  override name = 'HttpProblem'
  readonly status: number
  readonly kind: ProblemKind | undefined
  constructor(
    kind: ProblemKind | number,
    readonly detail: string,
    readonly extra: { errors?: ParameterError[]; headers?: Record<string, string> } = {},
    options?: ErrorOptions,
  ) {
    super(detail, options)
    this.kind = typeof kind === 'number' ? undefined : kind
    this.status = typeof kind === 'number' ? kind : PROBLEM_TYPES[kind].status
  }

  toBody(instance: string, requestId?: string): ProblemDetails {
    return {
      type: (this.kind === undefined ? 'about:blank' : problemType(this.kind)) as ProblemDetails['type'],
      title: this.kind === undefined ? (STATUS_CODES[this.status] ?? 'Error') : problemTitle(this.kind),
      status: this.status,
      detail: this.detail,
      instance: echo(instance),
      ...(requestId === undefined ? {} : { request_id: requestId }),
      ...(this.extra.errors === undefined ? {} : { errors: this.extra.errors }),
    }
  }
}

/**
 * A 400 naming each parameter at fault. `unknown` counts the entries that name parameters the
 * endpoint does not take: when they are all there is, the kind is unknown-parameter.
 */
export const invalidParameters = (errors: ParameterError[], unknown = 0): HttpProblem =>
  new HttpProblem(
    unknown > 0 && unknown === errors.length ? 'unknown-parameter' : 'invalid-parameter',
    errors.map((e) => e.detail).join('; '),
    { errors },
  )

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'
