import type { Database } from '../../db/sql'
import { UnavailableError } from '../../domain/unavailable'
import { type BodyEnd, streamedBody } from '../../http/answer'
import { echo } from '../../http/echo'
import {
  type CsvCells,
  csvRecord,
  type ExportFormat,
  type ExportGate,
  exportFilename,
  exportResponse,
  ndjsonLine,
  openExport,
  type SetHeaders,
} from '../../http/export'
import { decodeCursor } from '../../http/pagination'
import { requestIdOf } from '../../http/request-log'
import { asError, type Logger } from '../../observability/logger'
import { toTweets } from './mapper'
import { Tweet } from './model'
import { findTweets, type TweetFilter } from './repository'

/**
 * Exports of tweet lists (src/http/export.ts streams them): the CSV columns of a tweet, the file
 * name of a selection, and the pages read through the same query as the JSON pages.
 */

/** The CSV columns, in order; the export's header row. */
export const TWEET_COLUMNS = [
  'id',
  'created_at',
  'kind',
  'lang',
  'author_id',
  'author_username',
  'author_followers_count',
  'hashtags',
  'likes',
  'retweets',
  'replies',
  'quotes',
  'impressions',
  'metrics_updated_at',
  'text',
] as const

/** A tweet as one CSV record: hashtags joined by a space, empty fields for metrics it does not have. */
export function tweetRecord(tweet: Tweet, cells: CsvCells = 'safe'): string {
  const metrics = tweet.metrics
  return csvRecord(
    [
      tweet.id,
      tweet.created_at,
      tweet.kind,
      tweet.lang,
      tweet.author.id,
      tweet.author.username,
      tweet.author.followers_count,
      tweet.hashtags.join(' '),
      metrics?.likes,
      metrics?.retweets,
      metrics?.replies,
      metrics?.quotes,
      metrics?.impressions,
      metrics?.updated_at,
      tweet.text,
    ],
    cells,
  )
}

const CSV_HEADER = csvRecord(TWEET_COLUMNS)

/** Header row and the model's example tweet, for the OpenAPI document. */
export const TWEET_EXPORT = {
  item: Tweet,
  columns: TWEET_COLUMNS,
  csvExample: CSV_HEADER + (Tweet.examples as Tweet[]).map((tweet) => tweetRecord(tweet)).join(''),
}

const ENCODERS: Record<ExportFormat, { preamble: string; encode: (tweets: Tweet[], cells: CsvCells) => string }> = {
  csv: { preamble: CSV_HEADER, encode: (tweets, cells) => tweets.map((tweet) => tweetRecord(tweet, cells)).join('') },
  ndjson: { preamble: '', encode: (tweets) => tweets.map(ndjsonLine).join('') },
}

/** A DATETIME literal of the filter as a file-name part: 20261124 for midnight, else 20261124T093000Z. */
function compactInstant(datetime: string): string {
  const [day, time = '00:00:00.000'] = datetime.split(' ')
  const [seconds, millis = '000'] = time.split('.')
  const date = day!.replaceAll('-', '')
  if (seconds === '00:00:00' && Number(millis) === 0) return date
  return `${date}T${seconds!.replaceAll(':', '')}${Number(millis) === 0 ? '' : `.${millis}`}Z`
}

/** What the file is named after: each filter given, in a fixed order (tweets-devops-en-author-42…). */
export function selectionParts(filter: TweetFilter): string[] {
  const parts: string[] = []
  if (filter.hashtag !== undefined) parts.push(filter.hashtag)
  if (filter.lang !== undefined) parts.push(filter.lang)
  if (filter.authorId !== undefined) parts.push(`author-${filter.authorId}`)
  if (filter.kinds !== undefined) parts.push(...filter.kinds)
  if (filter.since !== undefined) parts.push(`from-${compactInstant(filter.since)}`)
  if (filter.until !== undefined) parts.push(`to-${compactInstant(filter.until)}`)
  return parts
}

/**
 * Tweets per read of an export: small enough that parsing a page's rows holds the event loop for
 * a few milliseconds (other requests wait meanwhile), large enough that the keyset reads stay cheap.
 */
const EXPORT_PAGE = 250

/** Retry-After of an export refused because EXPORT_CONCURRENCY are streaming: a download takes seconds. */
const EXPORT_RETRY_AFTER_SECONDS = 5

export interface TweetExport {
  format: ExportFormat
  /** How CSV text fields are written (csv_cells). */
  cells: CsvCells
  filter: TweetFilter
  /** The list's cursor: the export starts after it. */
  cursor: string | undefined
  request: Request
  set: SetHeaders
}

/**
 * The whole selection, newest first, as CSV or NDJSON, read in pages of EXPORT_PAGE tweets. A
 * list's `limit` is accepted and has no effect: it neither caps an export (that is what the pages
 * of the JSON list are for) nor changes its bytes, only how many reads make it. A read that fails
 * after the first page cuts the body short (the status is sent already) and is logged once, as
 * export-failed, under the request's id.
 */
export async function exportTweets(db: Database, logger: Logger, gate: ExportGate, options: TweetExport): Promise<Response> {
  const { format, filter, request } = options
  const encoder = ENCODERS[format]
  const release = gate.enter()
  if (release === null) {
    throw new UnavailableError(
      'too many exports are being streamed at once (EXPORT_CONCURRENCY); retry later, or read the JSON pages',
      EXPORT_RETRY_AFTER_SECONDS,
    )
  }
  // Set once the stream exists: before, a failure of the first read is an ordinary answer (a 503).
  let ended: ((end: BodyEnd) => void) | undefined
  const stream = await openExport<Tweet>({
    read: async (after, size) => toTweets(await findTweets(db, filter, after, size)),
    keyOf: (tweet) => tweet.id,
    after: options.cursor === undefined ? null : decodeCursor(options.cursor),
    pageSize: EXPORT_PAGE,
    preamble: encoder.preamble,
    encode: (tweets) => encoder.encode(tweets, options.cells),
    signal: request.signal,
    onError: (error, sent) =>
      logger.error(
        {
          err: asError(error),
          event: { action: 'export-failed' },
          url: { path: echo(new URL(request.url).pathname) },
          http: { request: { id: requestIdOf(request) } },
          twitter: { exported: sent },
        },
        'export cut short',
      ),
    onEnd: (end) => {
      release()
      ended?.(end)
    },
  }).catch((error: unknown) => {
    release()
    throw error
  })
  ended = streamedBody(request)
  return exportResponse(stream, format, exportFilename('tweets', selectionParts(filter), format), options.set)
}
