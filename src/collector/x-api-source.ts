import { readFileSync } from 'node:fs'
import https from 'node:https'
import tls from 'node:tls'
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  type ITwitterApiClientPlugin,
  TwitterApi,
} from 'twitter-api-v2'
import type { CollectorConfig } from '../config'
import {
  type RateLimit,
  type SearchRequest,
  type SearchResponse,
  type SearchSource,
  SourceError,
  type SourceFailure,
} from './source'

/**
 * Recent search through the twitter-api-v2 client, app-only bearer token. The client always speaks
 * HTTPS to api.x.com; TWITTER_API_BASE_URL and TWITTER_API_CA_FILE point it elsewhere (a mirror, a
 * proxy, a local test server) through its own extension points: an https.Agent and a plugin.
 */

const TWEET_FIELDS = ['created_at', 'lang', 'author_id', 'entities'] as const
const USER_FIELDS = ['username', 'name', 'public_metrics'] as const

/** Snowflake ids carry their creation time: milliseconds since this epoch, shifted left by 22 bits. */
const SNOWFLAKE_EPOCH_MS = 1288834974657n
/** The API refuses a since_id older than its seven-day window; keep an hour of margin. */
const SINCE_ID_MAX_AGE_MS = 7 * 24 * 3_600_000 - 3_600_000

export const snowflakeTime = (id: string): number => Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH_MS)

/** A since_id the API still accepts, or null when it has aged out of the window. */
export const usableSinceId = (sinceId: string | null, now = Date.now()): string | null =>
  sinceId !== null && now - snowflakeTime(sinceId) < SINCE_ID_MAX_AGE_MS ? sinceId : null

/** Retargets every request at `base` (scheme, host, port and path prefix) and bounds it in time. */
function retarget(base: URL, timeoutMs: number): ITwitterApiClientPlugin {
  const prefix = base.pathname.replace(/\/$/, '')
  return {
    onBeforeRequest({ computedParams, requestOptions }) {
      // The `url` handed to plugins is a copy; computedParams.url is the one the request uses.
      const url = computedParams.url
      url.protocol = base.protocol
      url.hostname = base.hostname
      url.port = base.port
      if (prefix !== '' && !url.pathname.startsWith(`${prefix}/`)) url.pathname = prefix + url.pathname
      requestOptions.timeout = timeoutMs
    },
  }
}

const problemTitle = (data: unknown): string => {
  const body = (data ?? {}) as { title?: unknown; detail?: unknown; reason?: unknown; type?: unknown }
  return [body.title, body.reason ?? body.detail].filter((part) => typeof part === 'string').join(': ')
}

/** Classifies what the client threw. Problem `type` URLs vary between api.twitter.com and api.x.com: titles are matched. */
export function classify(error: unknown): SourceError {
  if (error instanceof ApiResponseError) {
    const status = error.code
    const rateLimit = (error.rateLimit as RateLimit | undefined) ?? null
    const title = problemTitle(error.data)
    const failure: SourceFailure =
      status === 429
        ? /usage ?cap/i.test(title) || (rateLimit !== null && rateLimit.remaining > 0)
          ? { kind: 'usage_capped' }
          : { kind: 'rate_limited', resetAt: rateLimit?.reset ?? null }
        : status === 401 || status === 403
          ? { kind: 'unauthorized' }
          : status === 400
            ? { kind: 'bad_request', sinceId: JSON.stringify(error.data ?? '').includes('since_id') }
            : status >= 500 || status === 408
              ? { kind: 'transient' }
              : { kind: 'bad_request', sinceId: false }
    const explanation =
      status === 401
        ? 'the X API rejected the bearer token (401 Unauthorized): check TWITTER_BEARER_TOKEN'
        : status === 403
          ? `the X API refused access (403 ${title || 'Forbidden'}): the app must belong to a Project whose access level includes recent search`
          : `the X API answered ${status}${title === '' ? '' : ` (${title})`}`
    return new SourceError(explanation, failure, status, rateLimit)
  }
  if (error instanceof ApiPartialResponseError) {
    const parse = error.responseError instanceof SyntaxError
    return new SourceError(
      parse ? 'the X API sent a body that is not JSON' : 'the X API response was cut off',
      parse ? { kind: 'malformed' } : { kind: 'transient' },
      error.response?.statusCode ?? null,
    )
  }
  if (error instanceof ApiRequestError) {
    // requestError is absent when the client gave up on its own (a timeout).
    const cause = (error.requestError as Error | undefined)?.message ?? error.message
    return new SourceError(`the X API could not be reached: ${cause}`, { kind: 'transient' }, null)
  }
  return new SourceError(`the X API request failed: ${(error as Error).message}`, { kind: 'transient' }, null)
}

export function createXApiSource(config: CollectorConfig): SearchSource {
  const { bearerToken, baseUrl, caFile, timeoutMs } = config.twitter
  if (bearerToken === undefined) throw new Error('the X API source needs TWITTER_BEARER_TOKEN')
  const agent = new https.Agent({
    keepAlive: true,
    // `ca` replaces the default trust store: keep the public roots and add the extra one.
    ...(caFile === undefined ? {} : { ca: [...tls.rootCertificates, readFileSync(caFile, 'utf8')] }),
  })
  const client = new TwitterApi(bearerToken, { httpAgent: agent, plugins: [retarget(baseUrl, timeoutMs)] }).readOnly
  const suffix = config.querySuffix === '' ? '' : ` ${config.querySuffix}`

  return {
    name: 'twitter',
    async search({ tag, sinceId, nextToken }: SearchRequest): Promise<SearchResponse> {
      try {
        const paginator = await client.v2.search(`#${tag}${suffix}`, {
          max_results: 100,
          expansions: ['author_id'],
          'tweet.fields': [...TWEET_FIELDS],
          'user.fields': [...USER_FIELDS],
          ...(usableSinceId(sinceId) === null ? {} : { since_id: sinceId! }),
          ...(nextToken === null ? {} : { next_token: nextToken }),
        })
        const rateLimit = paginator.rateLimit as Partial<RateLimit>
        return {
          body: paginator.data,
          rateLimit: typeof rateLimit.remaining === 'number' ? (rateLimit as RateLimit) : null,
        }
      } catch (error) {
        throw classify(error)
      }
    },
  }
}
