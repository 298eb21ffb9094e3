import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import { problemResponses } from '../../http/problem'
import { strictQuery } from '../../http/query'
import type { ResponseCache } from '../../http/response-cache'
import { toHashtagSummary } from './mapper'
import { AllHashtags, AllHashtagsQuery } from './model'
import { findHashtags } from './repository'

const ALL = '/api/v1/resources/hashtags/all'

export const hashtagsModule = (db: Database, cache: ResponseCache) =>
  new Elysia({ name: 'hashtags' }).get(
    ALL,
    ({ request, set }) =>
      cache.respond(request, set, ALL, async () => ({ body: { data: (await findHashtags(db)).map(toHashtagSummary) } })),
    {
      query: AllHashtagsQuery,
      transform: strictQuery(AllHashtagsQuery),
      response: { 200: AllHashtags, ...problemResponses },
      detail: {
        tags: ['hashtags'],
        summary: 'Tracked hashtags',
        description: 'Every tracked hashtag, also those without tweets yet, with its tweet count and last collection.',
      },
    },
  )
