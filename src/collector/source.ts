/**
 * Where pages of recent-search results, and post lookups, come from: the X API, or the bundled
 * sample. The collector only sees this interface; both answer in the API's own JSON shape.
 */

/** Most ids one post lookup (GET /2/tweets?ids=…) may carry; the API refuses more with a 400. */
export const LOOKUP_MAX_IDS = 100

export interface SearchRequest {
  /** Tracked hashtag, lowercase, without '#'. */
  tag: string
  /** Sent as since_id when not null; the run leaves out one the API would refuse (see since-id.ts). */
  sinceId: string | null
  nextToken: string | null
}

export interface RateLimit {
  limit: number
  remaining: number
  /** Unix time, seconds, when the window resets. */
  reset: number
}

export interface SearchResponse {
  /** The response body, unchecked: `parsePage` (a search) or `parseLookup` (a lookup) checks it. */
  body: unknown
  rateLimit: RateLimit | null
}

export interface SearchSource {
  readonly name: 'twitter' | 'sample'
  /** One request; `signal` aborts it (and whatever it waits for) at once. */
  search(request: SearchRequest, signal?: AbortSignal): Promise<SearchResponse>
  /**
   * One post lookup of at most LOOKUP_MAX_IDS tweet ids, with the same fields as a search: their
   * current public metrics. Deleted and protected posts come back in the body's `errors`, not as a
   * failure. `signal` aborts it at once.
   */
  lookupTweets(ids: string[], signal?: AbortSignal): Promise<SearchResponse>
}

/** Why a request to the source failed, in the terms the collector acts on. */
export type SourceFailure =
  /** 429 with the window exhausted: waiting until `resetAt` helps. */
  | { kind: 'rate_limited'; resetAt: number | null }
  /** 429 for a monthly cap: waiting does not help. */
  | { kind: 'usage_capped' }
  /** 401/403: the token or the app's access is wrong; nothing will work until someone fixes it. */
  | { kind: 'unauthorized' }
  /** 400: this request is wrong; `sinceId` is set when the stored since_id is what the API refused. */
  | { kind: 'bad_request'; sinceId: boolean }
  /** 5xx, timeouts, connection errors, cut-off bodies: worth retrying. */
  | { kind: 'transient' }
  /** The body is not JSON. */
  | { kind: 'malformed' }
  /**
   * Asking again would get the same answer, for every hashtag: an untrusted or mismatched TLS
   * certificate, a redirect (not followed: the bearer token would go with it).
   */
  | { kind: 'misconfigured' }
  /** The body was larger than TWITTER_API_MAX_RESPONSE_MB: this page cannot be read. */
  | { kind: 'too_large' }
  /** The run's signal aborted the request: the service is stopping, or the run ran out of time. */
  | { kind: 'aborted' }

export class SourceError extends Error {
  override name = 'SourceError'
  constructor(
    message: string,
    readonly failure: SourceFailure,
    /** HTTP status, or null when no response arrived. */
    readonly status: number | null,
    readonly rateLimit: RateLimit | null = null,
  ) {
    super(message)
  }
}
