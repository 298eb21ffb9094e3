import type { CollectorConfig } from '../config'
import { LockLostError } from '../db/lock'
import type { Logger } from '../observability/logger'
import type { CollectorMetrics } from '../observability/metrics'
import { Stop } from './outcome'
import { type RateLimit, type SearchRequest, type SearchResponse, type SearchSource, SourceError } from './source'

/**
 * How the collector asks the source for one page: it waits for a rate-limit reset when that is
 * within COLLECT_MAX_WAIT, retries transient failures with exponential backoff and full jitter, asks
 * once more without a since_id the API refused, and throws the rest.
 *
 * Every loop here is bounded twice: in attempts (COLLECT_RETRIES retries, RATE_LIMIT_WAITS waits,
 * one since_id drop) and in time (each wait at most COLLECT_MAX_WAIT or the backoff cap, every wait
 * and request aborted by the run's signal, which also carries COLLECT_RUN_TIMEOUT). A rate-limit
 * reset that is past, zero, absurd or missing (a clock ahead of X's, a proxy that drops headers) is
 * no reason to ask again at once: it becomes a backoff like any other.
 */

const BACKOFF_BASE_MS = 500
const BACKOFF_CAP_MS = 10_000
/** 429s waited out per page before the hashtag is left for the next run. */
export const RATE_LIMIT_WAITS = 3
/** First wait after a 429 whose reset time is unusable; doubled at each further one, up to COLLECT_MAX_WAIT. */
const UNKNOWN_RESET_WAIT_MS = 5_000
/**
 * X's windows are 15 minutes (24 hours for the app-wide daily limit): a reset further ahead than a
 * day is no time the API would name, so it is treated like a missing one.
 */
const LONGEST_WINDOW_MS = 24 * 3_600_000

export interface FetchDeps {
  source: SearchSource
  config: CollectorConfig
  logger: Logger
  metrics: CollectorMetrics
  /** Randomness of the retry jitter. */
  random?: () => number
  /** The API refused the stored since_id (older than its window): forget it. */
  dropSinceId(tag: string): Promise<void>
}

/** What a run carries from hashtag to hashtag. */
export interface FetchState {
  /** When the rate-limit window is known to be spent until (ms since the epoch); 0 when not. */
  blockedUntilMs: number
}

/** Sleeps, or resolves early when `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })

/** The end of the window a reset names, when it is a usable time ahead of now; null otherwise. */
export function resetEndMs(resetSeconds: number | null, now = Date.now()): number | null {
  if (resetSeconds === null || !Number.isFinite(resetSeconds)) return null
  const ms = resetSeconds * 1000
  if (ms <= now || ms > now + LONGEST_WINDOW_MS) return null
  // A second of margin: X's clock and ours differ by that much at least.
  return ms + 1000
}

const waitText = (ms: number) => `${Math.ceil(ms / 1000)} s`

/** One page from the source, with the fault policy above. */
export async function fetchPage(
  deps: FetchDeps,
  initial: SearchRequest,
  state: FetchState,
  signal: AbortSignal,
): Promise<SearchResponse> {
  const { source, config, logger, metrics } = deps
  const random = deps.random ?? Math.random
  // The sample is not the X API: its replays are not API requests.
  const countRequest = (status: string) => source.name === 'twitter' && metrics.apiRequests.inc({ status })
  const noteRateLimit = (rateLimit: RateLimit | null) => {
    if (rateLimit === null) return
    metrics.rateLimitRemaining.set(rateLimit.remaining)
    metrics.rateLimitLimit.set(rateLimit.limit)
  }
  const waitFor = async (ms: number, what: string) => {
    logger.info(
      { event: { action: 'collector-rate-limit-wait' }, twitter: { hashtag: initial.tag, wait_ms: Math.round(ms) } },
      `#${initial.tag}: ${what}; waiting ${waitText(ms)}`,
    )
    await sleep(ms, signal)
  }
  let request = initial
  let retries = 0
  let rateLimitWaits = 0
  for (;;) {
    if (signal.aborted) throw stopOf(signal)
    const blockedMs = state.blockedUntilMs - Date.now()
    if (blockedMs > 0) {
      if (blockedMs > config.maxWaitMs) {
        throw new Stop(
          'rate_limited',
          `the rate-limit window resets in ${waitText(blockedMs)}, beyond COLLECT_MAX_WAIT (${config.maxWaitMs} ms)`,
        )
      }
      await waitFor(blockedMs, 'rate limit exhausted')
      state.blockedUntilMs = 0
      continue
    }
    try {
      const response = await source.search(request, signal)
      countRequest('200')
      noteRateLimit(response.rateLimit)
      // The window is spent: the next request would get a 429, so wait for the reset before it.
      if (response.rateLimit?.remaining === 0) state.blockedUntilMs = resetEndMs(response.rateLimit.reset) ?? 0
      return response
    } catch (error) {
      if (!(error instanceof SourceError)) throw error
      if (error.failure.kind === 'aborted') throw stopOf(signal)
      countRequest(error.status === null ? 'error' : String(error.status))
      noteRateLimit(error.rateLimit)
      const failure = error.failure
      if (failure.kind === 'rate_limited') {
        if (rateLimitWaits === RATE_LIMIT_WAITS) {
          throw new Stop('rate_limited', `still rate limited after ${RATE_LIMIT_WAITS} waits; left for the next collection`)
        }
        const end = resetEndMs(failure.resetAt)
        if (end !== null) {
          state.blockedUntilMs = end
        } else {
          // Unusable reset: back off on our own, within COLLECT_MAX_WAIT.
          const ms = Math.min(config.maxWaitMs, UNKNOWN_RESET_WAIT_MS * 2 ** rateLimitWaits)
          await waitFor(ms, 'rate limited without a usable reset time')
        }
        rateLimitWaits++
        continue
      }
      if (failure.kind === 'bad_request' && failure.sinceId && request.sinceId !== null) {
        logger.warn(
          { event: { action: 'collector-since-id-dropped' }, twitter: { hashtag: request.tag } },
          `#${request.tag}: the API refused the stored since_id; collecting without it`,
        )
        await deps.dropSinceId(request.tag)
        request = { ...request, sinceId: null }
        continue
      }
      if (failure.kind === 'transient' && retries < config.retries) {
        const delay = Math.round(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retries))
        retries++
        logger.warn(
          { event: { action: 'collector-retry' }, twitter: { hashtag: request.tag, attempt: retries, delay_ms: delay } },
          `#${request.tag}: ${error.message}; retry ${retries} of ${config.retries} in ${delay} ms`,
        )
        await sleep(delay, signal)
        continue
      }
      throw error
    }
  }
}

/** Why the run's signal aborted, as the stop it means for the hashtag in progress. */
export function stopOf(signal: AbortSignal): Stop {
  const reason: unknown = signal.reason
  if (reason instanceof Stop) return reason
  if (reason instanceof LockLostError) return new Stop('failed', reason.message, true)
  return new Stop('interrupted', 'shutting down', true)
}
