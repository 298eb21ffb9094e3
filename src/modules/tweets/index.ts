import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import { normalizeHashtag } from '../../domain/hashtag'
import { readPage } from '../../http/pagination'
import { invalidParameters } from '../../http/problem'
import { cacheKey, type ResponseCache, type ResponseHeaders } from '../../http/response-cache'
import { apiRoute } from '../../http/route'
import { toHours, toLangCounts, toTweets } from './mapper'
import { AllTweetsQuery, ByHour, ByHourQuery, ByLang, ByLangQuery, offsetMinutes, TweetPage, TweetsQuery } from './model'
import { countByLang, countByQuarter, findTweets, type TweetFilter } from './repository'

const TAG = 'tweets'
const ALL = '/api/v1/resources/tweets/all'
const FILTERED = '/api/v1/resources/tweets'
const BY_HOUR = '/api/v1/resources/tweets/by_hour'
const BY_LANG = '/api/v1/resources/tweets/by_lang'

/** `hash` and its alias `hashtag`, normalised; a 400 when both are given and disagree. */
function hashtagOf(query: { hash?: string; hashtag?: string }): string | undefined {
  const hash = query.hash === undefined ? undefined : normalizeHashtag(query.hash)!
  const hashtag = query.hashtag === undefined ? undefined : normalizeHashtag(query.hashtag)!
  if (hash !== undefined && hashtag !== undefined && hash !== hashtag) {
    throw invalidParameters([{ parameter: 'hashtag', detail: 'hash and hashtag name different hashtags: give one of them' }])
  }
  return hash ?? hashtag
}

const langOf = (lang: string | undefined): string | undefined => lang?.toLowerCase()

export const tweetsModule = (db: Database, cache: ResponseCache) => {
  const page = (
    route: string,
    filter: TweetFilter,
    query: { limit?: number; cursor?: string },
    request: Request,
    set: ResponseHeaders,
  ) => {
    const params = {
      hash: filter.hashtag,
      lang: filter.lang,
      author_id: filter.authorId,
      limit: query.limit,
      cursor: query.cursor,
    }
    return cache.respond(request, set, cacheKey(route, params), () =>
      readPage(route, params, async (after, limit) => toTweets(await findTweets(db, filter, after, limit))),
    )
  }

  return new Elysia({ name: 'tweets' })
    .use(
      apiRoute(
        {
          path: ALL,
          operationId: 'listTweets',
          tag: TAG,
          summary: 'All stored tweets',
          description: 'Every stored tweet, newest first, one page at a time.',
          query: AllTweetsQuery,
          success: TweetPage,
          answering: 'cached',
          paged: true,
        },
        ({ query, request, set }) => page(ALL, {}, query, request, set),
      ),
    )
    .use(
      apiRoute(
        {
          path: FILTERED,
          operationId: 'searchTweets',
          tag: TAG,
          summary: 'Tweets by language, hashtag and author',
          description: 'Stored tweets matching every filter given (AND), newest first, one page at a time.',
          query: TweetsQuery,
          success: TweetPage,
          answering: 'cached',
          paged: true,
        },
        ({ query, request, set }) =>
          page(FILTERED, { hashtag: hashtagOf(query), lang: langOf(query.lang), authorId: query.author_id }, query, request, set),
      ),
    )
    .use(
      apiRoute(
        {
          path: BY_HOUR,
          operationId: 'countTweetsByHour',
          tag: TAG,
          summary: 'Tweets per hour of the day',
          description:
            'How many stored tweets were posted in each hour of the day (0-23, zero-filled), in UTC or in the offset given by tz. A tweet under two hashtags counts once.',
          query: ByHourQuery,
          success: ByHour,
          answering: 'cached',
        },
        ({ query, request, set }) => {
          const filter = { hashtag: hashtagOf(query), lang: langOf(query.lang) }
          const offset = query.tz === undefined || query.tz === 'Z' ? 0 : offsetMinutes(query.tz)!
          return cache.respond(request, set, cacheKey(BY_HOUR, { ...filter, offset }), async () => ({
            body: { data: toHours(await countByQuarter(db, filter), offset) },
          }))
        },
      ),
    )
    .use(
      apiRoute(
        {
          path: BY_LANG,
          operationId: 'countTweetsByLang',
          tag: TAG,
          summary: 'Tweets per hashtag and language',
          description: 'How many stored tweets each (hashtag, language) pair has.',
          query: ByLangQuery,
          success: ByLang,
          answering: 'cached',
        },
        ({ query, request, set }) => {
          const filter = { hashtag: hashtagOf(query) }
          return cache.respond(request, set, cacheKey(BY_LANG, filter), async () => ({
            body: { data: toLangCounts(await countByLang(db, filter)) },
          }))
        },
      ),
    )
}
