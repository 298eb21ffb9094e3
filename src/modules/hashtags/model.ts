import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { Aggregate, hashtagParam, KindsParam, rangeParams, rankedLimitParam } from '../../http/schemas'

export const HashtagSummary = t.Object(
  {
    hashtag: t.String({ description: "Tracked hashtag, lowercase, without '#'." }),
    tweet_count: Type.Integer({ minimum: 0, description: 'Stored tweets carrying it (within the range and kinds asked for).' }),
    last_collected_at: t.Union([t.String({ format: 'date-time' }), t.Null()], {
      description: 'When its last collection ended (ISO 8601 UTC); null before the first.',
    }),
    last_outcome: t.Union([t.String(), t.Null()], {
      description:
        'How its last collection ended: ok, truncated, rate_limited, failed, interrupted, ... (in_progress while a collection runs; one cut short by a killed process reads interrupted); null before the first.',
    }),
  },
  {
    title: 'Hashtag',
    description: 'A tracked hashtag and the state of its collection.',
    examples: [{ hashtag: 'devops', tweet_count: 120, last_collected_at: '2026-11-28T09:00:02.314Z', last_outcome: 'ok' }],
  },
)

export const AllHashtagsQuery = t.Object({ ...rangeParams, kind: t.Optional(KindsParam) })
export const AllHashtags = Aggregate(HashtagSummary, 'HashtagList', 'Every tracked hashtag, by name, also those without tweets')

export const RelatedParams = t.Object({ tag: hashtagParam('tag', 'A tracked hashtag.') })

export const RelatedQuery = t.Object({
  ...rangeParams,
  limit: t.Optional(rankedLimitParam('hashtags')),
})

export const RelatedCount = t.Object(
  {
    hashtag: t.String({ description: "Another hashtag, tracked or not, lowercase, without '#'." }),
    count: Type.Integer({ minimum: 1, description: 'Tweets under the tag that also carry it.' }),
  },
  {
    title: 'RelatedHashtag',
    description: 'A hashtag that travels with the one asked about.',
    examples: [
      { hashtag: 'kubernetes', count: 31 },
      { hashtag: 'sre', count: 12 },
    ],
  },
)
export const Related = Aggregate(
  RelatedCount,
  'RelatedHashtags',
  'The other hashtags of its tweets, most frequent first; ties by name',
)
