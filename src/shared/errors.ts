import { Elysia, ValidationError } from 'elysia'
import type { Logger } from '../observability/logger'
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

export interface ErrorHandlerOptions {
  logger: Logger
  /** Methods a path answers to, for 405 versus 404; empty when the path is unknown. */
  allowedMethods: (path: string) => string[]
}

export const errorHandler = ({ logger, allowedMethods }: ErrorHandlerOptions) =>
  new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, ({ code, error, path, request, set }) => {
    let problem: HttpProblem
    if (error instanceof HttpProblem) {
      problem = error
    } else if (error instanceof ValidationError && error.type === 'query') {
      problem = fromValidation(error)
    } else if (code === 'NOT_FOUND') {
      const allowed = allowedMethods(path)
      problem =
        allowed.length > 0
          ? new HttpProblem(405, `${request.method} is not allowed on ${path}; use ${allowed.join(' or ')}`, {
              headers: { allow: allowed.join(', ') },
            })
          : new HttpProblem(404, `there is no resource at ${path}; see /swagger for the API`)
    } else if (code === 'PARSE') {
      problem = new HttpProblem(400, 'the request body could not be parsed')
    } else {
      logger.error({ err: error, url: { path } }, 'request failed')
      problem = new HttpProblem(500, 'the request failed on our side; it has been logged')
    }
    if (problem.status >= 500 && problem.cause !== undefined) {
      logger.warn({ err: problem.cause, url: { path } }, problem.detail)
    }
    set.status = problem.status
    return new Response(JSON.stringify(problem.toBody(path)), {
      status: problem.status,
      headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...problem.extra.headers },
    })
  })
