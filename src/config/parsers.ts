import { existsSync } from 'node:fs'
import { normalizeHashtag } from '../domain/hashtag'

/**
 * The parsers of environment values: each returns the value or throws the sentence that says what
 * it accepts, which loadConfig puts after the variable's name.
 */

export type Parser<T> = (raw: string) => T

export const fail = (accepts: string): never => {
  throw new Error(accepts)
}

export const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^[0-9]{1,10}$/.test(raw)) fail(`an integer from ${min} to ${max}`)
    const value = Number(raw)
    return value >= min && value <= max ? value : fail(`an integer from ${min} to ${max}`)
  }

export const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** "250ms", "30s", "15m", "1h" → milliseconds. */
export const parseDuration = (raw: string): number => {
  const match = /^([0-9]{1,9})(ms|s|m|h)$/.exec(raw)
  if (!match) return fail('a duration such as 500ms, 30s, 15m or 1h')
  return Number(match[1]) * DURATION_UNITS[match[2]!]!
}

export const duration: Parser<number> = parseDuration

/** Like `duration`, but "off" disables the feature: null. */
export const optionalDuration: Parser<number | null> = (raw) => (raw === 'off' ? null : parseDuration(raw))

export const text: Parser<string> = (raw) => raw

export const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) =>
    (values as string[]).includes(raw) ? (raw as T) : fail(`one of ${values.join(', ')}`)

/** "devops, #SRE" → ['devops', 'sre']: lowercase, without '#', without duplicates. */
export const hashtagList: Parser<string[]> = (raw) => {
  const tags = raw
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '')
    .map(normalizeHashtag)
  if (tags.length === 0 || !tags.every((tag) => tag !== null)) {
    fail("a comma-separated list of hashtags (letters, digits, '_'; '#' optional)")
  }
  return [...new Set(tags as string[])]
}

export const httpsUrl: Parser<URL> = (raw) => {
  try {
    const url = new URL(raw)
    if (url.protocol === 'https:') return url
  } catch {}
  return fail('an https:// URL (the X API client speaks HTTPS only)')
}

/** The public URL of the service behind a proxy: http(s), no query or fragment; kept as a string. */
export const publicUrl: Parser<string> = (raw) => {
  try {
    const url = new URL(raw)
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === '')
      return raw.replace(/\/+$/, '')
  } catch {}
  return fail('an http(s):// URL without query or fragment, such as https://api.example.com/twitter-hashtags')
}

export const readableFile: Parser<string> = (raw) => (existsSync(raw) ? raw : fail('the path of a readable PEM file'))

export const hostname: Parser<string> = (raw) => (/^[A-Za-z0-9.:_-]{1,253}$/.test(raw) ? raw : fail('a host name or IP address'))

/**
 * Percent-decoding of a URL part that takes a malformed escape literally: a password typed into
 * MYSQL_URL without encoding ("pa%ss") means what it says, where decodeURIComponent would throw.
 */
export function decodeLeniently(part: string): string {
  return part.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes)
    } catch {
      // Not UTF-8 as a whole: decode what is, keep the rest as written.
      return escapes.replace(/%[0-9A-Fa-f]{2}/g, (one) => {
        try {
          return decodeURIComponent(one)
        } catch {
          return one
        }
      })
    }
  })
}

export const mysqlUrl: Parser<URL> = (raw) => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail('a URL such as mysql://user:password@host:3306/database')
  }
  if (url.protocol !== 'mysql:') fail('a URL with the mysql:// scheme')
  return url
}

/** "https://a.example, http://localhost:3000" → origins; "*" alone allows any origin. */
export const originList: Parser<string[]> = (raw) => {
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
  if (origins.length === 1 && origins[0] === '*') return origins
  const valid = (origin: string) => {
    try {
      const url = new URL(origin)
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin
    } catch {
      return false
    }
  }
  return origins.length > 0 && origins.every(valid)
    ? origins
    : fail("'*' or a comma-separated list of origins such as https://app.example.com (scheme, host, optional port)")
}
