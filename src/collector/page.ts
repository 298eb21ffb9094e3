import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { normalizeHashtag } from '../domain/hashtag'
import { isUint64 } from '../domain/ids'
import { normalizeLanguage } from '../domain/language'
import { toMysqlUtc } from '../domain/time'
import { kindOf, type TweetKind } from '../domain/tweet-kind'

/**
 * One page of GET /2/tweets/search/recent, as the X API sends it, and what the collector keeps of
 * it. The envelope (meta, the shape of the lists) must hold or nothing of the page can be trusted;
 * inside it every tweet and every user is checked on its own, against the schema and against what
 * the columns can store, so one bad record costs that record and never its page.
 */

/** An id as the API sends it: decimal digits (whether they fit 64 bits is checked per record). */
const ApiId = Type.String({ pattern: '^[0-9]{1,20}$' })

const ApiTweet = Type.Object({
  id: ApiId,
  text: Type.String(),
  author_id: ApiId,
  created_at: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$' }),
  lang: Type.Optional(Type.Unknown()),
  entities: Type.Optional(Type.Unknown()),
  referenced_tweets: Type.Optional(Type.Unknown()),
  public_metrics: Type.Optional(Type.Unknown()),
})

const ApiUser = Type.Object({
  id: ApiId,
  username: Type.String({ minLength: 1 }),
  name: Type.String(),
  public_metrics: Type.Object({ followers_count: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }),
})

/** Items of the `errors` array the API sends with HTTP 200 when part of a result is missing. */
const ApiPartialError = Type.Object({
  title: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  resource_type: Type.Optional(Type.String()),
  resource_id: Type.Optional(Type.String()),
  parameter: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown()),
})

const Meta = Type.Object({
  result_count: Type.Integer({ minimum: 0 }),
  newest_id: Type.Optional(Type.String()),
  oldest_id: Type.Optional(Type.String()),
  next_token: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
})

/**
 * What the collector requires of a page as a whole; the items are checked one by one. Of the ids in
 * meta only newest_id is used (checked where it is read), so a bad one costs nothing.
 */
const Envelope = Type.Object({
  data: Type.Optional(Type.Array(Type.Unknown())),
  includes: Type.Optional(Type.Object({ users: Type.Optional(Type.Array(Type.Unknown())) })),
  meta: Type.Object({
    result_count: Meta.properties.result_count,
    newest_id: Type.Optional(Type.Unknown()),
    oldest_id: Type.Optional(Type.Unknown()),
    next_token: Meta.properties.next_token,
  }),
  errors: Type.Optional(Type.Array(Type.Unknown())),
})

/** A well-formed page, every item valid: what the sample file and the bench hold. */
export const SearchPage = Type.Object({
  data: Type.Optional(Type.Array(ApiTweet)),
  includes: Type.Optional(Type.Object({ users: Type.Optional(Type.Array(ApiUser)) })),
  meta: Meta,
  errors: Type.Optional(Type.Array(ApiPartialError)),
})
export type SearchPage = Static<typeof SearchPage>
export type ApiPartialError = Static<typeof ApiPartialError>

const envelope = TypeCompiler.Compile(Envelope)
const tweetShape = TypeCompiler.Compile(ApiTweet)
const userShape = TypeCompiler.Compile(ApiUser)
const partialErrorShape = TypeCompiler.Compile(ApiPartialError)

/** A tweet as it is stored: one row per (tweet, tracked hashtag). */
export interface TweetRecord {
  id: string
  authorId: string
  lang: string
  text: string
  /** MySQL DATETIME(3), UTC */
  createdAt: string
  /** Tracked hashtags the tweet is linked to. */
  hashtags: string[]
  /** Every hashtag it carries, tracked or not, lowercase, sorted. */
  allHashtags: string[]
  kind: TweetKind
  /** Null when the API sent no usable public_metrics: the tweet is stored, its metrics are not. */
  metrics: MetricsRecord | null
}

/** A tweet's public metrics as stored (tweet_metrics). */
export interface MetricsRecord {
  likes: number
  retweets: number
  replies: number
  quotes: number
  /** Null when the API did not give it: never an invented 0. */
  impressions: number | null
}

export interface UserRecord {
  id: string
  username: string
  name: string
  followersCount: number
}

