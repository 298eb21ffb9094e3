import { normalizeHashtag } from '../domain/hashtag'
import { parseInstant } from '../domain/time-range'
import { invalidParameters } from './problem'
import { kindsOf } from './schemas'

/**
 * The filters several endpoints share, read from a validated query: the schemas (schemas.ts) have
 * checked each value; what needs two parameters at once is checked here.
 */

export interface RangeQuery {
  since?: string
  until?: string
}

/** since and until in milliseconds; a 400 when both are given and since is not before until. */
export function rangeOf(query: RangeQuery): { since?: number; until?: number } {
  const since = query.since === undefined ? undefined : parseInstant(query.since)!
  const until = query.until === undefined ? undefined : parseInstant(query.until)!
  if (since !== undefined && until !== undefined && since >= until) {
    throw invalidParameters([
      { parameter: 'until', detail: 'until must be later than since: the range [since, until) would be empty' },
    ])
  }
  return { since, until }
}

/** The kinds asked for, each once and sorted; undefined for every kind. */
export const kindsParam = (kind: string | undefined): string[] | undefined => (kind === undefined ? undefined : kindsOf(kind)!)

/** `hash` and its alias `hashtag`, normalised; a 400 when both are given and disagree. */
export function hashtagOf(query: { hash?: string; hashtag?: string }): string | undefined {
  const hash = query.hash === undefined ? undefined : normalizeHashtag(query.hash)!
  const hashtag = query.hashtag === undefined ? undefined : normalizeHashtag(query.hashtag)!
  if (hash !== undefined && hashtag !== undefined && hash !== hashtag) {
    throw invalidParameters([{ parameter: 'hashtag', detail: 'hash and hashtag name different hashtags: give one of them' }])
  }
  return hash ?? hashtag
}
