/**
 * The time buckets the counts are kept in (sql/004_analysis.sql), counted from 1970-01-01 UTC:
 * quarter hours for tweet counts (every UTC offset in use is a multiple of 15 minutes, so local
 * hours and days are whole quarters) and hours for related hashtags. The SQL that rebuilds the
 * counts computes the same numbers (db/counts.ts).
 */

export const QUARTER_MS = 15 * 60_000
export const HOUR_MS = 60 * 60_000

/** Milliseconds since the epoch of a UTC DATETIME(3) literal 'YYYY-MM-DD hh:mm:ss.sss'. */
export const datetimeMs = (datetime: string): number => Date.parse(`${datetime.slice(0, 10)}T${datetime.slice(11)}Z`)

export const quarterOf = (datetime: string): number => Math.floor(datetimeMs(datetime) / QUARTER_MS)
export const hourOf = (datetime: string): number => Math.floor(datetimeMs(datetime) / HOUR_MS)

/**
 * The buckets of `size` wholly inside a range, [from, to) in bucket numbers, and the parts of the
 * range outside them (its edges), which are counted from the rows.
 */
export function splitRange(since: number, until: number, size: number): { from: number; to: number; edges: [number, number][] } {
  const from = Math.ceil(since / size)
  const to = Math.floor(until / size)
  if (from >= to) return { from: 0, to: 0, edges: [[since, until]] }
  const edges: [number, number][] = []
  if (since < from * size) edges.push([since, from * size])
  if (to * size < until) edges.push([to * size, until])
  return { from, to, edges }
}
