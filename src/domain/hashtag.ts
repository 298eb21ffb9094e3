/**
 * What a hashtag is, in one place: as X tokenises them, letters (any script), combining marks,
 * digits and underscores, at most 100 (the column holds 100). Stored and compared lowercase, without
 * '#'. HASHTAGS, the API's `hash` parameters and the collector all go through `normalizeHashtag`.
 */

const HASHTAG_BODY = /^[\p{L}\p{M}\p{N}_]{1,100}$/u
/** A leading '#', or '%23' when a client encoded it twice, is accepted and ignored. */
const HASHTAG_PREFIX = /^(#|%23)/

/** `#DevOps`, `%23devops`, `devops` → `devops`; null when it is not a hashtag. */
export function normalizeHashtag(value: string): string | null {
  const tag = value.replace(HASHTAG_PREFIX, '').toLowerCase()
  return HASHTAG_BODY.test(tag) ? tag : null
}
