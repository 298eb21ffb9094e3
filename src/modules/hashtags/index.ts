import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import { HOUR_MS } from '../../domain/buckets'
import { normalizeHashtag } from '../../domain/hashtag'
import { ALL_TIME } from '../../domain/time-range'
import { kindsParam, rangeOf } from '../../http/filters'
import { HttpProblem } from '../../http/problem'
import { cacheKey, type ResponseCache } from '../../http/response-cache'
import { apiRoute } from '../../http/route'
import { RANKED_LIMIT_DEFAULT } from '../../http/schemas'
import { acrossRange, countByHashtagIn } from '../counts/range-counts'
import { toHashtagSummary, toRelated } from './mapper'
import { AllHashtags, AllHashtagsQuery, Related, RelatedParams, RelatedQuery } from './model'
import { collectionRunning, countRelatedHours, countRelatedRows, findHashtags, isTracked } from './repository'

const TAG = 'hashtags'
const ALL = '/api/v1/resources/hashtags/all'
const RELATED = '/api/v1/resources/hashtags/:tag/related'

export const hashtagsModule = (db: Database, cache: ResponseCache) =>
  new Elysia({ name: 'hashtags' })
    .use(
      apiRoute(
        {
          path: ALL,
          operationId: 'listHashtags',
          tag: TAG,
          summary: 'Tracked hashtags',
          description:
            'Every tracked hashtag, also those without tweets yet, with its tweet count (of every stored day, or within [since, until) and of the kinds asked for) and last collection.',
          query: AllHashtagsQuery,
          success: AllHashtags,
          answering: 'cached',
        },
        async ({ query, request, set }) => {
          const { since, until } = rangeOf(query)
          const kinds = kindsParam(query.kind)
          const filtered = since !== undefined || until !== undefined || kinds !== undefined
          // Read outside the kept answer: whether a collection runs is not part of the data version.
          const running = await collectionRunning(db)
          const key = cacheKey(ALL, { since, until, kinds: kinds?.join(','), running: running ? 1 : 0 })
          return cache.respond(request, set, key, async () => {
            const [rows, counts] = await Promise.all([
              findHashtags(db, running),
              filtered ? countByHashtagIn(db, kinds, { since: since ?? ALL_TIME.since, until: until ?? ALL_TIME.until }) : null,
            ])
            const summaries = rows.map(toHashtagSummary)
            if (counts !== null) for (const summary of summaries) summary.tweet_count = counts.get(summary.hashtag) ?? 0
            return { body: { data: summaries } }
          })
        },
      ),
    )
    .use(
      apiRoute(
        {
          path: RELATED,
          operationId: 'relatedHashtags',
          tag: TAG,
          summary: 'Hashtags that travel with a tracked hashtag',
          description:
            'The other hashtags, tracked or not, carried by the stored tweets under the tag (within [since, until) when given), most frequent first; ties by name.',
          query: RelatedQuery,
          params: RelatedParams,
          missing: 'The hashtag is not tracked.',
          success: Related,
          answering: 'cached',
        },
        ({ params, query, request, set }) => {
          const tag = normalizeHashtag(params.tag!)!
          const { since, until } = rangeOf(query)
          const limit = query.limit ?? RANKED_LIMIT_DEFAULT
          const range = { since: since ?? ALL_TIME.since, until: until ?? ALL_TIME.until }
          return cache.respond(request, set, cacheKey(RELATED, { tag, limit, ...range }), async () => {
            const [tracked, counted] = await Promise.all([
              isTracked(db, tag),
              acrossRange(
                range,
                HOUR_MS,
                (span) => countRelatedHours(db, tag, span),
                (span) => countRelatedRows(db, tag, span),
              ),
            ])
            if (tracked.length === 0) throw new HttpProblem('not-found', `#${tag} is not tracked`)
            return { body: { data: toRelated([...counted.whole, ...counted.edges], limit) } }
          })
        },
      ),
    )
