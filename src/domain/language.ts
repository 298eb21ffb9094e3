/**
 * The language rule, in one place: codes as X reports them (BCP 47-like: `en`, `pt`, `zh-cn`, legacy
 * `in`, and `und`, `qme`, … for special cases), checked by pattern rather than a fixed list, at most
 * 16 characters (the column's size), stored and compared lowercase.
 */

/** The pattern of a language code, any case (the API's `lang` parameter accepts `EN`). */
export const LANGUAGE_PATTERN = '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'
export const MAX_LANGUAGE_LENGTH = 16
/** What a tweet without a usable language is stored as. */
export const UNDETERMINED = 'und'

const LANGUAGE = new RegExp(LANGUAGE_PATTERN)

/** A language as stored: lowercase, or `und` for anything that is not a language code. */
export function normalizeLanguage(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_LANGUAGE_LENGTH || !LANGUAGE.test(value)) return UNDETERMINED
  return value.toLowerCase()
}
