import { normalizeHashtag } from '../domain/hashtag'
import { readInstant, readTz, withinAllTime } from '../domain/time-range'
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

/** An instant the schema let through (it parses), in milliseconds; a 400 naming the bound it is outside of. */
function instantOf(name: 'since' | 'until', value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const read = readInstant(value)
  if ('problem' in read) throw invalidParameters([{ parameter: name, detail: `${name} is ${read.problem}` }])
  return read.ms
}

/**
 * since and until in milliseconds, cut to the time the columns hold (no tweet is from before 1970);
 * a 400 when both are given and since is not before until.
 */
export function rangeOf(query: RangeQuery): { since?: number; until?: number } {
  const since = instantOf('since', query.since)
  const until = instantOf('until', query.until)
  if (since !== undefined && until !== undefined && since >= until) {
    throw invalidParameters([
      { parameter: 'until', detail: 'until must be later than since: the range [since, until) would be empty' },
    ])
  }
  return withinAllTime({ since, until })
}

/** The tz parameter in minutes (+00:00 when absent); a 400 naming the rule it breaks. */
export function tzOf(tz: string | undefined): number {
  const read = readTz(tz ?? '+00:00')
  if ('problem' in read) throw invalidParameters([{ parameter: 'tz', detail: `tz is not an offset in use: ${read.problem}` }])
  return read.minutes
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
