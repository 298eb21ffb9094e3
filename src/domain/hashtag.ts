/**
 * What a hashtag is, in one place: as X tokenises them, letters (any script), combining marks,
 * digits and underscores, at most 100 characters (the column holds 100). Stored and compared in
 * Unicode NFC and lower case, without '#': `#Café` typed on one keyboard (é, one code point) and
 * another (e and a combining accent) is one hashtag. HASHTAGS, the API's `hash` parameters and
 * paths, and the collector all go through `normalizeHashtag`.
 */

const HASHTAG_BODY = /^[\p{L}\p{M}\p{N}_]{1,100}$/u
/** A leading '#', or '%23' when a client encoded it twice, is accepted and ignored. */
const HASHTAG_PREFIX = /^(#|%23)/

/** `#DevOps`, `%23devops`, `devops` → `devops`; null when it is not a hashtag. */
export function normalizeHashtag(value: string): string | null {
  // NFC again after lowercasing: a lowercase mapping may leave a letter and a combining mark that compose.
  const tag = value.replace(HASHTAG_PREFIX, '').normalize('NFC').toLowerCase().normalize('NFC')
  return HASHTAG_BODY.test(tag) ? tag : null
}
