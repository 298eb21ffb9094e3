import { Type } from '@sinclair/typebox'
import { type Static, t } from 'elysia'
import { RANKINGS } from '../../domain/engagement'
import { MAX_BUCKETS } from '../../domain/time-range'
import { TWEET_KINDS } from '../../domain/tweet-kind'
import { CsvCellsParam, FormatParam } from '../../http/export'
import {
  Aggregate,
  AuthorIdParam,
  CursorParam,
  hashtagParam,
  IdParam,
  IdString,
  KindsParam,
  LangParam,
  LimitParam,
  Page,
  rangeParams,
  rankedLimitParam,
  TzParam,
} from '../../http/schemas'

export const Author = t.Object(
  {
    id: IdString('Id of the author.'),
    username: t.String({ description: 'Handle, without @.', examples: ['grafana'] }),
    followers_count: Type.Integer({ minimum: 0, description: 'Followers when last collected.' }),
  },
  { title: 'Author', description: 'Who posted a tweet, as last collected.' },
)

const count = (description: string) => Type.Integer({ minimum: 0, description })

export const Metrics = t.Object(
  {
    likes: count('Likes.'),
    retweets: count('Retweets.'),
    replies: count('Replies.'),
    quotes: count('Quotes.'),
    impressions: t.Union([count('Impressions.'), t.Null()], {
      description: 'Impressions, or null when the X API did not give them (older posts, some access levels).',
    }),
    updated_at: t.String({ format: 'date-time', description: 'When these counts were read from the X API, ISO 8601 UTC.' }),
  },
  { title: 'Metrics', description: 'Public metrics of a tweet, as last read from the X API.' },
)

export const KindValue = t.Union(
  [...TWEET_KINDS, 'unknown'].map((kind) => t.Literal(kind)),
  {
    description:
      'original, reply, quote or retweet (a reply that quotes counts as a quote); unknown for tweets stored before kinds were collected.',
  },
)

export const Tweet = t.Object(
  {
    id: IdString('Id of the tweet (64-bit, as a string).'),
    text: t.String({ description: 'Text of the tweet.' }),
    lang: t.String({ description: 'Language X detected (BCP 47, or und).', examples: ['en'] }),
    created_at: t.String({ format: 'date-time', description: 'When it was posted, ISO 8601 UTC.' }),
    author: Author,
    hashtags: t.Array(t.String(), { description: "Every tracked hashtag the tweet carries, lowercase, without '#'." }),
    kind: KindValue,
    metrics: t.Union([Metrics, t.Null()], {
      description:
        'Public metrics as last collected; null for a tweet stored before metrics were collected and not measured since.',
    }),
  },
  {
    title: 'Tweet',
    description: 'A stored tweet.',
    examples: [
      {
        id: '1999999999999999999',
        text: 'Error budgets are a feature #SRE #DevOps 🚀',
        lang: 'en',
        created_at: '2026-11-27T14:03:11.000Z',
        author: { id: '1234567890123456789', username: 'oncall_ana', followers_count: 5210 },
        hashtags: ['devops', 'sre'],
        kind: 'original',
        metrics: { likes: 42, retweets: 7, replies: 3, quotes: 1, impressions: 5120, updated_at: '2026-11-27T16:00:02.000Z' },
      },
    ],
  },
)
export type Tweet = Static<typeof Tweet>

const pageParams = { limit: t.Optional(LimitParam), cursor: t.Optional(CursorParam) }

/** The filters of every list and count of tweets but the author's: range and kinds. */
const rangeAndKinds = { ...rangeParams, kind: t.Optional(KindsParam) }

/** How a list is answered: a page, or an export of the whole selection, and how CSV writes text. */
const representationParams = { format: t.Optional(FormatParam), csv_cells: t.Optional(CsvCellsParam) }

export const AllTweetsQuery = t.Object({ ...rangeAndKinds, ...pageParams, ...representationParams })

export const TweetsQuery = t.Object({
  lang: t.Optional(LangParam),
  hash: t.Optional(hashtagParam('hash')),
  hashtag: t.Optional(hashtagParam('hashtag', 'Same as hash.')),
  author_id: t.Optional(AuthorIdParam),
  ...rangeAndKinds,
  ...pageParams,
  ...representationParams,
})

export const TweetPage = Page(Tweet, 'TweetPage', 'Tweets, newest first')

export const ByHourQuery = t.Object({
  hash: t.Optional(hashtagParam('hash', 'Count only tweets under this hashtag.')),
  hashtag: t.Optional(hashtagParam('hashtag', 'Same as hash.')),
  lang: t.Optional(LangParam),
  tz: t.Optional(TzParam('UTC offset the hours are counted in')),
  ...rangeAndKinds,
})

