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

/** How a run ended (the outcome label of twitter_collector_runs_total); checked against the README like HASHTAG_OUTCOMES. */
export const RUN_OUTCOMES = ['success', 'partial', 'failed', 'skipped'] as const

export type RunOutcome = (typeof RUN_OUTCOMES)[number]

export interface RunSummary {
  outcome: RunOutcome
  source: SearchSource['name']
  hashtags: HashtagRun[]
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
