import { STATUS_CODES } from 'node:http'
import { Type } from '@sinclair/typebox'
import { type Static, t } from 'elysia'
import { echo } from './echo'

/**
 * RFC 9457 problem details. Every error the API returns is one of these, as
 * `application/problem+json`. `type` stays "about:blank" (the status says it all), so `title`
 * is the status phrase and `detail` says what went wrong for this request.
 */
export const ProblemDetails = t.Object(
  {
    type: t.String({ description: 'Always "about:blank": the HTTP status identifies the problem.' }),
    title: t.String({ description: 'The HTTP status phrase.' }),
    status: Type.Integer({ description: 'The HTTP status code.' }),
    detail: t.String({ description: 'What went wrong, for this request.' }),
    instance: t.String({ description: 'Path of the request.' }),
    request_id: t.Optional(t.String({ description: 'The X-Request-Id of the request, for log search.' })),
    errors: t.Optional(
      t.Array(
        t.Object({
          parameter: t.String({ description: 'The query parameter at fault.' }),
          detail: t.String({ description: 'What the parameter accepts.' }),
        }),
        { description: 'One entry per invalid query parameter.' },
      ),
    ),
  },
  {
    title: 'Problem',
    description: 'RFC 9457 problem details, sent as application/problem+json.',
    examples: [
      {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'limit must be an integer from 1 to 1000, got "5000"',
        instance: '/api/v1/resources/tweets/all',
        errors: [{ parameter: 'limit', detail: 'limit must be an integer from 1 to 1000, got "5000"' }],
      },
    ],
  },
)
export type ProblemDetails = Static<typeof ProblemDetails>
export type ParameterError = NonNullable<ProblemDetails['errors']>[number]

/** An error that knows the HTTP answer it deserves. Thrown anywhere; rendered once by the error handler. */
export class HttpProblem extends Error {
  override name = 'HttpProblem'
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: ParameterError[]; headers?: Record<string, string> } = {},
    options?: ErrorOptions,
  ) {
    super(detail, options)
  }

  toBody(instance: string, requestId?: string): ProblemDetails {
    return {
      type: 'about:blank',
      // The status's own reason phrase: a problem's title names its kind, the detail says the rest.
      title: STATUS_CODES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      instance: echo(instance),
      ...(requestId === undefined ? {} : { request_id: requestId }),
      ...(this.extra.errors === undefined ? {} : { errors: this.extra.errors }),
    }
  }
}

export const invalidParameters = (errors: ParameterError[]): HttpProblem =>
  new HttpProblem(400, errors.map((e) => e.detail).join('; '), { errors })

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

const problemResponse = (description: string) => ({ ...ProblemDetails, description })

/** Response-schema entries for the error statuses every read endpoint can return. */
export const problemResponses = {
  400: problemResponse('A query parameter is invalid: the body names it and what it accepts.'),
  503: problemResponse('The database is unreachable or too slow; retry later (see Retry-After).'),
}
