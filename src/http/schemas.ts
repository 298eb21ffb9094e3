import { FormatRegistry, Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { normalizeHashtag } from '../domain/hashtag'
import { isUint64 } from '../domain/ids'
import { LANGUAGE_PATTERN, MAX_LANGUAGE_LENGTH } from '../domain/language'

/**
 * Query-parameter schemas shared by several endpoints. Each carries the sentence a client sees when
 * its value is rejected (`error`), so the 400 body says what is accepted.
 */

// Patterns with Unicode classes need the 'u' flag, which TypeBox's `pattern` does not set: formats do.
FormatRegistry.Set('uint64', isUint64)
FormatRegistry.Set('hashtag', (value) => normalizeHashtag(value) !== null)

export const IdString = (description: string) => t.String({ format: 'uint64', description, examples: ['1999999999999999999'] })

export const hashtagParam = (name: string, description = 'Only tweets under this hashtag.') =>
  t.String({
    format: 'hashtag',
    description: `${description} Any case, with or without a leading '#' (\`devops\`, \`#DevOps\`, \`%23devops\`).`,
    examples: ['devops'],
    error: `${name} must be a hashtag: up to 100 letters, digits or '_', optionally after '#'`,
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
