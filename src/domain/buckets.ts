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
