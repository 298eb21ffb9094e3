import type { CollectorConfig } from '../config'
import type { LockHold } from '../db/lock'
import type { Database } from '../db/sql'
import type { Clock } from '../domain/clock'
import { toMysqlUtc } from '../domain/time'
import type { Logger } from '../observability/logger'
import type { CollectorMetrics } from '../observability/metrics'
import { stopOf } from './fetch-policy'
import { MalformedLookupError, type ParsedLookup, parseLookup } from './lookup'
import { type MetricsUpdate, storeMetrics, tweetsToRefresh } from './metrics-store'
import { describeError, emptyRefreshRun, type RefreshOutcome, type RefreshRun } from './outcome'
import { LOOKUP_MAX_IDS, type SearchResponse, type SearchSource, SourceError } from './source'

/**
 * The metrics refresh of a run: after the search, the public metrics of stored tweets younger than
 * METRICS_REFRESH_MAX_AGE are read again through the post lookup, least recently measured first, at
 * most METRICS_REFRESH_REQUESTS requests of 100 ids. Metrics grow for hours after a post, and a
 * since_id search sees each post once, minutes after it was posted.
 *
 * Every post a lookup returns is billed on pay-per-use access, so the budget is a hard bound and no
 * request is ever sent again: a request that fails for a passing reason (5xx, timeout, an unusable
 * answer) costs its posts this run only (they are the least recently measured, so the next run asks
 * for them first); a rate limit, a usage cap or a refused token ends the refresh at once, without
 * waiting; the run's signal (shutdown, COLLECT_RUN_TIMEOUT, the lock lost) stops it between and
 * during requests. Each answer is written in one transaction, checked against the lock.
 */

export interface RefreshDeps {
  db: Database
  source: SearchSource
  config: CollectorConfig
  logger: Logger
  metrics: CollectorMetrics
  /** Which posts are young, and when their metrics were read. */
  clock: Clock
  /** Called after each commit: answers cached in this process are no longer current. */
  onCommit?: () => void
}

/** Failures after which no other lookup of this run can succeed, as the outcome they give the refresh. */
const STOPPING: Partial<Record<SourceError['failure']['kind'], RefreshOutcome>> = {
  rate_limited: 'rate_limited',
  usage_capped: 'usage_capped',
  unauthorized: 'unauthorized',
  bad_request: 'failed',
  misconfigured: 'failed',
}

/** Thrown inside the loop to end the refresh with an outcome. */
class RefreshStop extends Error {
  constructor(
    readonly outcome: RefreshOutcome,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The refresh of one run. `runStartedAt` (ms since the epoch): tweets measured since then (by the
 * run's search) are not looked up again.
 */
export async function refreshMetrics(
  deps: RefreshDeps,
  signal: AbortSignal,
  hold?: LockHold,
  runStartedAt?: number,
): Promise<RefreshRun> {
  const { config } = deps
  const budget = config.metricsRefresh.requests
  if (budget === 0) return emptyRefreshRun('off')
  const started = performance.now()
  const run = emptyRefreshRun('ok')
  try {
    if (signal.aborted) throw stopping(signal)
    const createdAfter = toMysqlUtc(new Date(deps.clock() - config.metricsRefresh.maxAgeMs).toISOString())
    const measuredBefore = runStartedAt === undefined ? null : toMysqlUtc(new Date(runStartedAt).toISOString())
    const ids = await tweetsToRefresh(deps.db, createdAfter, budget * LOOKUP_MAX_IDS, measuredBefore)
    for (let start = 0; start < ids.length; start += LOOKUP_MAX_IDS) {
      if (signal.aborted) throw stopping(signal)
      const chunk = ids.slice(start, start + LOOKUP_MAX_IDS)
      run.requests++
      const answer = await lookup(deps, chunk, signal)
      if (answer === null) {
        run.failedRequests++
        continue
      }
      const { parsed, response } = answer
      const asked = new Set(chunk)
      if (deps.source.name === 'twitter') deps.metrics.lookupPosts.inc(parsed.returned)
      run.lookedUp += parsed.returned
      run.notFound += parsed.notFound.filter((id) => asked.has(id)).length
      const updates: MetricsUpdate[] = []
      for (const [id, metrics] of parsed.metrics) if (asked.has(id)) updates.push({ id, metrics })
      run.skipped += parsed.skipped.length + (parsed.metrics.size - updates.length)
      if (signal.aborted) throw stopping(signal)
      run.updated += await storeMetrics(deps.db, updates, deps.clock, hold?.fence)
      deps.onCommit?.()
      // The window is spent: the next lookup would get a 429.
      if (response.rateLimit?.remaining === 0 && start + LOOKUP_MAX_IDS < ids.length) {
        throw new RefreshStop('rate_limited', 'the post lookup rate-limit window is spent; the rest is left for the next run')
      }
    }
  } catch (error) {
    const stop = error instanceof RefreshStop ? error : new RefreshStop('failed', describeError(error))
    run.outcome = stop.outcome
    run.reason = stop.message
  }
  run.durationMs = Math.round(performance.now() - started)
  log(deps.logger, run)
  return run
}

/** The refresh's stop for the run's signal: shutting down, out of time, or the lock lost. */
function stopping(signal: AbortSignal): RefreshStop {
  const stop = stopOf(signal)
  return new RefreshStop(stop.outcome === 'interrupted' ? 'interrupted' : 'failed', stop.message)
}

/** One lookup, checked; null when its answer cannot be used but the next request may well succeed. */
async function lookup(
  deps: RefreshDeps,
  ids: string[],
  signal: AbortSignal,
): Promise<{ parsed: ParsedLookup; response: SearchResponse } | null> {
  let response: SearchResponse
  try {
    response = await deps.source.lookupTweets(ids, signal)
  } catch (error) {
    if (!(error instanceof SourceError)) throw error
    if (error.failure.kind === 'aborted') throw stopping(signal)
    const outcome = STOPPING[error.failure.kind]
    if (outcome !== undefined) throw new RefreshStop(outcome, error.message)
    lookupFailed(deps.logger, ids.length, error.message, error.status)
    return null
  }
  try {
    return { parsed: parseLookup(response.body), response }
  } catch (error) {
    if (!(error instanceof MalformedLookupError)) throw error
    lookupFailed(deps.logger, ids.length, `the answer is not a post lookup result (${error.message})`, 200)
    return null
  }
}

function lookupFailed(logger: Logger, posts: number, reason: string, status: number | null) {
  logger.warn(
    {
      event: { action: 'collector-lookup-failed' },
      twitter: { lookup_ids: posts },
      ...(status === null ? {} : { http: { response: { status_code: status } } }),
    },
    `metrics refresh: a lookup of ${posts} posts failed: ${reason}; they wait for the next run`,
  )
}

function log(logger: Logger, run: RefreshRun) {
  logger[run.outcome === 'ok' ? 'info' : 'warn'](
    {
      event: { action: 'collector-metrics-refreshed', duration: run.durationMs * 1e6 },
      twitter: {
        outcome: run.outcome,
        lookup_requests: run.requests,
        lookup_failed: run.failedRequests,
        lookup_posts: run.lookedUp,
        lookup_not_found: run.notFound,
        lookup_skipped: run.skipped,
        metrics_updated: run.updated,
      },
    },
    `metrics refresh ${run.outcome}: ${run.requests} lookup requests (${run.failedRequests} failed), ${run.lookedUp} posts looked up, ${run.updated} updated, ${run.notFound} not found, ${run.skipped} skipped${run.reason === undefined ? '' : `: ${run.reason}`}`,
  )
}
