/**
 * The time ranges clients ask for (since, until) and the buckets of a timeline, in one place. A
 * range is half-open, [since, until), in milliseconds since the epoch; tweets are stored to the
 * millisecond. Offsets are fixed UTC offsets (no daylight saving): a local day is 24 hours.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
/**
 * RFC 3339 §5.6 date-time: `T` and `Z` in either case, seconds optional (ISO 8601 allows leaving
 * them out), a fraction of any length. A leading space stands for '+' in an offset: an unencoded
 * query string turns one into the other.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+ -]\d{2}:\d{2})$/
/** An offset as RFC 3339 writes it: `Z` (either case), or a sign, hours and minutes. */
const OFFSET = /^(?:([Zz])|([+ -])(\d{2}):(\d{2}))$/

/** The years a range may name: what the DATETIME columns hold. Earlier instants are no error: no tweet is that old. */
const LAST_YEAR = 9999

/** The offsets in use on Earth, in minutes: what tz may be. */
export const OFFSET_BOUNDS = { min: -12 * 60, max: 14 * 60 } as const

const validDate = (year: number, month: number, day: number) => {
  if (year > LAST_YEAR || month < 1 || month > 12 || day < 1) return false
  return day <= daysInMonth(year, month)
}

/** Days of a month of the proleptic Gregorian calendar (RFC 3339 §5.7); any year from 0000. */
const daysInMonth = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31

/** Milliseconds of a UTC date and time, for any year from 0000 (Date.UTC reads 0-99 as 1900-1999). */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second))
  date.setUTCFullYear(year, month - 1, day)
  return date.getTime()
}

/** The offset an RFC 3339 instant or a tz parameter names, in minutes (Z is 0), or null when it is not one. */
export function parseOffset(text: string): { minutes: number } | null {
  const m = OFFSET.exec(text)
  if (m === null) return null
  if (m[1] !== undefined) return { minutes: 0 }
  const [hours, minutes] = [Number(m[3]), Number(m[4])]
  if (hours > 23 || minutes > 59) return null
  return { minutes: (hours * 60 + minutes) * (m[2] === '-' ? -1 : 1) }
}

export type ParsedInstant = { ms: number } | { problem: string }

/**
 * `YYYY-MM-DD` (midnight UTC) or an RFC 3339 instant (`2026-11-24T09:00:00Z`, `…t09:00z`,
 * `…+05:30`) → milliseconds (negative before 1970), or why it is refused: not an instant at all, or
 * one past the year 9999. A fraction finer than milliseconds
 * rounds up: with tweets stored to the millisecond, `t >= since` and `t < until` keep the same tweets.
 */
export function readInstant(value: string): ParsedInstant {
  const malformed = { problem: 'malformed' }
  const date = DATE.exec(value)
  if (date !== null) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])]
    if (year > LAST_YEAR) return { problem: `after the year ${LAST_YEAR}` }
    return validDate(year, month, day) ? { ms: utcMs(year, month, day) } : malformed
  }
  const m = INSTANT.exec(value)
  if (m === null) return malformed
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i])) as [number, number, number, number, number]
  // RFC 3339 allows a leap second (:60); it is read as the first millisecond after :59.999.
  const second = Number(m[6] ?? 0)
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 60) return malformed
  // Any offset RFC 3339 writes (to ±23:59): an instant is the same instant whatever offset names it.
  const offset = parseOffset(m[8]!)
  if (offset === null) return malformed
  const fraction = m[7] ?? ''
  const millis = second === 60 ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3)) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0)
  const ms = utcMs(year, month, day, hour, minute, second) + millis - offset.minutes * 60_000
  return ms <= ALL_TIME.until - 1 ? { ms } : { problem: `after the year ${LAST_YEAR}` }
}

export interface TimeRange {
  since: number
  until: number
}

/**
 * The whole of time the columns hold: what an absent since or until stands for, and what a range
 * is cut to (no tweet is from before 1970).
 */
export const ALL_TIME: TimeRange = { since: 0, until: Date.UTC(LAST_YEAR + 1, 0, 1) }

/** A range cut to ALL_TIME. */
export const withinAllTime = (range: { since?: number; until?: number }): { since?: number; until?: number } => ({
  since: range.since === undefined ? undefined : Math.max(range.since, ALL_TIME.since),
  until: range.until === undefined ? undefined : Math.max(range.until, ALL_TIME.since),
})

export const INTERVALS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const
export type Interval = keyof typeof INTERVALS

/** Most buckets one timeline may have. */
export const MAX_BUCKETS = 10_000

/**
 * The span a timeline shows when since or until is absent, per interval, ending with the current
 * bucket: each fits in MAX_BUCKETS (a day of minutes, a week of hours or days).
 */
export const DEFAULT_SPANS: Record<Interval, number> = { minute: INTERVALS.day, hour: 7 * INTERVALS.day, day: 7 * INTERVALS.day }

/** Start of the bucket of `ms`, for buckets of `size` aligned to the offset (local midnight for days). */
export const bucketStart = (ms: number, size: number, offsetMs: number): number =>
  Math.floor((ms + offsetMs) / size) * size - offsetMs

/**
 * The range of a timeline: as given; a missing until is the end of the current bucket, a missing
 * since is the interval's default span (DEFAULT_SPANS) before until.
 */
export function timelineRange(
  since: number | undefined,
  until: number | undefined,
  interval: Interval,
  offsetMs: number,
  now: number,
): TimeRange {
  const size = INTERVALS[interval]
  const span = DEFAULT_SPANS[interval]
  const end = until ?? (since !== undefined && since > now ? since + span : bucketStart(now, size, offsetMs) + size)
  // Within the time the columns hold: a default side never reaches before 1970 or past 9999.
  return { since: Math.max(since ?? end - span, ALL_TIME.since), until: Math.min(end, ALL_TIME.until - 1) }
}

/** Starts of the buckets that cover the range, the first and last possibly cut by it. */
export function bucketsOf(range: TimeRange, size: number, offsetMs: number): { first: number; count: number } {
  const first = bucketStart(range.since, size, offsetMs)
  const last = bucketStart(range.until - 1, size, offsetMs)
  return { first, count: (last - first) / size + 1 }
}

/**
 * The tz parameter → minutes, or why it is refused. The same offsets as an instant's (parseOffset),
 * in use on Earth, and in quarter hours: counts are kept per quarter hour, which every offset in use
 * is a multiple of.
 */
export function readTz(tz: string): { minutes: number } | { problem: string } {
  const offset = parseOffset(tz)
  if (offset === null) return { problem: 'malformed' }
  if (offset.minutes < OFFSET_BOUNDS.min || offset.minutes > OFFSET_BOUNDS.max)
    return { problem: 'the offsets in use run from -12:00 to +14:00' }
  if (offset.minutes % 15 !== 0) return { problem: 'offsets in use are whole quarter hours' }
  return offset
}

/** An offset in minutes as the API writes it back: "+05:30", "-03:00", "+00:00". */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}