export const HourCount = t.Object(
  {
    hour: Type.Integer({ minimum: 0, maximum: 23, description: 'Hour of the day in the requested offset.' }),
    count: Type.Integer({
      minimum: 0,
      description: 'Tweets posted in that hour of the day, over every stored day, or within [since, until) when given.',
    }),
  },
  {
    title: 'HourCount',
    description: 'Tweets posted in one hour of the day.',
    examples: [
      { hour: 0, count: 12 },
      { hour: 1, count: 0 },
      { hour: 2, count: 31 },
    ],
  },
)
export const ByHour = Aggregate(HourCount, 'TweetsByHour', 'Tweets per hour of the day: 24 buckets, 0 to 23, zero-filled')

export const ByLangQuery = t.Object({
  hash: t.Optional(hashtagParam('hash', 'Only this hashtag.')),
  hashtag: t.Optional(hashtagParam('hashtag', 'Same as hash.')),
  ...rangeAndKinds,
})

export const LangCount = t.Object(
  {
    hashtag: t.String({ description: "Tracked hashtag, without '#'." }),
    lang: t.String({ description: 'Language code.' }),
    count: Type.Integer({ minimum: 0, description: 'Tweets under the hashtag in the language.' }),
  },
  {
    title: 'LangCount',
    description: 'Tweets under one hashtag in one language.',
    examples: [
      { hashtag: 'devops', lang: 'en', count: 88 },
      { hashtag: 'devops', lang: 'pt', count: 9 },
    ],
  },
)
export const ByLang = Aggregate(LangCount, 'TweetsByLang', 'Tweets per (hashtag, language), by hashtag, then most tweets first')

export const TimelineQuery = t.Object({
  hash: t.Optional(hashtagParam('hash', 'Count only tweets under this hashtag.')),
  hashtag: t.Optional(hashtagParam('hashtag', 'Same as hash.')),
  lang: t.Optional(LangParam),
  ...rangeAndKinds,
  interval: t.Optional(
    t.UnionEnum(['minute', 'hour', 'day'], {
      default: 'hour',
      description: `Length of a bucket: minute, hour or day (default hour). At most ${MAX_BUCKETS.toLocaleString('en')} buckets.`,
      examples: ['hour'],
      error: 'interval must be minute, hour or day',
    }),
  ),
  tz: t.Optional(TzParam('UTC offset the buckets are aligned to (days start at its midnight)')),
})

export const Bucket = t.Object(
  {
    start: t.String({
      format: 'date-time',
      description: 'Start of the bucket, ISO 8601 UTC; the first and last are cut by the range.',
    }),
    count: Type.Integer({ minimum: 0, description: 'Tweets posted in the bucket.' }),
  },
  {
    title: 'Bucket',
    description: 'Tweets posted in one bucket of a timeline.',
    examples: [
      { start: '2026-11-30T10:00:00.000Z', count: 31 },
      { start: '2026-11-30T11:00:00.000Z', count: 0 },
    ],
  },
)

export const Timeline = t.Object(
  {
    data: t.Array(Bucket, { description: 'Every bucket of the range, oldest first, zero-filled.' }),
    interval: t.UnionEnum(['minute', 'hour', 'day'], {
      default: undefined,
      description: 'Length of a bucket, as asked (hour when not).',
    }),
    tz: t.String({ description: 'The UTC offset the buckets are aligned to.', examples: ['+00:00'] }),
  },
  {
    title: 'Timeline',
    description: 'Tweets per minute, hour or day over a range: every bucket, zero-filled',
    examples: [
      {
        data: [
          { start: '2026-11-30T10:00:00.000Z', count: 31 },
          { start: '2026-11-30T11:00:00.000Z', count: 0 },
        ],
        interval: 'hour',
        tz: '+00:00',
      },
    ],
  },
)

export const TopQuery = t.Object({
  hash: t.Optional(hashtagParam('hash')),
  hashtag: t.Optional(hashtagParam('hashtag', 'Same as hash.')),
  lang: t.Optional(LangParam),
  ...rangeAndKinds,
  by: t.Optional(
    t.UnionEnum([...RANKINGS], {
      default: 'engagement',
      description: 'What to rank by: likes, retweets, replies, quotes, or engagement (their sum; the default).',
      examples: ['likes'],
      error: `by must be one of ${RANKINGS.join(', ')}`,
    }),
  ),
  limit: t.Optional(rankedLimitParam('tweets')),
})

export const TopTweets = Aggregate(
  Tweet,
  'TopTweets',
  'The tweets with the highest counts, highest first; ties by id, newest first',
)

export const TweetIdParams = t.Object({ id: IdParam('id', 'Id of the tweet.') })
