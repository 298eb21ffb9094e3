import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import { ApiPartialResponseError, ApiResponseError, type ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2'
import type { CollectorConfig } from '../config'
import { createLogValues } from '../observability/log-values'
import {
  LOOKUP_MAX_IDS,
  type RateLimit,
  type SearchRequest,
  type SearchResponse,
  type SearchSource,
  SourceError,
  type SourceFailure,
} from './source'

/**
 * Recent search and post lookup through the twitter-api-v2 client, app-only bearer token: transport
 * only. Both go through one request wrapper (`send`), so they share every limit below. The client
 * always speaks HTTPS to api.x.com; TWITTER_API_BASE_URL and TWITTER_API_CA_FILE point it elsewhere
 * (a mirror, a proxy, a local test server) through its own extension points: an https.Agent and a
 * plugin.
 *
 * The client's own `timeout` only fires on an idle socket, so a server that drips its body byte by
 * byte would hold a request for ever, and it buffers whatever body arrives. Each request here has
 * a total deadline (TWITTER_API_TIMEOUT, connecting to the last byte) and a byte cap
 * (TWITTER_API_MAX_RESPONSE_MB), both enforced through the request's AbortSignal and the client's
 * per-request event handler, and the run's signal aborts it too.
 */

const TWEET_FIELDS = ['created_at', 'lang', 'author_id', 'entities', 'referenced_tweets', 'public_metrics'] as const
const USER_FIELDS = ['username', 'name', 'public_metrics'] as const

/** Longest piece of an upstream text (a problem title, a TLS error) put into our messages. */
const MAX_QUOTED = 120

const bounded = (text: string) => (text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text)

/** How long a cut request may take to unwind inside the client before it is given up. */
const ABANDON_AFTER_MS = 500

/** What one request went through, as the client's event handler and our limits saw it. */
interface Exchange {
  readonly controller: AbortController
  status: number | null
  bytes: number
  /** Why we cut the request short, when we did. */
  cut?: 'deadline' | 'too_large' | 'aborted' | 'encoded'
  /** The transport's own error (TLS, DNS, connection refused, reset). */
  transportError?: { code?: string; message?: string }
  /** The whole body arrived: as many bytes as its Content-Length said, and the response ended. */
  complete: boolean
  /** The rate-limit headers of an answer the client accepted, as it read them. */
  rateLimit?: unknown
}

/** What a request is for, in the words of our messages. */
interface Endpoint {
  /** What the access level must include, e.g. 'recent search'. */
  feature: string
  /** What a good answer is, e.g. 'a search result'. */
  answer: string
}

const SEARCH: Endpoint = { feature: 'recent search', answer: 'a search result' }
const LOOKUP: Endpoint = { feature: 'post lookup', answer: 'a post lookup result' }

interface Limits {
  timeoutMs: number
  maxBytes: number
  /** Masks any form of the bearer token in upstream text we quote. */
  scrub: (text: string) => string
}

/** Retargets every request at `base` (scheme, host, port and path prefix) and wires the exchange's limits in. */
function transportPlugin(base: URL, current: () => Exchange, maxBytes: number): ITwitterApiClientPlugin {
  const prefix = base.pathname.replace(/\/$/, '')
  return {
    onBeforeRequestConfig({ params }) {
      const exchange = current()
      params.requestEventDebugHandler = (event: string, data?: unknown) => {
        if (event === 'request-error') exchange.transportError = (data as { requestError?: Error }).requestError ?? {}
        if (event === 'response') watchResponse((data as { res: IncomingMessage }).res, exchange, maxBytes)
      }
    },
    onBeforeRequest({ computedParams, requestOptions }) {
      // The `url` handed to plugins is a copy; computedParams.url is the one the request uses.
      const url = computedParams.url
      url.protocol = base.protocol
      url.hostname = base.hostname
      url.port = base.port
      if (prefix !== '' && !url.pathname.startsWith(`${prefix}/`))
        url.pathname = prefix + url.pathname
        // The options are spread into https.request, which aborts the request and its body on this signal.
      ;(requestOptions as { signal?: AbortSignal }).signal = current().controller.signal
    },
    onAfterRequest({ response }) {
      // The lookup method hands on the body only: the answer's rate limit is read here, for both.
      current().rateLimit = response.rateLimit
    },
  }
}

function watchResponse(res: IncomingMessage, exchange: Exchange, maxBytes: number) {
  exchange.status = res.statusCode ?? null
  const cut = (why: NonNullable<Exchange['cut']>) => {
    exchange.cut ??= why
    exchange.controller.abort()
  }
  // Compression is off (see createXApiSource): an encoded body is one we did not ask for, and
  // decoding it would multiply what the byte cap bounds.
  const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase()
  if (encoding !== 'identity') return cut('encoded')
  if (Number(res.headers['content-length']) > maxBytes) return cut('too_large')
  res.on('data', (chunk: Uint8Array) => {
    exchange.bytes += chunk.byteLength
    if (exchange.bytes > maxBytes) cut('too_large')
  })
  const declared = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length'])
  res.on('end', () => {
    exchange.complete = res.complete !== false && (declared === null || exchange.bytes === declared)
  })
}

/** The title (and reason) of an X API problem body, short, with any echo of the token masked. */
const problemTitle = (data: unknown, scrub: (text: string) => string): string => {
  if (typeof data !== 'object' || data === null) return ''
  const body = data as { title?: unknown; detail?: unknown; reason?: unknown }
  const parts = [body.title, body.reason ?? body.detail].filter((part): part is string => typeof part === 'string')
  // Masked before it is cut: a token cut in half would leave a part that masking cannot recognise.
  return bounded(scrub(parts.join(': ')))
}

const RATE_LIMIT_FIELDS = ['limit', 'remaining', 'reset'] as const

/** The rate-limit headers when all three are finite numbers; anything else counts as absent. */
const rateLimitOf = (value: unknown): RateLimit | null => {
  if (typeof value !== 'object' || value === null) return null
  const fields = value as Record<(typeof RATE_LIMIT_FIELDS)[number], unknown>
  return RATE_LIMIT_FIELDS.every((field) => typeof fields[field] === 'number' && Number.isFinite(fields[field]))
    ? { limit: fields.limit as number, remaining: fields.remaining as number, reset: fields.reset as number }
    : null
}

/** A response the client accepted as a success (any status below 400) but that is not one. */
function unexpectedStatus(status: number | null, endpoint: Endpoint): SourceError | null {
  if (status === null || (status >= 200 && status < 300)) return null
  if (status >= 300 && status < 400)
    return new SourceError(
      `the X API answered ${status}, a redirect: not followed (the bearer token would go with it); check TWITTER_API_BASE_URL`,
      { kind: 'misconfigured' },
      status,
    )
  return new SourceError(`the X API answered ${status}, not ${endpoint.answer}`, { kind: 'transient' }, status)
}

/** TLS failures of the handshake, by the codes Node and Bun give them. */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)/

