import { FormatRegistry, Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { normalizeHashtag } from '../domain/hashtag'
import { isUint64 } from '../domain/ids'
import { LANGUAGE_PATTERN, MAX_LANGUAGE_LENGTH } from '../domain/language'
import { parseOffset, readInstant } from '../domain/time-range'
import { isTweetKind, TWEET_KINDS } from '../domain/tweet-kind'

/**
 * Query-parameter schemas shared by several endpoints. Each carries the sentence a client sees when
 * its value is rejected (`error`), so the 400 body says what is accepted.
 */

// Patterns with Unicode classes need the 'u' flag, which TypeBox's `pattern` does not set: formats do.
FormatRegistry.Set('uint64', isUint64)
FormatRegistry.Set('hashtag', (value) => normalizeHashtag(value) !== null)
// What does not parse is malformed here; a value outside a bound (a year past 9999, a tz offset not
// in use) parses, and its handler's 400 names the bound (filters.ts).
FormatRegistry.Set('instant', (value) => {
  const read = readInstant(value)
  return !('problem' in read) || read.problem !== 'malformed'
})
FormatRegistry.Set('utc-offset', (value) => parseOffset(value) !== null)
FormatRegistry.Set('kind-list', (value) => kindsOf(value) !== null)

/** `reply,quote` → the kinds, each once; null when any entry is not a kind. */
export function kindsOf(value: string): string[] | null {
  const kinds = value.split(',').map((kind) => kind.trim().toLowerCase())
  return kinds.every((kind) => isTweetKind(kind) || kind === 'unknown') ? [...new Set(kinds)].sort() : null
}

const instantParam = (name: string, description: string, example: string) =>
  t.String({
    format: 'instant',
    description: `${description} An RFC 3339 instant with its offset (\`2026-11-24T09:00:00Z\`, \`2026-11-24T09:00:00%2B05:30\`; seconds optional, T and Z in either case) or a date \`YYYY-MM-DD\` (midnight UTC). Instants before 1970 are accepted: no tweet is that old.`,
    examples: [example],
    error: `${name} must be an RFC 3339 instant with an offset, such as 2026-11-24T09:00:00Z or 2026-11-24T09:00:00%2B01:00, or a date YYYY-MM-DD`,
  })

/** since and until: the half-open range [since, until) of created_at. */
export const rangeParams = {
  since: t.Optional(instantParam('since', 'Only tweets posted at or after this instant.', '2026-11-24')),
  until: t.Optional(instantParam('until', 'Only tweets posted before this instant (it must be later than since).', '2026-12-01')),
}

export const KindsParam = t.String({
  format: 'kind-list',
  description: `Only tweets of these kinds, comma-separated: ${TWEET_KINDS.join(', ')} (and unknown, for tweets stored before kinds were collected). Default: every kind.`,
  examples: ['original,quote'],
  error: `kind must be a comma-separated list of ${TWEET_KINDS.join(', ')}, unknown`,
})

export const TzParam = (what: string) =>
  t.String({
    format: 'utc-offset',
    default: '+00:00',
    description: `${what}, from -12:00 to +14:00 in quarter hours (default +00:00). Encode + as %2B.`,
    examples: ['-03:00'],
    error: 'tz must be a UTC offset from -12:00 to +14:00 in quarter hours, such as -03:00 or %2B05:30',
  })

export const IdString = (description: string) => t.String({ format: 'uint64', description, examples: ['1999999999999999999'] })

export const hashtagParam = (name: string, description = 'Only tweets under this hashtag.') =>
  t.String({
    format: 'hashtag',
    description: `${description} Any case, with or without a leading '#' (\`devops\`, \`#DevOps\`, \`%23devops\`).`,
    examples: ['devops'],
    error: `${name} must be a hashtag: up to 100 letters, digits or '_', optionally after '#'`,
  })

/** A path segment holding an id: decimal digits of an unsigned 64-bit integer. */
export const IdParam = (name: string, description: string) =>
  t.String({
    format: 'uint64',
    description,
    examples: ['1999999999999999999'],
    error: `${name} must be the decimal digits of an unsigned 64-bit integer`,
  })

export const LangParam = t.String({
  pattern: LANGUAGE_PATTERN,
  maxLength: MAX_LANGUAGE_LENGTH,
  description: 'Language code as X reports it (BCP 47 such as `en`, `pt`, `zh-cn`; or `und` when undetermined).',
  examples: ['en'],
  error: 'lang must be a language code such as en, pt or und (letters, optional -subtags, at most 16 characters)',
})

export const AuthorIdParam = t.String({
  format: 'uint64',
  description: 'Id of the author (decimal digits of an unsigned 64-bit integer).',
  examples: ['1999999999999999999'],
  error: 'author_id must be the decimal digits of an unsigned 64-bit integer',
})

export const LIMIT_DEFAULT = 100
export const LIMIT_MAX = 1000

// TypeBox's Integer, here and in every model, not Elysia's t.Integer: the latter reads '0x10' or
// '1e3' as numbers, throws range errors that name no parameter and documents integers as
// "string or integer". strictQuery reads the digits; validation checks the range.
export const LimitParam = Type.Integer({
  minimum: 1,
  maximum: LIMIT_MAX,
  default: LIMIT_DEFAULT,
  description: `Rows per page, 1 to ${LIMIT_MAX} (default ${LIMIT_DEFAULT}).`,
  examples: [50],
  error: `limit must be an integer from 1 to ${LIMIT_MAX}`,
})

/** The query of an endpoint that takes no parameters: any one given is a 400 naming it. */
export const NoQuery = t.Object({})

/** Rankings (top tweets, related hashtags) answer one list, not pages: at most this many. */
export const RANKED_LIMIT_DEFAULT = 10
export const RANKED_LIMIT_MAX = 100

/** `limit` of a ranking of `what` (tweets, hashtags). */
export const rankedLimitParam = (what: string) =>
  Type.Integer({
    minimum: 1,
    maximum: RANKED_LIMIT_MAX,
    default: RANKED_LIMIT_DEFAULT,
    description: `How many ${what}, 1 to ${RANKED_LIMIT_MAX} (default ${RANKED_LIMIT_DEFAULT}).`,
    examples: [10],
    error: `limit must be an integer from 1 to ${RANKED_LIMIT_MAX}`,
  })

export const CursorParam = t.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'Opaque cursor from the `next_cursor` of the previous page; omit it for the first page.',
  examples: ['MTk5OTk5OTk5OTk5OTk5OTk5OQ'],
  error: 'cursor must be the next_cursor of a previous page, unchanged',
})

type ObjectSchema = ReturnType<typeof t.Object>

/** The examples an item schema declares, for the example of the body holding it. */
const examplesOf = (item: ObjectSchema): unknown[] => (Array.isArray(item.examples) ? item.examples : [])

/** Body of every paginated list; `title` names it in the OpenAPI document. */
export const Page = <T extends ObjectSchema>(item: T, title: string, description: string) =>
  t.Object(
    {
      data: t.Array(item, { description }),
      next_cursor: t.Union([t.String(), t.Null()], {
        description: 'Cursor of the next page (also in the Link header, rel="next"); null on the last page.',
      }),
    },
    {
      title,
      description: `${description}, one page; the next is named by next_cursor and the Link header.`,
      examples: [{ data: examplesOf(item), next_cursor: 'MTk5OTk5OTk5OTk5OTk5OTk5OQ' }],
    },
  )

/** Body of every aggregate; `title` names it in the OpenAPI document. */
export const Aggregate = <T extends ObjectSchema>(item: T, title: string, description: string) =>
  t.Object({ data: t.Array(item, { description }) }, { title, description, examples: [{ data: examplesOf(item) }] })
