import type { Static } from 'elysia'
import { toIsoUtc } from '../../domain/time'
import type { HashtagSummary } from './model'
import type { HashtagRow } from './repository'

export const toHashtagSummary = (row: HashtagRow): Static<typeof HashtagSummary> => ({
  hashtag: row.tag,
  tweet_count: Number(row.tweet_count),
  last_collected_at: row.last_collected_at === null ? null : toIsoUtc(row.last_collected_at),
  last_outcome: row.last_outcome,
})
