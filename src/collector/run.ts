import type { CollectorConfig } from '../config'
import { commitWait } from '../db/data-version'
import { DatabaseUnavailableError } from '../db/errors'
import { collectorLockName, type LockHold, LockLostError, withNamedLock } from '../db/lock'
import type { Database } from '../db/sql'
import type { Clock } from '../domain/clock'
import type { Logger } from '../observability/logger'
import type { CollectorMetrics } from '../observability/metrics'
import { type FetchState, fetchPage, stopOf } from './fetch-policy'
import {
  advancesSinceId,
  describeError,
  emptyHashtagRun,
  emptyRefreshRun,
  type HashtagRun,
  type RunOutcome,
  type RunSummary,
  Stop,
} from './outcome'
import { MalformedPageError, type ParsedPage, parsePage, type SkippedTweet } from './page'
import { refreshMetrics } from './refresh'
import { usableSinceId } from './since-id'
import { type SearchRequest, type SearchResponse, type SearchSource, SourceError } from './source'
import {
  dropSinceId,
  finishHashtag,
  registerHashtags,
  type StoredUsers,
  settleAbandonedRuns,
  sinceIdOf,
  storePage,
} from './store'

/**
 * One collection run: every tracked hashtag, page by page, from newest to older, starting after the
 * hashtag's stored since_id; then the metrics refresh of young stored tweets (refresh.ts). One
 * process collects at a time (a MySQL named lock, checked in every page's transaction); faults of
 * the source are handled per kind (fetch-policy.ts), none leaves a half-written page, and the whole
 * run is bounded by COLLECT_RUN_TIMEOUT.
 */

export type { HashtagRun, RefreshRun, RunSummary } from './outcome'

export interface PageProgress {
  tag: string
  page: number
  tweets: number
  newTweets: number
  knownTweets: number
  users: number
}

export interface CollectorDeps {
  db: Database
  source: SearchSource
  config: CollectorConfig
  logger: Logger
  metrics: CollectorMetrics
  /** Called after each stored page (the collect command prints a line). */
  onPage?: (progress: PageProgress) => void
  /** Randomness of the retry jitter. */
  random?: () => number
  /** The date: which since_id has aged, which posts are young, when rows were written. */
  clock: Clock
  /** Called after each commit: answers cached in this process are no longer current. */
  onCommit?: () => void
}

/** Skipped tweets and partial errors named in full per log line; the rest are counted. */
const LOGGED_ITEMS = 20

export async function collect(deps: CollectorDeps, signal: AbortSignal = new AbortController().signal): Promise<RunSummary> {
  const { db, source, config, logger, metrics } = deps
  const started = performance.now()
  const finish = (summary: Omit<RunSummary, 'durationMs' | 'source'>): RunSummary => {
    const result = { ...summary, source: source.name, durationMs: Math.round(performance.now() - started) }
    metrics.runs.inc({ outcome: result.outcome })
    if (result.outcome !== 'skipped') metrics.runDuration.observe(result.durationMs / 1000)
    if (result.outcome === 'success') metrics.lastSuccess.set(deps.clock() / 1000)
    logger[result.outcome === 'success' || result.outcome === 'skipped' ? 'info' : 'warn'](
      {
        event: {
          action: 'collection-finished',
          outcome: result.outcome === 'success' ? 'success' : 'failure',
          duration: result.durationMs * 1e6,
        },
        twitter: { source: source.name, outcome: result.outcome, hashtags: result.hashtags.length },
      },
      `collection ${result.outcome}${result.reason === undefined ? '' : `: ${result.reason}`}`,
    )
    return result
  }

  // The run's own bound: past COLLECT_RUN_TIMEOUT it stops between requests and lets the lock go.
  const bounded = new AbortController()
  const timeout = setTimeout(
    () => bounded.abort(new Stop('failed', `the run reached COLLECT_RUN_TIMEOUT (${config.runTimeoutMs} ms)`, true)),
    config.runTimeoutMs,
  )
  const stopping = () => bounded.abort(signal.reason)
  if (signal.aborted) stopping()
  signal.addEventListener('abort', stopping, { once: true })
  try {
    await registerHashtags(db, config.hashtags)
    deps.onCommit?.()
    const lock = await withNamedLock(db.config, collectorLockName(db.config.database), (hold) =>
      collectLocked(deps, AbortSignal.any([bounded.signal, hold.signal]), hold),
    )
    if (!lock.acquired) {
      return finish({ outcome: 'skipped', hashtags: [], reason: 'another process holds the collector lock and is collecting' })
    }
    // Once the commit wait has passed, every request anywhere sees what the run wrote.
    await commitWait()
    return finish(lock.result)
  } finally {
    clearTimeout(timeout)
    signal.removeEventListener('abort', stopping)
  }
}

