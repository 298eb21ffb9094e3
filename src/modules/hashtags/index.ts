import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import type { ResponseCache } from '../../http/response-cache'
import { apiRoute } from '../../http/route'
import { toHashtagSummary } from './mapper'
import { AllHashtags, AllHashtagsQuery } from './model'
import { findHashtags } from './repository'

const ALL = '/api/v1/resources/hashtags/all'

export const hashtagsModule = (db: Database, cache: ResponseCache) =>
  new Elysia({ name: 'hashtags' }).use(
    apiRoute(
      {
        path: ALL,
        operationId: 'listHashtags',
        tag: 'hashtags',
        summary: 'Tracked hashtags',
        description: 'Every tracked hashtag, also those without tweets yet, with its tweet count and last collection.',
        query: AllHashtagsQuery,
        success: AllHashtags,
        answering: 'cached',
      },
      ({ request, set }) =>
        cache.respond(request, set, ALL, async () => ({ body: { data: (await findHashtags(db)).map(toHashtagSummary) } })),
    ),
  )
