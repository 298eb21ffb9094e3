import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { isUint64 } from '../domain/ids'
import { firstError, idOf, type MetricsRecord, metricsOf } from './page'

/**
 * One answer of GET /2/tweets?ids=… (post lookup), as the X API sends it, and what the metrics
 * refresh keeps of it: each post's public metrics. Like a search page (page.ts), the envelope must
 * hold or nothing of the answer can be trusted, and inside it every post is checked on its own, so
 * one bad post costs that post. Posts deleted or made protected since they were stored come back in
 * `errors` with HTTP 200: they are counted, not failures.
 */

/** An id as the API sends it: decimal digits (whether they fit 64 bits is checked per post). */
const ApiId = Type.String({ pattern: '^[0-9]{1,20}$' })

/** What the refresh needs of a post; the other fields (the same as a search's) are not read here. */
const LookupTweet = Type.Object({ id: ApiId, public_metrics: Type.Unknown() })

const LookupError = Type.Object({
  title: Type.Optional(Type.String()),
  resource_type: Type.Optional(Type.String()),
  resource_id: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown()),
})

const Envelope = Type.Object({
  data: Type.Optional(Type.Array(Type.Unknown())),
  includes: Type.Optional(Type.Object({})),
  errors: Type.Optional(Type.Array(Type.Unknown())),
})

const envelope = TypeCompiler.Compile(Envelope)
const tweetShape = TypeCompiler.Compile(LookupTweet)
const errorShape = TypeCompiler.Compile(LookupError)

/**
 * Titles of the partial errors that mean the post is no longer readable: deleted (Not Found Error)
 * or protected, or its author suspended (Authorization Error).
 */
const UNAVAILABLE = new Set(['Not Found Error', 'Authorization Error'])

/** Why a post of a lookup answer was left out. */
export type LookupSkipReason =
  | 'malformed' // not the shape of a post
  | 'duplicate' // the same id came earlier in the answer
  | 'id_out_of_range' // beyond BIGINT UNSIGNED
  | 'no_metrics' // its public_metrics are missing or not four non-negative counts

export interface LookupSkip {
  /** The id as sent, when there was one (bounded in length). */
  id: string
  reason: LookupSkipReason
}

export interface ParsedLookup {
  /** Posts the answer carried, usable or not: what pay-per-use access bills. */
  returned: number
  /** tweet id → its metrics now. */
  metrics: Map<string, MetricsRecord>
  /** Ids of posts no longer readable (deleted, protected), from `errors`. */
  notFound: string[]
  /** Partial errors of any other kind. */
  otherErrors: number
  skipped: LookupSkip[]
}

/** The answer does not have the shape of a post lookup: nothing of it can be trusted. */
export class MalformedLookupError extends Error {
  override name = 'MalformedLookupError'
}

/** The post id a partial error is about: resource_id, else value (both as the API fills them). */
function errorTweetId(item: unknown): string | null {
  if (!errorShape.Check(item) || item.resource_type !== 'tweet' || !UNAVAILABLE.has(item.title ?? '')) return null
  const id = item.resource_id ?? item.value
  return typeof id === 'string' && /^[0-9]{1,20}$/.test(id) ? id : null
}

export function parseLookup(body: unknown): ParsedLookup {
  if (!envelope.Check(body)) {
    throw new MalformedLookupError(firstError(envelope, body, 'not a post lookup answer'))
  }
  const items = body.data ?? []
  const metrics = new Map<string, MetricsRecord>()
  const skipped: LookupSkip[] = []
  const seen = new Set<string>()
  for (const item of items) {
    const skip = (reason: LookupSkipReason) => skipped.push({ id: idOf(item), reason })
    if (!tweetShape.Check(item)) {
      skip('malformed')
      continue
    }
    if (seen.has(item.id)) {
      skip('duplicate')
      continue
    }
    seen.add(item.id)
    if (!isUint64(item.id)) {
      skip('id_out_of_range')
      continue
    }
    const measured = metricsOf(item.public_metrics)
    if (measured === null) {
      skip('no_metrics')
      continue
    }
    metrics.set(item.id, measured)
  }
  const notFound = new Set<string>()
  let otherErrors = 0
  for (const error of body.errors ?? []) {
    const id = errorTweetId(error)
    if (id === null) otherErrors++
    else notFound.add(id)
  }
  return { returned: items.length, metrics, notFound: [...notFound], otherErrors, skipped }
}