/** Why a tweet of a page was left out. */
export type SkipReason =
  | 'malformed' // not the shape of a tweet
  | 'duplicate' // the same id came earlier in the page
  | 'id_out_of_range' // its id or its author's id is beyond BIGINT UNSIGNED
  | 'text_too_long' // beyond what the text column holds
  | 'bad_created_at' // not a date a DATETIME column holds
  | 'author_missing' // its author is not in includes.users (the users table needs it)
  | 'author_invalid' // its author is there but could not be stored
  | 'refused_by_database' // the database refused it although it passed every check here

export interface SkippedTweet {
  /** The id as sent, when there was one (bounded in length). */
  id: string
  reason: SkipReason
  /** What the database said, for `refused_by_database`. */
  detail?: string
}

export interface ParsedPage {
  tweets: TweetRecord[]
  users: UserRecord[]
  resultCount: number
  newestId: string | null
  nextToken: string | null
  /** How many partial errors the page carried, and the first few of them (a page may carry thousands). */
  partialErrorCount: number
  partialErrors: ApiPartialError[]
  skipped: SkippedTweet[]
}

/** The page does not have the shape of a recent-search response: nothing of it can be trusted. */
export class MalformedPageError extends Error {
  override name = 'MalformedPageError'
}

/** Bytes of the MEDIUMTEXT text column (sql/003_long_posts.sql): bytes, not characters, count against it. */
const MAX_TEXT_BYTES = 16_777_215
/** VARCHAR lengths of users.username and users.name, in characters (code points). */
const MAX_USERNAME = 64
const MAX_NAME = 255
/** Partial errors kept in full per page, for the log; the rest are only counted. */
const KEPT_PARTIAL_ERRORS = 20

const codePoints = (text: string) => {
  let count = 0
  for (const _ of text) count++
  return count
}

/** '2026-02-30T…' passes the pattern but is no date; DATETIME holds years 1000 to 9999. */
function datetimeOf(iso: string): string | null {
  const year = Number(iso.slice(0, 4))
  const month = Number(iso.slice(5, 7))
  const day = Number(iso.slice(8, 10))
  const hour = Number(iso.slice(11, 13))
  const minute = Number(iso.slice(14, 16))
  const second = Number(iso.slice(17, 19))
  if (year < 1000 || hour > 23 || minute > 59 || second > 59) return null
  const date = new Date(Date.UTC(year, month - 1, day))
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null
  return toMysqlUtc(iso)
}

/** The id an item of an answer carries, bounded in length, for the log; '' when it has none. */
export const idOf = (item: unknown): string => {
  const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined
  return typeof id === 'string' ? id.slice(0, 40) : ''
}

/** The first thing a TypeBox check found wrong in a value, bounded, for the log. */
export function firstError(
  checker: { Errors(value: unknown): { First(): { path: string; message: string } | undefined } },
  value: unknown,
  fallback = 'not a recent-search page',
) {
  const first = checker.Errors(value).First()
  return first === undefined ? fallback : `${first.path || '/'}: ${first.message}`.slice(0, 200)
}

/** The users of a page that can be stored, first occurrence of each id; the ids of those that cannot. */
function usersOf(items: unknown[]): { users: Map<string, UserRecord>; invalid: Set<string> } {
  const users = new Map<string, UserRecord>()
  const invalid = new Set<string>()
  for (const item of items) {
    if (!userShape.Check(item)) {
      invalid.add(idOf(item))
      continue
    }
    if (users.has(item.id)) continue
    if (!isUint64(item.id) || codePoints(item.username) > MAX_USERNAME || codePoints(item.name) > MAX_NAME) {
      invalid.add(item.id)
      continue
    }
    users.set(item.id, {
      id: item.id,
      username: item.username,
      name: item.name,
      followersCount: item.public_metrics.followers_count,
    })
  }
  return { users, invalid }
}

/** Every hashtag among a tweet's entities, normalised, read defensively: entities are not needed to store it. */
export function hashtagsOf(entities: unknown): string[] {
  const tags = new Set<string>()
  const list = typeof entities === 'object' && entities !== null ? (entities as { hashtags?: unknown }).hashtags : undefined
  if (Array.isArray(list)) {
    for (const entry of list) {
      const tag = typeof entry === 'object' && entry !== null ? (entry as { tag?: unknown }).tag : undefined
      // Bounded before normalising: a tag the column cannot hold is left out, never truncated.
      const normalized = typeof tag === 'string' && tag.length <= 200 ? normalizeHashtag(tag) : null
      if (normalized !== null) tags.add(normalized)
    }
  }
  return [...tags].sort()
}

