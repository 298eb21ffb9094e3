import type { CollectorConfig } from '../config'
import { type Database, DatabaseUnavailableError } from '../db/database'
import { withNamedLock } from '../db/lock'
import type { Logger } from '../observability/logger'
import type { CollectorMetrics } from '../observability/metrics'
import { FRESHNESS_MS } from '../shared/response-cache'
import { MalformedPageError, parsePage } from './page'
import { type SearchRequest, type SearchResponse, type SearchSource, SourceError } from './source'
import { dropSinceId, finishHashtag, registerHashtags, type StoredUsers, sinceIdOf, storePage } from './store'

/**
 * One collection run: every tracked hashtag, page by page, from newest to older, starting after the
 * hashtag's stored since_id. One process collects at a time (a MySQL named lock); faults of the
 * source are handled per kind, and none leaves a half-written page.
 */

/** How a hashtag's collection ended. `ok` and `truncated` move its since_id forward; the others leave it for the next run. */
export type HashtagOutcome =
  | 'ok' // every page fetched
  | 'truncated' // stopped at MAX_PAGES_PER_HASHTAG; older tweets beyond it are skipped
  | 'rate_limited' // the rate-limit reset was further away than COLLECT_MAX_WAIT
  | 'usage_capped' // monthly cap reached
  | 'unauthorized' // 401/403
  | 'malformed' // a page was not a recent-search response
  | 'failed' // retries exhausted, a request the API refused, or a database error
  | 'interrupted' // the service is shutting down
  | 'skipped' // not attempted: the run stopped before it

export interface HashtagSummary {
  tag: string
  outcome: HashtagOutcome
  pages: number
  /** Tweets the API returned. */
  tweets: number
  newTweets: number
  knownTweets: number
  users: number
  partialErrors: number
  durationMs: number
  reason?: string
}

export type RunOutcome = 'success' | 'partial' | 'failed' | 'skipped'

export interface RunSummary {
  outcome: RunOutcome
  source: SearchSource['name']
  hashtags: HashtagSummary[]
  durationMs: number
  reason?: string
}

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
  /** Called after each commit: answers cached in this process are no longer current. */
  onCommit?: () => void
}

const BACKOFF_BASE_MS = 500
const BACKOFF_CAP_MS = 10_000

/** Sleeps, or resolves early when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal) =>
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

/** What a run carries from hashtag to hashtag. */
interface RunState {
  /** When the rate-limit window is known to be spent until (ms since the epoch). */
  blockedUntilMs: number
  storedUsers: StoredUsers
}

/** A hashtag's collection stopped early, for a reason its summary records. */
class Stop extends Error {
  constructor(
    readonly outcome: HashtagOutcome,
    message: string,
    /** True when no other hashtag can succeed either (bad token, monthly cap, database down). */
    readonly stopsRun = false,
  ) {
    super(message)
  }
}

