import { Elysia, ValidationError } from 'elysia'
import { asError, type Logger } from '../observability/logger'
import { requestIdOf } from '../observability/request-log'
import { HttpProblem, invalidParameters, type ParameterError, PROBLEM_CONTENT_TYPE } from './problem'
import { acceptsOf } from './query'

/**
 * The one place errors become responses. Anything thrown on any route ends here as RFC 9457
 * problem+json: HttpProblem as it says, Elysia's validation and routing errors as 400/404/405,
 * everything else as a 500 that hides its cause from the client and logs it once.
 */

const quote = (value: unknown): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)
}

/** Elysia's query validation errors → one entry per parameter, in the words of its schema's `error`. */
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
    const got = parameter in query ? `, got ${quote(query[parameter])}` : ''
    byParameter.set(parameter, { parameter, detail: `${acceptsOf(parameter, schema)}${got}` })
  }
  return invalidParameters([...byParameter.values()])
}

/** 404, or 405 with Allow when the path exists for other methods. */
export function notFound(method: string, path: string, allowed: string[]): HttpProblem {
  return allowed.length > 0
    ? new HttpProblem(405, `${method} is not allowed on ${path}; use ${allowed.join(' or ')}`, {
        headers: { allow: allowed.join(', ') },
      })
    : new HttpProblem(404, `there is no resource at ${path}; see /swagger for the API`)
}

/**
 * Registered before the metrics plugin: returning the response here ends Elysia's error hooks, so
 * the request is counted once, by the after-response hook, with the status set below.
 */
export const errorHandler = (logger: Logger) =>
  new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, ({ code, error, path, request, set }) => {
    let problem: HttpProblem
    const requestId = requestIdOf(request)
    if (error instanceof HttpProblem) {
      problem = error
    } else if (error instanceof ValidationError && error.type === 'query') {
      problem = fromValidation(error)
    } else if (code === 'NOT_FOUND') {
      problem = notFound(request.method, path, [])
    } else if (code === 'PARSE') {
      problem = new HttpProblem(400, 'the request body could not be parsed')
    } else {
      logger.error({ err: asError(error), url: { path }, http: { request: { id: requestId } } }, 'request failed')
      problem = new HttpProblem(500, 'the request failed on our side; it has been logged')
    }
    if (problem.status >= 500 && problem.cause !== undefined) {
      logger.warn({ err: asError(problem.cause), url: { path }, http: { request: { id: requestId } } }, problem.detail)
    }
    set.status = problem.status
    return new Response(JSON.stringify(problem.toBody(path, requestId)), {
      status: problem.status,
      headers: {
        'content-type': PROBLEM_CONTENT_TYPE,
        ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
        ...problem.extra.headers,
      },
    })
  })
