import type { TObject, TSchema } from '@sinclair/typebox'
import { Elysia } from 'elysia'
import { echo, quote } from './echo'
import { HttpProblem, invalidParameters, type ParameterError } from './problem'

/**
 * Strict reading of the raw query string, run before Elysia validates the parsed query against the
 * route's schema. Elysia's own parsing is forgiving in ways that hide client mistakes: it keeps the
 * last of repeated parameters, drops unknown ones (a typo such as `lng=en` would silently return
 * unfiltered data), keeps broken percent-escapes verbatim and reads `0x10`, `1e3` or ` 5` as numbers.
 * Here those are 400s naming the parameter. What is allowed comes from the same TypeBox schema the
 * route validates with and documents in OpenAPI, so the three never disagree.
 */

/** The text a schema puts in front of clients when a value is rejected (`error` option of `t.*`). */
export const acceptsOf = (name: string, schema: TSchema | undefined): string =>
  typeof schema?.error === 'string' ? schema.error : `${name} has an invalid value`

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '))
  } catch {
    return null
  }
}

/**
 * Checks a raw query string (without '?') against a route's query schema. Returns the problems (and
 * how many of them are unknown parameters), and the integer parameters read as numbers: Elysia then
 * validates their range against the schema.
 */
export function readQuery(
  rawQuery: string,
  schema: TObject,
): { problems: ParameterError[]; integers: Record<string, number>; unknown: number } {
  const problems: ParameterError[] = []
  let unknown = 0
  const integers: Record<string, number> = {}
  const seen = new Set<string>()
  const accepted = Object.keys(schema.properties)
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const name = decode(eq === -1 ? pair : pair.slice(0, eq))
    const value = decode(eq === -1 ? '' : pair.slice(eq + 1))
    if (name === null || value === null) {
      problems.push({
        parameter: name === null ? '(query)' : echo(name),
        detail: `the query string has a broken percent-escape in ${quote(pair)}`,
      })
      continue
    }
    // The client names the key: only the schema's own properties count (not `constructor`, `__proto__`).
    const property = Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined
    if (property === undefined) {
      const list = accepted.length > 0 ? `accepted: ${accepted.join(', ')}` : 'this endpoint takes no parameters'
      problems.push({ parameter: echo(name), detail: `unknown parameter ${quote(name)} (${list})` })
      unknown++
      continue
    }
    if (seen.has(name)) {
      problems.push({ parameter: name, detail: `${name} is given more than once` })
      continue
    }
    seen.add(name)
    if (property.type === 'integer') {
      if (/^[0-9]{1,10}$/.test(value)) integers[name] = Number(value)
      else problems.push({ parameter: name, detail: `${acceptsOf(name, property)}, got ${quote(value)}` })
    }
  }
  return { problems, integers, unknown }
}

/** Elysia `transform` hook enforcing `readQuery` for a route. */
export const strictQuery =
  (schema: TObject) =>
  ({ request, query }: { request: Request; query: Record<string, unknown> }): void => {
    const url = request.url
    const start = url.indexOf('?')
    if (start === -1) return
    const { problems, integers, unknown } = readQuery(url.slice(start + 1), schema)
    if (problems.length > 0) throw invalidParameters(problems, unknown)
    Object.assign(query, integers)
  }

/**
 * Longest query string any request may carry. The longest legitimate one (every filter, a cursor, a
 * limit) is under 300 characters; past the bound nothing is parsed or logged whole, the answer is 414.
 */
export const MAX_QUERY_LENGTH = 2_048

export const queryLengthLimit = () =>
  new Elysia({ name: 'query-length-limit' }).onRequest(({ request }) => {
    const url = request.url
    const start = url.indexOf('?')
    if (start !== -1 && url.length - start - 1 > MAX_QUERY_LENGTH) {
      throw new HttpProblem(
        'query-too-long',
        `the query string is ${url.length - start - 1} characters long; at most ${MAX_QUERY_LENGTH} are accepted`,
      )
    }
  })