/** The largest count a BIGINT UNSIGNED column is given from a JavaScript number without losing digits. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER

const countOf = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_COUNT ? value : null

/**
 * public_metrics → what is stored, or null when any of the four counts is missing or not a
 * non-negative integer (the tweet is kept either way). impression_count is optional in the API.
 */
export function metricsOf(publicMetrics: unknown): MetricsRecord | null {
  if (typeof publicMetrics !== 'object' || publicMetrics === null) return null
  const fields = publicMetrics as Record<string, unknown>
  const likes = countOf(fields.like_count)
  const retweets = countOf(fields.retweet_count)
  const replies = countOf(fields.reply_count)
  const quotes = countOf(fields.quote_count)
  if (likes === null || retweets === null || replies === null || quotes === null) return null
  return { likes, retweets, replies, quotes, impressions: countOf(fields.impression_count) }
}

/** The tracked hashtags a tweet is linked to (the one searched for, and any other among its entities), and all of them. */
function tagsOf(entities: unknown, searchedTag: string, tracked: ReadonlySet<string>) {
  const allHashtags = hashtagsOf(entities)
  const hashtags = new Set([searchedTag, ...allHashtags.filter((tag) => tracked.has(tag))])
  // The searched tag is carried even when the entities leave it out (a retweet's truncated text).
  return { hashtags: [...hashtags].sort(), allHashtags: [...new Set([searchedTag, ...allHashtags])].sort() }
}

/**
 * Checks a page and turns it into rows. A tweet is linked to the hashtag it was searched for and to
 * every other tracked hashtag among its `entities.hashtags` (any case).
 */
export function parsePage(body: unknown, searchedTag: string, tracked: ReadonlySet<string>): ParsedPage {
  if (!envelope.Check(body)) throw new MalformedPageError(firstError(envelope, body))
  const { users, invalid } = usersOf(body.includes?.users ?? [])
  const tweets: TweetRecord[] = []
  const skipped: SkippedTweet[] = []
  const seen = new Set<string>()
  let newest: bigint | null = null
  for (const item of body.data ?? []) {
    const skip = (reason: SkipReason) => skipped.push({ id: idOf(item), reason })
    if (!tweetShape.Check(item)) {
      skip('malformed')
      continue
    }
    if (seen.has(item.id)) {
      skip('duplicate')
      continue
    }
    seen.add(item.id)
    if (!isUint64(item.id) || !isUint64(item.author_id)) {
      skip('id_out_of_range')
      continue
    }
    if (newest === null || BigInt(item.id) > newest) newest = BigInt(item.id)
    if (Buffer.byteLength(item.text, 'utf8') > MAX_TEXT_BYTES) {
      skip('text_too_long')
      continue
    }
    const createdAt = datetimeOf(item.created_at)
    if (createdAt === null) {
      skip('bad_created_at')
      continue
    }
    if (!users.has(item.author_id)) {
      skip(invalid.has(item.author_id) ? 'author_invalid' : 'author_missing')
      continue
    }
    tweets.push({
      id: item.id,
      authorId: item.author_id,
      lang: normalizeLanguage(item.lang),
      text: item.text,
      createdAt,
      ...tagsOf(item.entities, searchedTag, tracked),
      kind: kindOf(item.referenced_tweets),
      metrics: metricsOf(item.public_metrics),
    })
  }
  const metaNewest = body.meta.newest_id
  const validNewest = typeof metaNewest === 'string' && /^[0-9]{1,20}$/.test(metaNewest) && isUint64(metaNewest)
  const errors = body.errors ?? []
  // Only the authors of stored tweets are written: the users table holds authors of stored tweets.
  const authors = new Set(tweets.map((tweet) => tweet.authorId))
  return {
    tweets,
    users: [...users.values()].filter((user) => authors.has(user.id)),
    resultCount: body.meta.result_count,
    // The page's own newest id, else the newest id it carried: since_id moves past skipped tweets too.
    newestId: validNewest ? metaNewest : newest === null ? null : String(newest),
    nextToken: body.meta.next_token ?? null,
    partialErrorCount: errors.length,
    partialErrors: errors
      .slice(0, KEPT_PARTIAL_ERRORS)
      .filter((error): error is ApiPartialError => partialErrorShape.Check(error)),
    skipped,
  }
}