async function collectLocked(
  deps: CollectorDeps,
  signal: AbortSignal,
  hold: LockHold,
): Promise<Omit<RunSummary, 'durationMs' | 'source'>> {
  const { config, logger, source } = deps
  const startedAt = deps.clock()
  logger.info(
    { event: { action: 'collection-started' }, twitter: { source: source.name, hashtags: config.hashtags.length } },
    `collecting ${config.hashtags.length} hashtags from ${source.name}`,
  )
  // A run killed before it recorded its outcomes left them in_progress: this one holds the lock, so none is running.
  if ((await settleAbandonedRuns(deps.db)) > 0) deps.onCommit?.()
  const tracked = new Set(config.hashtags)
  // Every tracked hashtag gets its series at 0, so dashboards show the ones without tweets too.
  for (const tag of config.hashtags) deps.metrics.tweetsStored.inc({ hashtag: tag }, 0)
  const state: RunState = { fetch: { blockedUntilMs: 0 }, storedUsers: new Map() }
  const summaries: HashtagRun[] = []
  let stopped: Stop | undefined
  for (const tag of config.hashtags) {
    if (stopped !== undefined) {
      summaries.push(emptyHashtagRun(tag, stopped.outcome === 'interrupted' ? 'interrupted' : 'skipped', stopped.message))
      continue
    }
    const result = await collectHashtag(deps, tag, tracked, state, signal, hold)
    summaries.push(result.summary)
    stopped = result.stop?.stopsRun ? result.stop : undefined
  }
  const good = summaries.filter((s) => advancesSinceId(s.outcome)).length
  const outcome: RunOutcome = good === summaries.length ? 'success' : stopped !== undefined || good === 0 ? 'failed' : 'partial'
  // Its own outcome: the run's is the search's. A stop that ends the run ends the refresh too.
  const metricsRefresh =
    stopped === undefined || config.metricsRefresh.requests === 0
      ? await refreshMetrics(deps, signal, hold, startedAt)
      : emptyRefreshRun('skipped', stopped.message)
  return { outcome, hashtags: summaries, metricsRefresh, ...(stopped === undefined ? {} : { reason: stopped.message }) }
}

/** What a run carries from hashtag to hashtag. */
interface RunState {
  fetch: FetchState
  storedUsers: StoredUsers
}

async function collectHashtag(
  deps: CollectorDeps,
  tag: string,
  tracked: ReadonlySet<string>,
  state: RunState,
  signal: AbortSignal,
  hold: LockHold,
): Promise<{ summary: HashtagRun; stop?: Stop }> {
  const { db, config, logger, metrics } = deps
  const started = performance.now()
  const summary = emptyHashtagRun(tag, 'ok')
  const fetchDeps = { ...deps, dropSinceId: (hashtag: string) => dropSinceId(db, hashtag) }
  let newestId: string | null = null
  let stop: Stop | undefined
  try {
    let request: SearchRequest = { tag, sinceId: usableSinceId(await sinceIdOf(db, tag), deps.clock()), nextToken: null }
    for (;;) {
      if (signal.aborted) throw stopOf(signal)
      if (summary.pages === config.maxPages) {
        summary.outcome = 'truncated'
        summary.reason = `stopped after ${config.maxPages} pages (MAX_PAGES_PER_HASHTAG); older tweets are skipped`
        break
      }
      const response = await fetchPage(fetchDeps, request, state.fetch, signal)
      const page = parseOrStop(response, tag, tracked, summary.pages + 1)
      summary.pages++
      newestId ??= page.newestId
      summary.partialErrors += page.partialErrorCount
      summary.tweets += page.resultCount
      if (signal.aborted) throw stopOf(signal)
      const stored = await storePage(db, tag, page, summary.tweets, {
        storedUsers: state.storedUsers,
        fence: hold.fence,
        clock: deps.clock,
      })
      deps.onCommit?.()
      const skipped = [...page.skipped, ...stored.refused]
      logPageProblems(deps, tag, summary.pages, page, skipped)
      summary.skippedTweets += skipped.length
      summary.newTweets += stored.newTweets
      summary.knownTweets += stored.knownTweets
      summary.users += stored.users
      metrics.tweetsStored.inc({ hashtag: tag }, stored.newRows)
      const progress = {
        tag,
        page: summary.pages,
        tweets: page.resultCount,
        newTweets: stored.newTweets,
        knownTweets: stored.knownTweets,
        users: stored.users,
      }
      logger.info(
        {
          event: { action: 'collector-page' },
          twitter: {
            hashtag: tag,
            page: progress.page,
            tweets: progress.tweets,
            tweets_new: progress.newTweets,
            tweets_known: progress.knownTweets,
            tweets_skipped: skipped.length,
            users: progress.users,
          },
        },
        `#${tag} page ${progress.page}: ${progress.tweets} tweets (${progress.newTweets} new, ${progress.knownTweets} known, ${skipped.length} skipped), ${progress.users} users`,
      )
      deps.onPage?.(progress)
      if (page.nextToken === null) break
      request = { ...request, nextToken: page.nextToken }
    }
  } catch (error) {
    stop = toStop(error)
    summary.outcome = stop.outcome
    summary.reason = stop.message
    logger[stop.outcome === 'interrupted' ? 'info' : 'warn'](
      {
        event: { action: 'collector-hashtag-stopped' },
        twitter: { hashtag: tag, outcome: stop.outcome, page: summary.pages + 1 },
        ...(error instanceof Stop || error instanceof SourceError ? {} : { err: error }),
      },
      `#${tag}: ${stop.outcome}: ${stop.message}`,
    )
  }
  summary.durationMs = Math.round(performance.now() - started)
  const advance = advancesSinceId(summary.outcome)
  await finishHashtag(db, tag, summary.outcome, summary.tweets, advance ? newestId : null).then(
    deps.onCommit,
    (error: unknown) => {
      logger.warn(
        { event: { action: 'collector-state-not-recorded' }, twitter: { hashtag: tag } },
        `#${tag}: could not record the collection state (${describeError(error)})`,
      )
    },
  )
  return stop === undefined ? { summary } : { summary, stop }
}

