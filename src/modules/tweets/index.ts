import { Elysia } from 'elysia'
import type { Database } from '../../db/database'
import { type PageQuery, readPage } from '../../shared/pagination'
import { invalidParameters, problemResponses } from '../../shared/problem'
import { strictQuery } from '../../shared/query'
import { normalizeHashtag } from '../../shared/schemas'
import { toHours, toLangCounts, toTweets } from './mapper'
import { AllTweetsQuery, ByHour, ByHourQuery, ByLang, ByLangQuery, offsetMinutes, TweetPage, TweetsQuery } from './model'
import { countByHour, countByLang, findTweets, type TweetFilter } from './repository'

const TAGS = ['tweets']

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

export const tweetsModule = (db: Database) => {
  const page = (filter: TweetFilter, query: PageQuery, request: Request, set: { headers: Record<string, string | number> }) =>
    readPage(query, request, set, async (after, limit) => toTweets(await findTweets(db, filter, after, limit)))

  return new Elysia({ name: 'tweets' })
    .get('/api/v1/resources/tweets/all', ({ query, request, set }) => page({}, query, request, set), {
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
      '/api/v1/resources/tweets',
      ({ query, request, set }) =>
        page({ hashtag: hashtagOf(query), lang: langOf(query.lang), authorId: query.author_id }, query, request, set),
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
      '/api/v1/resources/tweets/by_hour',
      async ({ query }) => {
        const offset = query.tz === undefined || query.tz === 'Z' ? 0 : offsetMinutes(query.tz)!
        const rows = await countByHour(db, { hashtag: hashtagOf(query), lang: langOf(query.lang) }, offset)
        return { data: toHours(rows) }
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
      '/api/v1/resources/tweets/by_lang',
      async ({ query }) => ({ data: toLangCounts(await countByLang(db, { hashtag: hashtagOf(query) })) }),
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
