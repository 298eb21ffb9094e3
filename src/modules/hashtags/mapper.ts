import type { Static } from 'elysia'
import { byCodePoints } from '../../domain/order'
import { toIsoUtc } from '../../domain/time'
import type { HashtagSummary, Related } from './model'
import type { HashtagRow, RelatedRow } from './repository'

export const toHashtagSummary = (row: HashtagRow): Static<typeof HashtagSummary> => ({
  hashtag: row.tag,
  tweet_count: Number(row.tweet_count),
  last_collected_at: row.last_collected_at === null ? null : toIsoUtc(row.last_collected_at),
  last_outcome: row.last_outcome,
})

/** Counts of the same hashtag summed, most frequent first, ties by name (in code-point order, as the column sorts). */
export function toRelated(rows: RelatedRow[], limit: number): Static<typeof Related>['data'] {
  const sums = new Map<string, number>()
  for (const row of rows) sums.set(row.related, (sums.get(row.related) ?? 0) + Number(row.count))
  return [...sums]
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || byCodePoints(a, b))
    .slice(0, limit)
    .map(([hashtag, count]) => ({ hashtag, count }))
}
