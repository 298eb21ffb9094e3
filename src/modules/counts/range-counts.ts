import type { Sql } from '../../db/sql'
import { QUARTER_MS, splitRange } from '../../domain/buckets'
import { toMysqlUtc } from '../../domain/time'
import type { TimeRange } from '../../domain/time-range'
import {
  type CountFilter,
  countHashtagQuarters,
  countHashtagRows,
  countLangQuarters,
  countLangRows,
  countMinutes,
  countQuarters,
  type GroupCountRow,
  type RowSpan,
} from './repository'

/**
 * Counts within a time range, from the kept counts for the whole buckets inside it and from the rows
 * for its edges (repository.ts), read in parallel and merged here.
 */

const datetimeOf = (ms: number) => toMysqlUtc(new Date(ms).toISOString())

/**
 * What the range holds, from `whole` for the buckets of `size` wholly inside it (bucket numbers
 * [from, to)) and from `part` for its edges (DATETIME literals).
 */
export async function acrossRange<T>(
  range: TimeRange,
  size: number,
  whole: (span: { from: number; to: number }) => Promise<T[]>,
  part: (span: RowSpan) => Promise<T[]>,
): Promise<{ whole: T[]; edges: T[] }> {
  const { from, to, edges } = splitRange(range.since, range.until, size)
  const [inside, ...outside] = await Promise.all([
    from < to ? whole({ from, to }) : Promise.resolve([]),
    ...edges.map(([since, until]) => part({ since: datetimeOf(since), until: datetimeOf(until) })),
  ])
  return { whole: inside, edges: outside.flat() }
}

/** A number of tweets posted at or after `start` and before the next minute or quarter hour. */
export interface TimedCount {
  start: number
  count: number
}

/**
 * Tweets under the filter within the range (every tweet once without a hashtag): whole quarter hours
 * at their starts, the rest per minute. With `byMinute` all of it per minute, from the rows.
 */
export async function countOverTime(sql: Sql, filter: CountFilter, range: TimeRange, byMinute = false): Promise<TimedCount[]> {
  const perMinute = (span: RowSpan) => countMinutes(sql, filter, span)
  if (byMinute) {
    const rows = await perMinute({ since: datetimeOf(range.since), until: datetimeOf(range.until) })
    return rows.map((row) => ({ start: Number(row.minute) * 60_000, count: Number(row.count) }))
  }
  const { whole, edges } = await acrossRange<{ start: number; count: number }>(
    range,
    QUARTER_MS,
    async (span) =>
      (await countQuarters(sql, filter, span)).map((row) => ({
        start: Number(row.quarter) * QUARTER_MS,
        count: Number(row.count),
      })),
    async (span) => (await perMinute(span)).map((row) => ({ start: Number(row.minute) * 60_000, count: Number(row.count) })),
  )
  return [...whole, ...edges]
}

/** Sums counts of the same (hashtag, lang). */
function merged(rows: GroupCountRow[]): GroupCountRow[] {
  const sums = new Map<string, GroupCountRow>()
  for (const row of rows) {
    const key = `${row.hashtag}\u0000${row.lang}`
    const known = sums.get(key)
    if (known === undefined) sums.set(key, { ...row, count: String(Number(row.count)) } as GroupCountRow)
    else known.count = String(Number(known.count) + Number(row.count))
  }
  return [...sums.values()]
}

/** Tweets per (hashtag, language) within the range. */
export async function countByLangIn(sql: Sql, filter: Omit<CountFilter, 'lang'>, range: TimeRange): Promise<GroupCountRow[]> {
  const { whole, edges } = await acrossRange(
    range,
    QUARTER_MS,
    (span) => countLangQuarters(sql, filter, span),
    (span) => countLangRows(sql, filter, span),
  )
  return merged([...whole, ...edges])
}

/** Tweets per tracked hashtag within the range. */
export async function countByHashtagIn(
  sql: Sql,
  kinds: readonly string[] | undefined,
  range: TimeRange,
): Promise<Map<string, number>> {
  const { whole, edges } = await acrossRange(
    range,
    QUARTER_MS,
    (span) => countHashtagQuarters(sql, kinds, span),
    (span) => countHashtagRows(sql, kinds, span),
  )
  return new Map(merged([...whole, ...edges]).map((row) => [row.hashtag, Number(row.count)]))
}
