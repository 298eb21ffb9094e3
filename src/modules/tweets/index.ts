import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import { normalizeHashtag } from '../../domain/hashtag'
import { readPage } from '../../http/pagination'
import { invalidParameters, problemResponses } from '../../http/problem'
import { strictQuery } from '../../http/query'
import { cacheKey, type ResponseCache, type ResponseHeaders } from '../../http/response-cache'
import { toHours, toLangCounts, toTweets } from './mapper'
import { AllTweetsQuery, ByHour, ByHourQuery, ByLang, ByLangQuery, offsetMinutes, TweetPage, TweetsQuery } from './model'
import { countByLang, countByQuarter, findTweets, type TweetFilter } from './repository'

const TAGS = ['tweets']
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
    .get(ALL, ({ query, request, set }) => page(ALL, {}, query, request, set), {
      query: AllTweetsQuery,
      transform: strictQuery(AllTweetsQuery),
      response: { 200: TweetPage, ...problemResponses },
      detail: {
        tags: TAGS,
        summary: 'All stored tweets',
        description: 'Every stored tweet, newest first, one page at a time.',
      },
    })
    .get(
      FILTERED,
      ({ query, request, set }) =>
        page(FILTERED, { hashtag: hashtagOf(query), lang: langOf(query.lang), authorId: query.author_id }, query, request, set),
      {
        query: TweetsQuery,
        transform: strictQuery(TweetsQuery),
        response: { 200: TweetPage, ...problemResponses },
        detail: {
          tags: TAGS,
          summary: 'Tweets by language, hashtag and author',
          description: 'Stored tweets matching every filter given (AND), newest first, one page at a time.',
        },
      },
    )
    .get(
      BY_HOUR,
      ({ query, request, set }) => {
        const filter = { hashtag: hashtagOf(query), lang: langOf(query.lang) }
        const offset = query.tz === undefined || query.tz === 'Z' ? 0 : offsetMinutes(query.tz)!
        return cache.respond(request, set, cacheKey(BY_HOUR, { ...filter, offset }), async () => ({
          body: { data: toHours(await countByQuarter(db, filter), offset) },
        }))
      },
      {
        query: ByHourQuery,
        transform: strictQuery(ByHourQuery),
        response: { 200: ByHour, ...problemResponses },
        detail: {
          tags: TAGS,
          summary: 'Tweets per hour of the day',
          description:
            'How many stored tweets were posted in each hour of the day (0-23, zero-filled), in UTC or in the offset given by tz. A tweet under two hashtags counts once.',
        },
      },
    )
    .get(
      BY_LANG,
      ({ query, request, set }) => {
        const filter = { hashtag: hashtagOf(query) }
        return cache.respond(request, set, cacheKey(BY_LANG, filter), async () => ({
          body: { data: toLangCounts(await countByLang(db, filter)) },
        }))
      },
      {
        query: ByLangQuery,
        transform: strictQuery(ByLangQuery),
        response: { 200: ByLang, ...problemResponses },
        detail: {
          tags: TAGS,
          summary: 'Tweets per hashtag and language',
          description: 'How many stored tweets each (hashtag, language) pair has.',
        },
      },
    )
}
