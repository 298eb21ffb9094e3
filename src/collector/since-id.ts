/**
 * Which stored since_id a search may send. The X API refuses a since_id older than its seven-day
 * window (400), and a snowflake id says when its tweet was made, so an aged one is left out before
 * the request instead of being refused by it.
 */

/** Snowflake ids carry their creation time: milliseconds since this epoch, shifted left by 22 bits. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n
/** The API refuses a since_id older than its seven-day window; keep an hour of margin. */
const SINCE_ID_MAX_AGE_MS = 7 * 24 * 3_600_000 - 3_600_000

export const snowflakeTime = (id: string): number => Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH_MS)

/** A since_id the API still accepts, or null when it has aged out of the window. */
export const usableSinceId = (sinceId: string | null, now = Date.now()): string | null =>
  sinceId !== null && now - snowflakeTime(sinceId) < SINCE_ID_MAX_AGE_MS ? sinceId : null