/** Partial errors and skipped tweets of a page, named (the first few) and counted, in one bounded line. */
function logPageProblems(deps: CollectorDeps, tag: string, pageNumber: number, page: ParsedPage, skipped: SkippedTweet[]) {
  for (const { reason } of skipped) deps.metrics.tweetsSkipped.inc({ reason })
  if (page.partialErrorCount > 0) {
    deps.logger.warn(
      {
        event: { action: 'collector-partial-errors' },
        twitter: { hashtag: tag, page: pageNumber, errors_count: page.partialErrorCount, errors: page.partialErrors },
      },
      `#${tag} page ${pageNumber}: ${page.partialErrorCount} partial errors`,
    )
  }
  if (skipped.length > 0) {
    const reasons: Record<string, number> = {}
    for (const { reason } of skipped) reasons[reason] = (reasons[reason] ?? 0) + 1
    deps.logger.warn(
      {
        event: { action: 'collector-tweets-skipped' },
        twitter: {
          hashtag: tag,
          page: pageNumber,
          skipped_count: skipped.length,
          skipped: skipped.slice(0, LOGGED_ITEMS),
          reasons,
        },
      },
      `#${tag} page ${pageNumber}: ${skipped.length} tweets skipped (${Object.entries(reasons)
        .map(([reason, count]) => `${count} ${reason}`)
        .join(', ')})`,
    )
  }
}

function parseOrStop(response: SearchResponse, tag: string, tracked: ReadonlySet<string>, pageNumber: number) {
  try {
    return parsePage(response.body, tag, tracked)
  } catch (error) {
    if (error instanceof MalformedPageError)
      throw new Stop('malformed', `page ${pageNumber} is not a recent-search response (${error.message})`)
    throw error
  }
}

function toStop(error: unknown): Stop {
  if (error instanceof Stop) return error
  if (error instanceof SourceError) {
    switch (error.failure.kind) {
      case 'unauthorized':
        return new Stop('unauthorized', error.message, true)
      case 'usage_capped':
        return new Stop('usage_capped', `${error.message}: the monthly usage cap is reached; waiting does not help`, true)
      case 'rate_limited':
        return new Stop('rate_limited', error.message)
      case 'malformed':
        return new Stop('malformed', error.message)
      case 'misconfigured':
        return new Stop('failed', error.message, true)
      default:
        return new Stop('failed', error.message)
    }
  }
  // The database is away or the lock is gone: no other hashtag can be stored either.
  if (error instanceof DatabaseUnavailableError || error instanceof LockLostError) return new Stop('failed', error.message, true)
  return new Stop('failed', describeError(error))
}
