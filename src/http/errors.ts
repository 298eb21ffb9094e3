import { Elysia, NotFoundError, ParseError, ValidationError } from 'elysia'
import { UnavailableError } from '../domain/unavailable'
import { asError, type Logger } from '../observability/logger'
import { echo, quote } from './echo'
import { HttpProblem, invalidParameters, type ParameterError, PROBLEM_CONTENT_TYPE } from './problem'
import { acceptsOf } from './query'
import { requestIdOf } from './request-log'

/**
 * The one place errors become responses. Anything thrown on any route ends here as RFC 9457
 * problem+json: HttpProblem as it says, Elysia's validation and routing errors as 400/404,
 * everything else as a 500 that hides its cause from the client and logs it once.
 */

/** Elysia's validation errors of the query or the path → one entry per parameter, in the words of its schema's `error`. */
function fromValidation(error: ValidationError): HttpProblem {
  const byParameter = new Map<string, ParameterError>()
  const query = (error.value ?? {}) as Record<string, unknown>
  for (const issue of error.all) {
    const parameter =
      'path' in issue && typeof issue.path === 'string' && issue.path !== ''
        ? issue.path.replace(/^\//, '').split('/')[0]!
        : '(query)'
    if (byParameter.has(parameter)) continue
    const schema = 'schema' in issue ? (issue.schema as Parameters<typeof acceptsOf>[1]) : undefined
    const got = Object.hasOwn(query, parameter) ? `, got ${quote(query[parameter])}` : ''
    byParameter.set(parameter, { parameter, detail: `${acceptsOf(parameter, schema)}${got}` })
  }
  return invalidParameters([...byParameter.values()])
}

/** 404, or 405 with Allow when the path exists for other methods. The path is the body's `instance`. */
export function notFound(method: string, allowed: string[]): HttpProblem {
  return allowed.length > 0
    ? new HttpProblem('method-not-allowed', `${echo(method)} is not allowed at this path; use ${allowed.join(' or ')}`, {
        headers: { allow: allowed.join(', ') },
      })
    : new HttpProblem('not-found', 'there is no resource at this path; see /swagger for the API')
}

/**
 * What a client may have caused, by class: Elysia's own errors carry a `code` too, but so does any
 * thrown object (mysql2's `ER_…`), so the code alone proves nothing. Null for everything else: ours.
 */
function clientProblem(error: unknown, method: string): HttpProblem | null {
  if (error instanceof HttpProblem) return error
  // Not the client's doing, but not a bug either: a dependency that cannot answer now.
  if (error instanceof UnavailableError) {
    return new HttpProblem(
      'unavailable',
      error.message,
      { headers: { 'Retry-After': String(error.retryAfterSeconds) } },
      {
        cause: error.cause ?? error,
      },
    )
  }
  if (error instanceof ValidationError && (error.type === 'query' || error.type === 'params')) return fromValidation(error)
  if (error instanceof NotFoundError) return notFound(method, [])
  if (error instanceof ParseError) return new HttpProblem('unreadable-body', 'the request body could not be parsed')
  return null
}

function problemResponse(problem: HttpProblem, path: string, requestId: string | undefined): Response {
  return new Response(JSON.stringify(problem.toBody(path, requestId)), {
    status: problem.status,
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
      ...problem.extra.headers,
    },
  })
}

const INTERNAL = new HttpProblem('internal', 'the request failed on our side; it has been logged')

/**
 * Registered before the metrics plugin: returning the response here ends Elysia's error hooks, so
 * the request is counted once, by the after-response hook, with the status set below.
 *
 * Around the whole handling of every request (Bun's native routes included), a last resort for what
 * escapes the hook: Elysia reads `.code` of whatever was thrown before it calls onError, so a thrown
 * null or undefined escapes it, and Bun would answer with its HTML error page (stack and paths of
 * this machine in it).
 */
export const errorHandler = (logger: Logger) =>
  new Elysia({ name: 'error-handler' })
    .wrap((handle) => (request: Request) => lastResort(logger, handle as (request: Request) => unknown, request))
    .onError({ as: 'global' }, ({ error, path, request, set }) => {
      const requestId = requestIdOf(request)
      const logged = { url: { path: echo(path) }, http: { request: { id: requestId } } }
      let problem = clientProblem(error, request.method)
      if (problem === null) {
        logger.error({ err: asError(error), event: { action: 'request-failed' }, ...logged }, 'request failed')
        problem = INTERNAL
      } else if (problem.status >= 500 && problem.cause !== undefined) {
        logger.warn({ err: asError(problem.cause), event: { action: 'request-unavailable' }, ...logged }, problem.detail)
      }
      set.status = problem.status
      return problemResponse(problem, path, requestId)
    })

function lastResort(logger: Logger, handle: (request: Request) => unknown, request: Request): unknown {
  const fail = (error: unknown) => {
    const requestId = requestIdOf(request)
    const path = new URL(request.url, 'http://localhost').pathname
    logger.error(
      {
        err: asError(error),
        event: { action: 'request-failed' },
        url: { path: echo(path) },
        http: { request: { id: requestId } },
      },
      'request failed',
    )
    return problemResponse(INTERNAL, path, requestId)
  }
  try {
    const answer = handle(request)
    return answer instanceof Promise ? answer.catch(fail) : answer
  } catch (error) {
    return fail(error)
  }
}
