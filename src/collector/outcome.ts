import { DatabaseUnavailableError } from '../db/errors'
import { LockLostError } from '../db/lock'
import type { SearchSource } from './source'

/**
 * How a hashtag's collection ended, as recorded in hashtags.last_outcome. A list, not only a type: the
 * README's list of outcomes is checked against it (test/system/readme.test.ts).
 */
export const HASHTAG_OUTCOMES = [
  'ok', // every page fetched
  'truncated', // stopped at MAX_PAGES_PER_HASHTAG; older tweets beyond it are skipped
  'rate_limited', // the rate-limit reset was further away than COLLECT_MAX_WAIT, or the waits ran out
  'usage_capped', // monthly cap reached
  'unauthorized', // 401/403
  'malformed', // a page was not a recent-search response
  'failed', // retries exhausted, a request the API refused, an unusable answer, a database error, the lock lost
  'interrupted', // the service is shutting down
  'skipped', // not attempted: the run stopped before it
] as const

export type HashtagOutcome = (typeof HASHTAG_OUTCOMES)[number]

/** Outcomes after which the hashtag's since_id moves forward; the others leave it for the next run. */
export const advancesSinceId = (outcome: HashtagOutcome): boolean => outcome === 'ok' || outcome === 'truncated'

/** What a hashtag's collection did, for the run summary (not the API's hashtag object). */
export interface HashtagRun {
  tag: string
  outcome: HashtagOutcome
  pages: number
  /** Tweets the API returned. */
  tweets: number
  newTweets: number
  knownTweets: number
  /** Tweets of stored pages left out (see the collector-tweets-skipped log line). */
  skippedTweets: number
  users: number
  partialErrors: number
  durationMs: number
  reason?: string
}

/** How a run ended (the outcome label of twitter_collector_runs_total); checked against the manual (docs/) like HASHTAG_OUTCOMES. */
export const RUN_OUTCOMES = ['success', 'partial', 'failed', 'skipped'] as const

export type RunOutcome = (typeof RUN_OUTCOMES)[number]

/** How the metrics refresh of a run ended (refresh.ts). */
export type RefreshOutcome =
  | 'ok' // every young tweet within the budget was looked up, or there was none
  | 'off' // METRICS_REFRESH_REQUESTS is 0
  | 'rate_limited' // the lookup's rate-limit window is spent: the rest is left for the next run
  | 'usage_capped' // monthly cap reached
  | 'unauthorized' // 401/403
  | 'failed' // a request the API refused, a misconfiguration, a database error, the lock lost, the run's timeout
  | 'interrupted' // the service is shutting down
  | 'skipped' // not attempted: the run stopped before it

/** What the metrics refresh of a run did. */
export interface RefreshRun {
  outcome: RefreshOutcome
  /** Lookup requests sent, answered or not. */
  requests: number
  /** Lookup requests whose answer could not be used (5xx, timeout, not a lookup answer): their posts wait for the next run. */
  failedRequests: number
  /** Posts the answers carried: what pay-per-use access bills. */
  lookedUp: number
  /** Tweets whose metrics were written. */
  updated: number
  /** Posts deleted or protected since they were stored. */
  notFound: number
  /** Posts of an answer left out (malformed, without metrics, not asked for). */
  skipped: number
  durationMs: number
  reason?: string
}

export const emptyRefreshRun = (outcome: RefreshOutcome, reason?: string): RefreshRun => ({
  outcome,
  requests: 0,
  failedRequests: 0,
  lookedUp: 0,
  updated: 0,
  notFound: 0,
  skipped: 0,
  durationMs: 0,
  ...(reason === undefined ? {} : { reason }),
})

export interface RunSummary {
  outcome: RunOutcome
  source: SearchSource['name']
  hashtags: HashtagRun[]
  /** The metrics refresh after the search; absent when the run did not get the lock or could not start. */
  metricsRefresh?: RefreshRun
  durationMs: number
  reason?: string
}

export const emptyHashtagRun = (tag: string, outcome: HashtagOutcome, reason?: string): HashtagRun => ({
  tag,
  outcome,
  pages: 0,
  tweets: 0,
  newTweets: 0,
  knownTweets: 0,
  skippedTweets: 0,
  users: 0,
  partialErrors: 0,
  durationMs: 0,
  ...(reason === undefined ? {} : { reason }),
})

/** A hashtag's collection stopped early, for a reason its summary records. */
export class Stop extends Error {
  constructor(
    readonly outcome: HashtagOutcome,
    message: string,
    /** True when no other hashtag can succeed either (bad token, monthly cap, database down, lock lost). */
    readonly stopsRun = false,
  ) {
    super(message)
  }
}

/** A database error named by its code, never by its message (which can carry table, column and value). */
export function describeError(error: unknown): string {
  if (error instanceof DatabaseUnavailableError || error instanceof LockLostError) return error.message
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  if (typeof errno === 'number') return `the database refused the write: ${typeof code === 'string' ? code : 'error'} (${errno})`
  return `internal error (${error instanceof Error ? error.name : typeof error})`
}