export async function collect(deps: CollectorDeps, signal: AbortSignal = new AbortController().signal): Promise<RunSummary> {
  const { db, source, config, logger, metrics } = deps
  const started = performance.now()
  const finish = (summary: Omit<RunSummary, 'durationMs' | 'source'>): RunSummary => {
    const result = { ...summary, source: source.name, durationMs: Math.round(performance.now() - started) }
    metrics.runs.inc({ outcome: result.outcome })
    if (result.outcome !== 'skipped') metrics.runDuration.observe(result.durationMs / 1000)
    if (result.outcome === 'success') metrics.lastSuccess.set(Date.now() / 1000)
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

  await registerHashtags(db, config.hashtags)
  deps.onCommit?.()
  const lock = await withNamedLock(db.config, `twitter_hashtags.collector.${db.config.database}`, () =>
    collectLocked(deps, signal),
  )
  if (!lock.acquired) {
    return finish({ outcome: 'skipped', hashtags: [], reason: 'another process holds the collector lock and is collecting' })
  }
  // Commit wait: replicas trust a version read for FRESHNESS_MS after it started, so once this has
  // passed, every request anywhere sees what the run wrote.
  await Bun.sleep(FRESHNESS_MS)
  return finish(lock.result)
}

async function collectLocked(deps: CollectorDeps, signal: AbortSignal): Promise<Omit<RunSummary, 'durationMs' | 'source'>> {
  const { config, logger, source } = deps
  logger.info(
    { event: { action: 'collection-started' }, twitter: { source: source.name, hashtags: config.hashtags.length } },
    `collecting ${config.hashtags.length} hashtags from ${source.name}`,
  )
  const tracked = new Set(config.hashtags)
  // Every tracked hashtag gets its series at 0, so dashboards show the ones without tweets too.
  for (const tag of config.hashtags) deps.metrics.tweetsStored.inc({ hashtag: tag }, 0)
  const state = { blockedUntilMs: 0, storedUsers: new Map<string, string>() }
  const summaries: HashtagSummary[] = []
  let stopped: Stop | undefined
  for (const tag of config.hashtags) {
    if (stopped !== undefined || signal.aborted) {
      summaries.push(emptySummary(tag, signal.aborted ? 'interrupted' : 'skipped', stopped?.message ?? 'shutting down'))
      continue
    }
    const summary = await collectHashtag(deps, tag, tracked, state, signal)
    summaries.push(summary.summary)
    stopped = summary.stop?.stopsRun ? summary.stop : undefined
  }
  const good = summaries.filter((s) => s.outcome === 'ok' || s.outcome === 'truncated').length
  const outcome: RunOutcome = good === summaries.length ? 'success' : stopped !== undefined || good === 0 ? 'failed' : 'partial'
  return { outcome, hashtags: summaries, ...(stopped === undefined ? {} : { reason: stopped.message }) }
}

const emptySummary = (tag: string, outcome: HashtagOutcome, reason?: string): HashtagSummary => ({
  tag,
  outcome,
  pages: 0,
  tweets: 0,
  newTweets: 0,
  knownTweets: 0,
  users: 0,
  partialErrors: 0,
  durationMs: 0,
  ...(reason === undefined ? {} : { reason }),
})

async function collectHashtag(
  deps: CollectorDeps,
  tag: string,
  tracked: ReadonlySet<string>,
  state: RunState,
  signal: AbortSignal,
): Promise<{ summary: HashtagSummary; stop?: Stop }> {
  const { db, config, logger, metrics } = deps
  const started = performance.now()
  const summary = emptySummary(tag, 'ok')
  let newestId: string | null = null
  let stop: Stop | undefined
  try {
    let request: SearchRequest = { tag, sinceId: await sinceIdOf(db, tag), nextToken: null }
    for (;;) {
      if (signal.aborted) throw new Stop('interrupted', 'shutting down')
      if (summary.pages === config.maxPages) {
        summary.outcome = 'truncated'
        summary.reason = `stopped after ${config.maxPages} pages (MAX_PAGES_PER_HASHTAG); older tweets are skipped`
        break
      }
      const response = await fetchPage(deps, request, state, signal)
      const page = parseOrStop(response, tag, tracked, summary.pages + 1)
      summary.pages++
      newestId ??= page.newestId
      if (page.partialErrors.length > 0 || page.withoutAuthor.length > 0) {
        summary.partialErrors += page.partialErrors.length
        logger.warn(
          {
            event: { action: 'collector-partial-errors' },
            twitter: { hashtag: tag, page: summary.pages, errors: page.partialErrors, tweets_without_author: page.withoutAuthor },
          },
          `#${tag} page ${summary.pages}: ${page.partialErrors.length} partial errors; ${page.withoutAuthor.length} tweets left out for want of their author`,
        )
      }
      summary.tweets += page.resultCount
      const counts = await storePage(db, tag, page, summary.tweets, state.storedUsers)
      deps.onCommit?.()
      summary.newTweets += counts.newTweets
      summary.knownTweets += counts.knownTweets
      summary.users += counts.users
      metrics.tweetsStored.inc({ hashtag: tag }, counts.newRows)
      const progress = {
        tag,
        page: summary.pages,
        tweets: page.resultCount,
        newTweets: counts.newTweets,
        knownTweets: counts.knownTweets,
        users: counts.users,
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
            users: progress.users,
          },
        },
        `#${tag} page ${progress.page}: ${progress.tweets} tweets (${progress.newTweets} new, ${progress.knownTweets} known), ${progress.users} users`,
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
        err: error,
      },
      `#${tag}: ${stop.outcome}: ${stop.message}`,
    )
  }
  summary.durationMs = Math.round(performance.now() - started)
  const advance = summary.outcome === 'ok' || summary.outcome === 'truncated'
  await finishHashtag(db, tag, summary.outcome, summary.tweets, advance ? newestId : null).then(
    deps.onCommit,
    (error: unknown) => {
      logger.warn({ err: error, twitter: { hashtag: tag } }, `#${tag}: could not record the collection state`)
    },
  )
  return stop === undefined ? { summary } : { summary, stop }
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
      default:
        return new Stop('failed', error.message)
    }
  }
  if (error instanceof DatabaseUnavailableError) return new Stop('failed', error.message, true)
  return new Stop('failed', (error as Error).message ?? String(error))
}

