import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { toMysqlUtc } from '../shared/time'

/**
 * One page of GET /2/tweets/search/recent, as the X API sends it, and what the collector keeps of
 * it. The schema checks exactly what storage relies on; a page that fails it is rejected whole.
 */

const IdString = Type.String({ pattern: '^[0-9]{1,20}$' })

const ApiTweet = Type.Object({
  id: IdString,
  text: Type.String({ maxLength: 25_000 }),
  author_id: IdString,
  created_at: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?Z$' }),
  lang: Type.Optional(Type.String()),
  entities: Type.Optional(
    Type.Object({ hashtags: Type.Optional(Type.Array(Type.Object({ tag: Type.String({ minLength: 1, maxLength: 200 }) }))) }),
  ),
})

const ApiUser = Type.Object({
  id: IdString,
  username: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ maxLength: 255 }),
  public_metrics: Type.Object({ followers_count: Type.Integer({ minimum: 0 }) }),
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

export const SearchPage = Type.Object({
  data: Type.Optional(Type.Array(ApiTweet)),
  includes: Type.Optional(Type.Object({ users: Type.Optional(Type.Array(ApiUser)) })),
  meta: Type.Object({
    result_count: Type.Integer({ minimum: 0 }),
    newest_id: Type.Optional(IdString),
    oldest_id: Type.Optional(IdString),
    next_token: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  }),
  errors: Type.Optional(Type.Array(ApiPartialError)),
})
export type SearchPage = Static<typeof SearchPage>
export type ApiPartialError = Static<typeof ApiPartialError>

const checker = TypeCompiler.Compile(SearchPage)

export interface StoredTweet {
  id: string
  authorId: string
  lang: string
  text: string
  /** MySQL DATETIME(3), UTC */
  createdAt: string
  /** Tracked hashtags the tweet is linked to. */
  hashtags: string[]
}

export interface StoredUser {
  id: string
  username: string
  name: string
  followersCount: number
}

export interface ParsedPage {
  tweets: StoredTweet[]
  users: StoredUser[]
  resultCount: number
  newestId: string | null
  nextToken: string | null
  partialErrors: ApiPartialError[]
  /** Tweets left out because their author is not in `includes.users` (the users table needs it). */
  withoutAuthor: string[]
}

/** The page does not have the shape of a recent-search response: nothing of it can be trusted. */
export class MalformedPageError extends Error {
  override name = 'MalformedPageError'
}

const LANG = /^[a-z]{2,8}(-[a-z0-9]{1,8})*$/

/**
 * Checks a page and turns it into rows. A tweet is linked to the hashtag it was searched for and to
 * every other tracked hashtag among its `entities.hashtags` (any case).
 */
export function parsePage(body: unknown, searchedTag: string, tracked: ReadonlySet<string>): ParsedPage {
  if (!checker.Check(body)) {
    const first = checker.Errors(body).First()
    throw new MalformedPageError(first === undefined ? 'not a recent-search page' : `${first.path || '/'}: ${first.message}`)
  }
  const users = (body.includes?.users ?? []).map(
    (user): StoredUser => ({
      id: user.id,
      username: user.username,
      name: user.name,
      followersCount: user.public_metrics.followers_count,
    }),
  )
  const known = new Set(users.map((user) => user.id))
  const tweets: StoredTweet[] = []
  const withoutAuthor: string[] = []
  for (const tweet of body.data ?? []) {
    if (!known.has(tweet.author_id)) {
      withoutAuthor.push(tweet.id)
      continue
    }
    const lang = tweet.lang?.toLowerCase() ?? 'und'
    const tags = new Set([searchedTag])
    for (const { tag } of tweet.entities?.hashtags ?? []) {
      const lower = tag.toLowerCase()
      if (tracked.has(lower)) tags.add(lower)
    }
    tweets.push({
      id: tweet.id,
      authorId: tweet.author_id,
      lang: LANG.test(lang) && lang.length <= 16 ? lang : 'und',
      text: tweet.text,
      createdAt: toMysqlUtc(tweet.created_at),
      hashtags: [...tags].sort(),
    })
  }
  return {
    tweets,
    users,
    resultCount: body.meta.result_count,
    newestId: body.meta.newest_id ?? null,
    nextToken: body.meta.next_token ?? null,
    partialErrors: body.errors ?? [],
    withoutAuthor,
  }
}
