import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import type { Clock } from '../../domain/clock'
import { byCodePoints } from '../../domain/order'
import { toIsoUtc, toMysqlUtc } from '../../domain/time'
import {
  ALL_TIME,
  bucketsOf,
  formatOffset,
  INTERVALS,
  type Interval,
  MAX_BUCKETS,
  type TimeRange,
  timelineRange,
} from '../../domain/time-range'
import { type CsvCells, type ExportGate, type Representation, representationOf } from '../../http/export'
import { hashtagOf, kindsParam, rangeOf, tzOf } from '../../http/filters'
import { readPage } from '../../http/pagination'
import { HttpProblem, invalidParameters } from '../../http/problem'
import { cacheKey, type ResponseCache, type ResponseHeaders } from '../../http/response-cache'
import { apiRoute } from '../../http/route'
import { NoQuery, RANKED_LIMIT_DEFAULT } from '../../http/schemas'
import type { Logger } from '../../observability/logger'
import { countByLangIn, countOverTime } from '../counts/range-counts'
import { exportTweets, TWEET_EXPORT } from './export'
import { hoursOf, inOrder, toBuckets, toHours, toLangCounts, toTweets } from './mapper'
import {
  AllTweetsQuery,
  ByHour,
  ByHourQuery,
  ByLang,
  ByLangQuery,
  Timeline,
  TimelineQuery,
  TopQuery,
  TopTweets,
  Tweet,
  TweetIdParams,
  TweetPage,
  TweetsQuery,
} from './model'
import { countByLang, countByQuarter, findTopIds, findTweets, findTweetsByIds, type TweetFilter } from './repository'

const TAG = 'tweets'
const ALL = '/api/v1/resources/tweets/all'
const FILTERED = '/api/v1/resources/tweets'
const BY_HOUR = '/api/v1/resources/tweets/by_hour'
const BY_LANG = '/api/v1/resources/tweets/by_lang'
const TIMELINE = '/api/v1/resources/tweets/timeline'
const TOP = '/api/v1/resources/tweets/top'
const ONE = '/api/v1/resources/tweets/:id'

const langOf = (lang: string | undefined): string | undefined => lang?.toLowerCase()

const datetimeOf = (ms: number | undefined) => (ms === undefined ? undefined : toMysqlUtc(new Date(ms).toISOString()))

/** since, until and kind of a query as a filter of rows. */
function rowFilterOf(query: { since?: string; until?: string; kind?: string }): Pick<TweetFilter, 'since' | 'until' | 'kinds'> {
  const { since, until } = rangeOf(query)
  return { since: datetimeOf(since), until: datetimeOf(until), kinds: kindsParam(query.kind) }
}

/** since and until of a count: the whole of time where one is absent. */
function countRangeOf(query: { since?: string; until?: string }): TimeRange | null {
  const { since, until } = rangeOf(query)
  return since === undefined && until === undefined ? null : { since: since ?? ALL_TIME.since, until: until ?? ALL_TIME.until }
}