function transportFailure(exchange: Exchange, { timeoutMs, maxBytes, scrub }: Limits): SourceError {
  const status = exchange.status
  switch (exchange.cut) {
    case 'deadline':
      return new SourceError(
        `the X API did not send its whole answer within TWITTER_API_TIMEOUT (${timeoutMs} ms)`,
        { kind: 'transient' },
        status,
      )
    case 'too_large':
      return new SourceError(
        `the X API answer exceeded TWITTER_API_MAX_RESPONSE_MB (${maxBytes / 1024 / 1024} MiB); the page was not read`,
        { kind: 'too_large' },
        status,
      )
    case 'encoded':
      return new SourceError('the X API sent a compressed body that was not asked for', { kind: 'malformed' }, status)
    case 'aborted':
      return new SourceError('the request was stopped: the collection is ending', { kind: 'aborted' }, status)
  }
  const code = exchange.transportError?.code ?? ''
  if (TLS_CODE.test(code)) {
    return new SourceError(
      `the X API's TLS certificate was refused (${bounded(code)}): check TWITTER_API_BASE_URL, or TWITTER_API_CA_FILE for a private CA`,
      { kind: 'misconfigured' },
      null,
    )
  }
  const detail = code || bounded(scrub(exchange.transportError?.message ?? '')) || 'the connection closed'
  return new SourceError(
    status === null ? `the X API could not be reached (${detail})` : `the X API answer was cut off (${detail})`,
    { kind: 'transient' },
    status,
  )
}

/** Classifies what the client threw. Problem `type` URLs vary between api.twitter.com and api.x.com: titles are matched. */
function classify(error: unknown, exchange: Exchange, limits: Limits, endpoint: Endpoint): SourceError {
  if (exchange.cut !== undefined) return transportFailure(exchange, limits)
  if (error instanceof ApiResponseError) {
    const status = error.code
    const rateLimit = rateLimitOf(error.rateLimit)
    const title = problemTitle(error.data, limits.scrub)
    const failure: SourceFailure =
      status === 429
        ? /usage ?cap/i.test(title) || (rateLimit !== null && rateLimit.remaining > 0)
          ? { kind: 'usage_capped' }
          : { kind: 'rate_limited', resetAt: rateLimit?.reset ?? null }
        : status === 401 || status === 403
          ? { kind: 'unauthorized' }
          : status === 400
            ? { kind: 'bad_request', sinceId: /since_id/.test(JSON.stringify(error.data ?? '').slice(0, 10_000)) }
            : status >= 500 || status === 408
              ? { kind: 'transient' }
              : { kind: 'bad_request', sinceId: false }
    const explanation =
      status === 401
        ? 'the X API rejected the bearer token (401 Unauthorized): check TWITTER_BEARER_TOKEN'
        : status === 403
          ? `the X API refused access (403 ${title || 'Forbidden'}): the app must belong to a Project whose access level includes ${endpoint.feature}`
          : `the X API answered ${status}${title === '' ? '' : ` (${title})`}`
    return new SourceError(explanation, failure, status, rateLimit)
  }
  // A body cut short is not JSON either, but asking again may well get all of it.
  if (error instanceof ApiPartialResponseError && error.responseError instanceof SyntaxError && exchange.complete) {
    return (
      unexpectedStatus(exchange.status, endpoint) ??
      new SourceError('the X API sent a body that is not JSON', { kind: 'malformed' }, exchange.status)
    )
  }
  return transportFailure(exchange, limits)
}

