import { Elysia, t } from 'elysia'
import { echo } from '../../http/echo'
import { HttpProblem, PROBLEM_TYPES, PROBLEMS_PATH, type ProblemKind, problemTitle, problemType } from '../../http/problem'

/**
 * The page each problem type URI resolves to (see src/http/problem.ts): a few lines of text saying
 * what the kind means and what a client can do about it. Not an API operation: hidden from the
 * OpenAPI document, whose Problem schema lists the types instead.
 */

const pageOf = (kind: ProblemKind): string =>
  `${problemType(kind)}: ${problemTitle(kind)} (HTTP ${PROBLEM_TYPES[kind].status})

${PROBLEM_TYPES[kind].description}

A problem type of the twitter-hashtags API. Problems are RFC 9457 application/problem+json bodies
whose "type" is this URI; "detail" says what went wrong for the request. The API is described at /swagger.
`

export const problemsModule = () =>
  new Elysia({ name: 'problems' }).get(
    `${PROBLEMS_PATH}/:kind`,
    ({ params }) => {
      // The client names the kind: only the table's own keys count (not `constructor`, `__proto__`).
      if (!Object.hasOwn(PROBLEM_TYPES, params.kind)) {
        throw new HttpProblem('not-found', `there is no problem type named ${echo(params.kind)}`)
      }
      return new Response(pageOf(params.kind as ProblemKind), {
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'public, max-age=86400' },
      })
    },
    { params: t.Object({ kind: t.String() }), detail: { hide: true } },
  )