export const tweetsModule = (db: Database, cache: ResponseCache, logger: Logger, clock: Clock, exports: ExportGate) => {
  const page = (
    route: string,
    filter: TweetFilter,
    query: { limit?: number; cursor?: string; format?: Representation; csv_cells?: CsvCells },
    request: Request,
    set: ResponseHeaders,
  ) => {
    const format = representationOf(query.format, request.headers.get('accept'))
    if (format !== 'json')
      return exportTweets(db, logger, exports, {
        format,
        cells: query.csv_cells ?? 'safe',
        filter,
        cursor: query.cursor,
        request,
        set,
      })
    // The same URL answers CSV or NDJSON to another Accept: shared caches must key on it too.
    set.headers.vary = set.headers.vary === undefined ? 'Accept' : `${set.headers.vary}, Accept`
    const params = {
      hash: filter.hashtag,
      lang: filter.lang,
      author_id: filter.authorId,
      // The Link header repeats these: written back as the client may send them, ISO 8601 UTC.
      since: filter.since === undefined ? undefined : toIsoUtc(filter.since),
      until: filter.until === undefined ? undefined : toIsoUtc(filter.until),
      kind: filter.kinds?.join(','),
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
          description: 'Every stored tweet, newest first, one page at a time; optionally within a time range and of some kinds.',
          query: AllTweetsQuery,
          success: TweetPage,
          answering: 'cached',
          paged: true,
          exports: TWEET_EXPORT,
        },
        ({ query, request, set }) => page(ALL, rowFilterOf(query), query, request, set),
      ),
    )
    .use(
      apiRoute(
        {
          path: FILTERED,
          operationId: 'searchTweets',
          tag: TAG,
          summary: 'Tweets by language, hashtag, author, time range and kind',
          description: 'Stored tweets matching every filter given (AND), newest first, one page at a time.',
          query: TweetsQuery,
          success: TweetPage,
          answering: 'cached',
          paged: true,
          exports: TWEET_EXPORT,
        },
        ({ query, request, set }) =>
          page(
            FILTERED,
            { hashtag: hashtagOf(query), lang: langOf(query.lang), authorId: query.author_id, ...rowFilterOf(query) },
            query,
            request,
            set,
          ),
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
            'How many stored tweets were posted in each hour of the day (0-23, zero-filled), in UTC or in the offset given by tz; over every stored day, or within [since, until). A tweet under two hashtags counts once.',
          query: ByHourQuery,
          success: ByHour,
          answering: 'cached',
        },
        ({ query, request, set }) => {
          const filter = { hashtag: hashtagOf(query), lang: langOf(query.lang), kinds: kindsParam(query.kind) }
          const range = countRangeOf(query)
          const offset = tzOf(query.tz)
          return cache.respond(
            request,
            set,
            cacheKey(BY_HOUR, { ...filter, kinds: filter.kinds?.join(','), offset, ...range }),
            async () => ({
              body: {
                data:
                  range === null && filter.kinds === undefined
                    ? toHours(await countByQuarter(db, filter), offset)
                    : hoursOf(await countOverTime(db, filter, range ?? ALL_TIME), offset),
              },
            }),
          )
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
          description:
            'How many stored tweets each (hashtag, language) pair has; over every stored day, or within [since, until).',
          query: ByLangQuery,
          success: ByLang,
          answering: 'cached',
        },
        ({ query, request, set }) => {
          const filter = { hashtag: hashtagOf(query), kinds: kindsParam(query.kind) }
          const range = countRangeOf(query)
          return cache.respond(
            request,
            set,
            cacheKey(BY_LANG, { ...filter, kinds: filter.kinds?.join(','), ...range }),
            async () => {
              if (range === null && filter.kinds === undefined)
                return { body: { data: toLangCounts(await countByLang(db, filter)) } }
              const rows = (await countByLangIn(db, filter, range ?? ALL_TIME)).filter((row) => Number(row.count) > 0)
              rows.sort(
                (a, b) => byCodePoints(a.hashtag, b.hashtag) || Number(b.count) - Number(a.count) || byCodePoints(a.lang, b.lang),
              )
              return { body: { data: toLangCounts(rows) } }
            },
          )
        },
      ),
    )
    .use(
      apiRoute(
        {
          path: TIMELINE,
          operationId: 'tweetTimeline',
          tag: TAG,
          summary: 'Tweets per minute, hour or day over a range',
          description: `How many tweets were posted in each bucket of [since, until) (default: up to the end of the current bucket, over a day of minutes or a week of hours or days), zero-filled, buckets aligned to the offset tz (days start at its midnight). At most ${MAX_BUCKETS.toLocaleString('en')} buckets. A tweet under two hashtags counts once without hash.`,
          query: TimelineQuery,
          success: Timeline,
          answering: 'cached',
        },
        ({ query, request, set }) => {
          const { since, until } = rangeOf(query)
          const interval: Interval = query.interval ?? 'hour'
          const size = INTERVALS[interval]
          const offset = tzOf(query.tz)
          const range = timelineRange(since, until, interval, offset * 60_000, clock())
          if (range.since >= range.until) {
            // Either side is past the time the columns hold: until before 1970, or since at the end of 9999.
            throw invalidParameters([
              until !== undefined && until <= ALL_TIME.since
                ? {
                    parameter: 'until',
                    detail: 'until is before 1970, when the time this service holds begins: the range is empty',
                  }
                : { parameter: 'since', detail: 'since is at the end of the time this service holds: the range is empty' },
            ])
          }
          const { first, count } = bucketsOf(range, size, offset * 60_000)
          if (count > MAX_BUCKETS) {
            throw invalidParameters([
              {
                parameter: 'interval',
                detail: `the range holds ${count} buckets of a ${interval}; at most ${MAX_BUCKETS} are answered: narrow since and until, or take a longer interval`,
              },
            ])
          }
          const filter = { hashtag: hashtagOf(query), lang: langOf(query.lang), kinds: kindsParam(query.kind) }
          const key = cacheKey(TIMELINE, { ...filter, kinds: filter.kinds?.join(','), interval, offset, ...range })
          return cache.respond(request, set, key, async () => ({
            body: {
              data: toBuckets(await countOverTime(db, filter, range, interval === 'minute'), first, size, count),
              interval,
              tz: formatOffset(offset),
            },
          }))
        },
      ),
    )
    .use(
      apiRoute(
        {
          path: TOP,
          operationId: 'topTweets',
          tag: TAG,
          summary: 'The tweets with the most likes, retweets, replies, quotes or engagement',
          description:
            'The stored tweets ranked by one public metric, or by engagement (likes + retweets + replies + quotes), highest first; ties by id, newest first. Tweets without metrics are not ranked.',
          query: TopQuery,
          success: TopTweets,
          answering: 'cached',
        },
        ({ query, request, set }) => {
          const filter = { hashtag: hashtagOf(query), lang: langOf(query.lang), ...rowFilterOf(query) }
          const by = query.by ?? 'engagement'
          const limit = query.limit ?? RANKED_LIMIT_DEFAULT
          const key = cacheKey(TOP, { ...filter, kinds: filter.kinds?.join(','), by, limit })
          return cache.respond(request, set, key, async () => {
            const ids = (await findTopIds(db, filter, by, limit)).map((row) => row.id)
            return { body: { data: inOrder(ids, await findTweetsByIds(db, ids)) } }
          })
        },
      ),
    )
    .use(
      apiRoute(
        {
          path: ONE,
          operationId: 'getTweet',
          tag: TAG,
          summary: 'One tweet by id',
          description: 'The stored tweet with this id, with its hashtags, kind and metrics.',
          query: NoQuery,
          params: TweetIdParams,
          missing: 'No stored tweet has this id.',
          success: Tweet,
          answering: 'cached',
        },
        ({ params, request, set }) => {
          const id = params.id!
          return cache.respond(request, set, cacheKey(ONE, { id }), async () => {
            const [tweet] = toTweets(await findTweetsByIds(db, [id]))
            if (tweet === undefined) throw new HttpProblem('not-found', `no stored tweet has id ${id}`)
            return { body: tweet }
          })
        },
      ),
    )
}