export function createXApiSource(config: CollectorConfig): SearchSource {
  const { bearerToken, baseUrl, caFile, timeoutMs, maxResponseBytes } = config.twitter
  if (bearerToken === undefined) throw new Error('the X API source needs TWITTER_BEARER_TOKEN')
  const agent = new https.Agent({
    // No keep-alive: the client's per-request event handler (our deadline and byte cap need it) adds
    // listeners to the request's socket and never removes them, so a socket reused for every request
    // of a long-running service would gather them without bound. A TLS handshake per page is cheap
    // next to the API's rate limits.
    keepAlive: false,
    // `ca` replaces the default trust store: keep the public roots and add the extra one.
    ...(caFile === undefined ? {} : { ca: [...tls.rootCertificates, readFileSync(caFile, 'utf8')] }),
  })
  // The plugin's hooks run for the request in flight; requests go one at a time (see `queue`).
  let exchange: Exchange = { controller: new AbortController(), status: null, bytes: 0, complete: false }
  const client = new TwitterApi(bearerToken, {
    httpAgent: agent,
    plugins: [transportPlugin(baseUrl, () => exchange, maxResponseBytes)],
    // Identity: the byte cap then bounds what is held, not what a compressed body would expand to.
    compression: 'identity',
  }).readOnly
  const suffix = config.querySuffix === '' ? '' : ` ${config.querySuffix}`
  const limits: Limits = { timeoutMs, maxBytes: maxResponseBytes, scrub: createLogValues([bearerToken]).text }
  let queue: Promise<unknown> = Promise.resolve()

  /** One request made by `call`, bounded by the deadline, the byte cap and `signal`; its body unchecked. */
  async function sendOnce(endpoint: Endpoint, call: () => Promise<unknown>, signal?: AbortSignal): Promise<SearchResponse> {
    const current: Exchange = { controller: new AbortController(), status: null, bytes: 0, complete: false }
    exchange = current
    const cut = (why: 'deadline' | 'aborted') => {
      current.cut ??= why
      current.controller.abort()
    }
    const deadline = setTimeout(() => cut('deadline'), timeoutMs)
    const onAbort = () => cut('aborted')
    if (signal?.aborted) onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    // Once cut, the request is given up a moment later even if the client never settles.
    let abandon: ReturnType<typeof setTimeout> | undefined
    const abandoned = new Promise<never>((_, reject) => {
      current.controller.signal.addEventListener('abort', () => {
        abandon = setTimeout(() => reject(new Error('abandoned')), ABANDON_AFTER_MS)
      })
    })
    try {
      const calling = call()
      calling.catch(() => {})
      const body = await Promise.race([calling, abandoned])
      const unexpected = unexpectedStatus(current.status, endpoint)
      if (unexpected !== null) throw unexpected
      // The client hands an empty body on as an empty value, not as a parse error.
      if (current.bytes === 0 && current.complete) {
        throw new SourceError('the X API sent an empty body, not JSON', { kind: 'malformed' }, current.status)
      }
      return { body, rateLimit: rateLimitOf(current.rateLimit) }
    } catch (error) {
      if (error instanceof SourceError) throw error
      throw classify(error, current, limits, endpoint)
    } finally {
      clearTimeout(deadline)
      clearTimeout(abandon)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Requests go one at a time: the plugin's hooks work on the request in flight. */
  function send(endpoint: Endpoint, call: () => Promise<unknown>, signal?: AbortSignal): Promise<SearchResponse> {
    const result = queue.then(() => sendOnce(endpoint, call, signal))
    queue = result.catch(() => {})
    return result
  }

  return {
    name: 'twitter',
    search({ tag, sinceId, nextToken }: SearchRequest, signal) {
      const call = async () =>
        (
          await client.v2.search(`#${tag}${suffix}`, {
            max_results: 100,
            expansions: ['author_id'],
            'tweet.fields': [...TWEET_FIELDS],
            'user.fields': [...USER_FIELDS],
            ...(sinceId === null ? {} : { since_id: sinceId }),
            ...(nextToken === null ? {} : { next_token: nextToken }),
          })
        ).data
      return send(SEARCH, call, signal)
    },
    lookupTweets(ids, signal) {
      if (ids.length === 0 || ids.length > LOOKUP_MAX_IDS) {
        const failure = { kind: 'bad_request', sinceId: false } as const
        return Promise.reject(new SourceError(`a lookup takes 1 to ${LOOKUP_MAX_IDS} ids, not ${ids.length}`, failure, null))
      }
      const call = () =>
        client.v2.tweets(ids, {
          expansions: ['author_id'],
          'tweet.fields': [...TWEET_FIELDS],
          'user.fields': [...USER_FIELDS],
        })
      return send(LOOKUP, call, signal)
    },
  }
}