/**
 * One page from the source, with the fault policy: waits for a rate-limit reset when it is within
 * COLLECT_MAX_WAIT, retries transient failures with exponential backoff and full jitter, drops a
 * since_id the API refuses, and throws the rest.
 */
async function fetchPage(deps: CollectorDeps, initial: SearchRequest, state: RunState, signal: AbortSignal) {
  const { source, config, logger, metrics } = deps
  const random = deps.random ?? Math.random
  // The sample is not the X API: its replays are not API requests.
  const countRequest = (status: string) => source.name === 'twitter' && metrics.apiRequests.inc({ status })
  let request = initial
  for (let attempt = 0; ; ) {
    const waitMs = state.blockedUntilMs - Date.now()
    if (waitMs > 0) {
      if (waitMs > config.maxWaitMs) {
        throw new SourceError(
          `rate limit exhausted until ${new Date(state.blockedUntilMs).toISOString()}, beyond COLLECT_MAX_WAIT (${config.maxWaitMs} ms)`,
          { kind: 'rate_limited', resetAt: state.blockedUntilMs / 1000 },
          429,
        )
      }
      logger.info(
        { event: { action: 'collector-rate-limit-wait' }, twitter: { hashtag: request.tag, wait_ms: waitMs } },
        `#${request.tag}: rate limit exhausted; waiting ${Math.ceil(waitMs / 1000)} s for the reset`,
      )
      await sleep(waitMs, signal)
      if (signal.aborted) throw new Stop('interrupted', 'shutting down')
    }
    try {
      const response = await source.search(request)
      countRequest('200')
      if (response.rateLimit !== null) {
        metrics.rateLimitRemaining.set(response.rateLimit.remaining)
        metrics.rateLimitLimit.set(response.rateLimit.limit)
        // The window is spent: the next request would get a 429, so wait for the reset before it.
        if (response.rateLimit.remaining === 0) state.blockedUntilMs = response.rateLimit.reset * 1000 + 1000
      }
      return response
    } catch (error) {
      if (!(error instanceof SourceError)) throw error
      countRequest(error.status === null ? 'error' : String(error.status))
      if (error.rateLimit !== null) metrics.rateLimitRemaining.set(error.rateLimit.remaining)
      const failure = error.failure
      if (failure.kind === 'rate_limited') {
        state.blockedUntilMs = (failure.resetAt ?? Date.now() / 1000 + 60) * 1000 + 1000
        continue
      }
      if (failure.kind === 'bad_request' && failure.sinceId && request.sinceId !== null) {
        logger.warn(
          { twitter: { hashtag: request.tag } },
          `#${request.tag}: the API refused the stored since_id; collecting without it`,
        )
        await dropSinceId(deps.db, request.tag)
        request = { ...request, sinceId: null }
        continue
      }
      if (failure.kind === 'transient' && attempt < config.retries) {
        const delay = Math.round(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt))
        attempt++
        logger.warn(
          { event: { action: 'collector-retry' }, twitter: { hashtag: request.tag, attempt, delay_ms: delay } },
          `#${request.tag}: ${error.message}; retry ${attempt} of ${config.retries} in ${delay} ms`,
        )
        await sleep(delay, signal)
        if (signal.aborted) throw new Stop('interrupted', 'shutting down')
        continue
      }
      throw error
    }
  }
}
