/**
 * The time ranges clients ask for (since, until) and the buckets of a timeline, in one place. A
 * range is half-open, [since, until), in milliseconds since the epoch; tweets are stored to the
 * millisecond. Offsets are fixed UTC offsets (no daylight saving): a local day is 24 hours.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
/** A leading space stands for '+' in an offset: an unencoded query string turns one into the other. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+ -])(\d{2}):(\d{2}))$/

/** The years a range may name: what the DATETIME columns hold from the epoch on. */
const FIRST_YEAR = 1970
const LAST_YEAR = 9999

const validDate = (year: number, month: number, day: number, firstYear = FIRST_YEAR) => {
  if (year < firstYear || year > LAST_YEAR || month < 1 || month > 12 || day < 1) return false
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/**
 * `YYYY-MM-DD` (midnight UTC) or an ISO 8601 instant with an offset (`Z`, `+05:30`) → milliseconds,
 * or null. A fraction finer than milliseconds rounds up: with tweets stored to the millisecond,
 * `t >= since` and `t < until` keep the same tweets after rounding.
 */
export function parseInstant(value: string): number | null {
  const date = DATE.exec(value)
  if (date !== null) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])]
    return validDate(year, month, day) ? Date.UTC(year, month - 1, day) : null
  }
  const m = INSTANT.exec(value)
  if (m === null) return null
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]))
  const second = Number(m[6] ?? 0)
  // The date of an instant is local: in a negative offset the first hours of 1970 are written on
  // 1969-12-31 (1969-12-31T20:30:00-03:30 is the epoch). The instant itself is bounded below.
  if (!validDate(year!, month!, day!, FIRST_YEAR - 1) || hour! > 23 || minute! > 59 || second > 59) return null
  const offsetHours = Number(m[10] ?? 0)
  const offsetMinutes = Number(m[11] ?? 0)
  if (offsetHours > 14 || offsetMinutes > 59) return null
  const offset = (m[8] === 'Z' ? 0 : (offsetHours * 60 + offsetMinutes) * (m[9] === '-' ? -1 : 1)) * 60_000
  const fraction = m[7] ?? ''
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3)) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0)
  const ms = Date.UTC(year!, month! - 1, day!, hour, minute, second) + millis - offset
  return ms >= 0 && ms <= Date.UTC(LAST_YEAR, 11, 31, 23, 59, 59, 999) ? ms : null
}

export interface TimeRange {
  since: number
  until: number
}

/** The whole of time the columns hold: what an absent since or until stands for. */
export const ALL_TIME: TimeRange = { since: 0, until: Date.UTC(LAST_YEAR + 1, 0, 1) }

export const INTERVALS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const
export type Interval = keyof typeof INTERVALS

/** Most buckets one timeline may have. */
export const MAX_BUCKETS = 10_000

/** The range a timeline shows when since or until is absent: seven days, ending with the current bucket. */
export const DEFAULT_SPAN_MS = 7 * INTERVALS.day

/** Start of the bucket of `ms`, for buckets of `size` aligned to the offset (local midnight for days). */
export const bucketStart = (ms: number, size: number, offsetMs: number): number =>
  Math.floor((ms + offsetMs) / size) * size - offsetMs

/**
 * The range of a timeline: as given; a missing until is the end of the current bucket, a missing
 * since is seven days before until.
 */
export function timelineRange(
  since: number | undefined,
  until: number | undefined,
  size: number,
  offsetMs: number,
  now: number,
): TimeRange {
  const end = until ?? (since !== undefined && since > now ? since + DEFAULT_SPAN_MS : bucketStart(now, size, offsetMs) + size)
  // Within the time the columns hold: a default side never reaches before 1970 or past 9999.
  return { since: Math.max(since ?? end - DEFAULT_SPAN_MS, ALL_TIME.since), until: Math.min(end, ALL_TIME.until - 1) }
}

/** Starts of the buckets that cover the range, the first and last possibly cut by it. */
export function bucketsOf(range: TimeRange, size: number, offsetMs: number): { first: number; count: number } {
  const first = bucketStart(range.since, size, offsetMs)
  const last = bucketStart(range.until - 1, size, offsetMs)
  return { first, count: (last - first) / size + 1 }
}

/** Offsets from -12:00 to +14:00 in quarter hours: every offset in use on Earth. */
const UTC_OFFSET = /^([ +-])(0[0-9]|1[0-4]):(00|15|30|45)$/

/** "-03:00" → -180, "Z" → 0; a leading space stands for '+'. Null for anything else. */
export function offsetMinutes(tz: string): number | null {
  if (tz === 'Z') return 0
  const match = UTC_OFFSET.exec(tz)
  if (!match) return null
  const minutes = (Number(match[2]) * 60 + Number(match[3])) * (match[1] === '-' ? -1 : 1)
  return minutes >= -720 && minutes <= 840 ? minutes : null
}

/** An offset in minutes as the API writes it back: "+05:30", "-03:00", "+00:00". */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}
