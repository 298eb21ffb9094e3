import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { selfSignedCertificate } from './certificate'

/**
 * A stand-in for GET https://api.x.com/2/tweets/search/recent and GET /2/tweets?ids=… (post
 * lookup), over HTTPS with a certificate made at start, for the real twitter-api-v2 client to talk
 * to. It keeps a small world of tweets and users and answers like the API: newest first, since_id
 * exclusive, pages chained by next_token, lookups with the posts' current metrics and unknown ids in
 * `errors` (HTTP 200), rate-limit headers (a window per endpoint), the API's error bodies. It checks
 * what the client sends (bearer token, query, ids, fields, expansions) and records a violation,
 * answered with a 400, for anything else.
 */

export interface FakeUser {
  id: string
  username: string
  name: string
  followers_count: number
}

export interface FakeTweet {
  id: string
  text: string
  author_id: string
  lang: string
  created_at: string
  /** As written in the text, any case, without '#'. */
  tags: string[]
  /** public_metrics as the API gives them now; a test changes them to make them grow. Search pages leave them out when unset, lookups give zeros. */
  metrics?: FakeMetrics
  /** referenced_tweets; left out when unset (an original post). */
  referenced?: { type: 'retweeted' | 'quoted' | 'replied_to'; id: string }[]
}

export interface FakeMetrics {
  retweet_count: number
  reply_count: number
  like_count: number
  quote_count: number
  bookmark_count?: number
  /** Left out of the answer when unset, as the API does for some posts and access levels. */
  impression_count?: number
}

/** One post lookup the collector made. */
export interface RecordedLookup {
  ids: string[]
  authorization: string | null
}

export interface RecordedRequest {
  tag: string
  query: string
  sinceId: string | null
  nextToken: string | null
  authorization: string | null
}

/** One scripted answer, used instead of the normal one for the next matching request. */
export interface Fault {
  status?: number
  body?: unknown
  /** Sent as is instead of JSON. */
  raw?: string
  headers?: Record<string, string>
  /** For post lookups (GET /2/tweets) instead of searches; a fault without it applies to searches only. */
  lookup?: boolean
  /** Only for requests of this hashtag. */
  tag?: string
  /** Only for the nth page (1-based) of a hashtag's pagination; with `lookup`, the nth lookup of the fake's life. */
  page?: number
  /** Delay before answering. */
  delayMs?: number
  /** Changes a normal page (or lookup answer) instead of replacing it. */
  transform?: (page: Record<string, any>) => Record<string, any>
  /** The whole answer, as is (no rate-limit headers, no accounting): streamed, stalled, redirected… */
  respond?: () => Response
}

const SNOWFLAKE_EPOCH = 1288834974657n
let sequence = 0

/** A snowflake id for a time: what the real API would give a tweet created then. */
export const snowflakeAt = (ms: number) => String(((BigInt(ms) - SNOWFLAKE_EPOCH) << 22n) | BigInt(sequence++ & 0x3fffff))

const TWEET_FIELDS = new Set(['created_at', 'lang', 'author_id', 'entities', 'referenced_tweets', 'public_metrics'])
const USER_FIELDS = new Set(['username', 'name', 'public_metrics'])

const sameSet = (csv: string | null, expected: Set<string>) =>
  csv !== null && csv.split(',').length === expected.size && csv.split(',').every((f) => expected.has(f))

export class FakeXApi {
  readonly users = new Map<string, FakeUser>()
  readonly tweets: FakeTweet[] = []
  /** Searches, in order. */
  readonly requests: RecordedRequest[] = []
  /** Post lookups, in order. */
  readonly lookups: RecordedLookup[] = []
  readonly violations: string[] = []
  readonly faults: Fault[] = []
  /** The API returns at most max_results per page; a smaller page size exercises pagination with little data. */
  pageSize = 100
  rateLimit = { limit: 450, remaining: 450, reset: Math.floor(Date.now() / 1000) + 900 }
  /** The post lookup's own window (the API limits each endpoint on its own). */
  lookupRateLimit = { limit: 450, remaining: 450, reset: Math.floor(Date.now() / 1000) + 900 }
  private server: ReturnType<typeof Bun.serve> | undefined
  private dir = mkdtempSync(join(tmpdir(), 'fake-x-api-'))

  constructor(readonly token = 'fake-bearer-token-for-tests-0123456789abcdefghijklmnopqrstuvwxyz') {}

  /** The server's own self-signed certificate: the CA a client must trust. */
  get caFile() {
    return join(this.dir, 'server-cert.pem')
  }

  get baseUrl() {
    return `https://127.0.0.1:${this.server!.port}`
  }

  /** Adds a user and tweets by them, `minutesAgo` each, ids as the API would number them. */
  addTweets(
    user: FakeUser,
    tweets: {
      text: string
      tags: string[]
      lang?: string
      minutesAgo: number
      metrics?: FakeMetrics
      referenced?: FakeTweet['referenced']
    }[],
  ): FakeTweet[] {
    this.users.set(user.id, user)
    const added = tweets.map((t) => {
      const ms = Date.now() - t.minutesAgo * 60_000
      return {
        id: snowflakeAt(ms),
        text: t.text,
        author_id: user.id,
        lang: t.lang ?? 'en',
        created_at: new Date(ms).toISOString(),
        tags: t.tags,
        ...(t.metrics === undefined ? {} : { metrics: t.metrics }),
        ...(t.referenced === undefined ? {} : { referenced: t.referenced }),
      }
    })
    this.tweets.push(...added)
    return added
  }

  async start(): Promise<this> {
    const { cert, key } = selfSignedCertificate(this.dir, 'server', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost')
    this.server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      tls: { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') },
      fetch: (request) => this.handle(request),
    })
    return this
  }

  stop() {
    this.server?.stop(true)
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Requests the collector made for a hashtag. */
  requestsFor(tag: string) {
    return this.requests.filter((r) => r.tag === tag)
  }

  /** The tweet with this id, to change its metrics. */
  tweet(id: string): FakeTweet {
    const found = this.tweets.find((t) => t.id === id)
    if (found === undefined) throw new Error(`the fake has no tweet ${id}`)
    return found
  }

  private rateLimitHeaders(window = this.rateLimit): Record<string, string> {
    return {
      'x-rate-limit-limit': String(window.limit),
      'x-rate-limit-remaining': String(window.remaining),
      'x-rate-limit-reset': String(window.reset),
    }
  }

  /** Spends one request of the window, as the API does: a spent window answers 429 until its reset. */
  private spend(which: 'rateLimit' | 'lookupRateLimit'): Response | null {
    const now = Math.floor(Date.now() / 1000)
    if (now >= this[which].reset) this[which] = { ...this[which], remaining: this[which].limit, reset: now + 900 }
    if (this[which].remaining <= 0)
      return this.json(
        429,
        { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
        this.rateLimitHeaders(this[which]),
      )
    this[which].remaining--
    return null
  }

  /** The scripted answer of a fault that replaces the normal one. */
  private faultAnswer(fault: Fault, window: FakeXApi['rateLimit']): Response {
    const headers = { ...this.rateLimitHeaders(window), ...fault.headers }
    if (fault.raw !== undefined)
      return new Response(fault.raw, {
        status: fault.status ?? 200,
        headers: { 'content-type': 'application/json', ...headers },
      })
    return this.json(fault.status ?? 200, fault.body, headers)
  }

  private tweetObject(t: FakeTweet, withMetrics: boolean): Record<string, any> {
    const metrics = t.metrics ?? (withMetrics ? { retweet_count: 0, reply_count: 0, like_count: 0, quote_count: 0 } : undefined)
    return {
      id: t.id,
      text: t.text,
      author_id: t.author_id,
      created_at: t.created_at,
      lang: t.lang,
      edit_history_tweet_ids: [t.id],
      entities: { hashtags: t.tags.map((x) => ({ start: 0, end: x.length + 1, tag: x })) },
      ...(t.referenced === undefined ? {} : { referenced_tweets: t.referenced }),
      ...(metrics === undefined ? {} : { public_metrics: { bookmark_count: 0, ...metrics } }),
    }
  }

  private userObject(u: FakeUser): Record<string, any> {
    return {
      id: u.id,
      username: u.username,
      name: u.name,
      public_metrics: {
        followers_count: u.followers_count,
        following_count: 10,
        tweet_count: 100,
        listed_count: 1,
        like_count: 5,
      },
    }
  }

  private json(status: number, body: unknown, headers: Record<string, string> = {}) {
    const type = status >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8'
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': type, ...headers } })
  }

  private invalid(message: string) {
    this.violations.push(message)
    return this.json(400, {
      errors: [{ parameters: {}, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    })
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const authorization = request.headers.get('authorization')
    if (request.method === 'GET' && url.pathname === '/2/tweets') return this.handleLookup(url, authorization)
    if (request.method !== 'GET' || url.pathname !== '/2/tweets/search/recent')
      return this.invalid(`unexpected ${request.method} ${url.pathname}`)
    const query = url.searchParams.get('query') ?? ''
    const match = /^#([\p{L}\p{M}\p{N}_]+)( .+)?$/u.exec(query)
    const sinceId = url.searchParams.get('since_id')
    const nextToken = url.searchParams.get('next_token')
    const tag = match?.[1]?.toLowerCase() ?? ''
    this.requests.push({ tag, query, sinceId, nextToken, authorization })
    // The API's 401 carries no rate-limit headers.
    if (authorization !== `Bearer ${this.token}`) {
      return this.json(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' })
    }
    if (!match) return this.invalid(`query ${JSON.stringify(query)} is not "#tag [suffix]"`)
    if (url.searchParams.get('max_results') !== '100') return this.invalid('max_results must be 100')
    if (url.searchParams.get('expansions') !== 'author_id') return this.invalid('expansions must be author_id')
    if (!sameSet(url.searchParams.get('tweet.fields'), TWEET_FIELDS))
      return this.invalid(`tweet.fields must be ${[...TWEET_FIELDS].join(',')}`)
    if (!sameSet(url.searchParams.get('user.fields'), USER_FIELDS))
      return this.invalid('user.fields must be username,name,public_metrics')
    if (sinceId !== null && !/^[0-9]{1,19}$/.test(sinceId)) return this.invalid('since_id must be a tweet id')
    for (const key of url.searchParams.keys()) {
      if (!['query', 'max_results', 'expansions', 'tweet.fields', 'user.fields', 'since_id', 'next_token'].includes(key))
        return this.invalid(`unexpected parameter ${key}`)
    }

    const offset = nextToken === null ? 0 : this.decodeToken(nextToken, tag, sinceId)
    if (offset === null) return this.invalid('next_token does not belong to this query')
    const page = Math.floor(offset / this.pageSize) + 1
    const faultIndex = this.faults.findIndex(
      (f) => f.lookup !== true && (f.tag === undefined || f.tag === tag) && (f.page === undefined || f.page === page),
    )
    const fault = faultIndex === -1 ? undefined : this.faults.splice(faultIndex, 1)[0]!
    if (fault?.delayMs !== undefined) await Bun.sleep(fault.delayMs)
    if (fault?.respond !== undefined) return fault.respond()

    const limited = this.spend('rateLimit')
    if (limited !== null) return limited

    if (fault !== undefined && fault.transform === undefined) return this.faultAnswer(fault, this.rateLimit)
    const body = this.page(tag, sinceId, offset)
    return this.json(200, fault?.transform ? fault.transform(body) : body, this.rateLimitHeaders())
  }

  /** GET /2/tweets?ids=…: the posts known, with their metrics now, and an error item for each id that is not. */
  private async handleLookup(url: URL, authorization: string | null): Promise<Response> {
    const idsParam = url.searchParams.get('ids')
    const ids = idsParam === null || idsParam === '' ? [] : idsParam.split(',')
    this.lookups.push({ ids, authorization })
    if (authorization !== `Bearer ${this.token}`) {
      return this.json(401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' })
    }
    if (ids.length === 0 || ids.length > 100) return this.invalid(`ids must name 1 to 100 tweets, not ${ids.length}`)
    if (!ids.every((id) => /^[0-9]{1,19}$/.test(id))) return this.invalid('ids must be tweet ids')
    if (url.searchParams.get('expansions') !== 'author_id') return this.invalid('expansions must be author_id')
    if (!sameSet(url.searchParams.get('tweet.fields'), TWEET_FIELDS))
      return this.invalid(`tweet.fields must be ${[...TWEET_FIELDS].join(',')}`)
    if (!sameSet(url.searchParams.get('user.fields'), USER_FIELDS))
      return this.invalid('user.fields must be username,name,public_metrics')
    for (const key of url.searchParams.keys()) {
      if (!['ids', 'expansions', 'tweet.fields', 'user.fields'].includes(key)) return this.invalid(`unexpected parameter ${key}`)
    }
    const faultIndex = this.faults.findIndex((f) => f.lookup === true && (f.page === undefined || f.page === this.lookups.length))
    const fault = faultIndex === -1 ? undefined : this.faults.splice(faultIndex, 1)[0]!
    if (fault?.delayMs !== undefined) await Bun.sleep(fault.delayMs)
    if (fault?.respond !== undefined) return fault.respond()
    const limited = this.spend('lookupRateLimit')
    if (limited !== null) return limited
    if (fault !== undefined && fault.transform === undefined) return this.faultAnswer(fault, this.lookupRateLimit)
    const body = this.lookupAnswer(ids)
    return this.json(200, fault?.transform ? fault.transform(body) : body, this.rateLimitHeaders(this.lookupRateLimit))
  }

  private lookupAnswer(ids: string[]): Record<string, any> {
    const byId = new Map(this.tweets.map((t) => [t.id, t]))
    const found = ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []))
    const missing = ids.filter((id) => !byId.has(id))
    const authors = [...new Set(found.map((t) => t.author_id))].map((id) => this.users.get(id)!)
    return {
      ...(found.length === 0
        ? {}
        : { data: found.map((t) => this.tweetObject(t, true)), includes: { users: authors.map((u) => this.userObject(u)) } }),
      ...(missing.length === 0
        ? {}
        : {
            errors: missing.map((id) => ({
              value: id,
              detail: `Could not find tweet with ids: [${id}].`,
              title: 'Not Found Error',
              resource_type: 'tweet',
              parameter: 'ids',
              resource_id: id,
              type: 'https://api.twitter.com/2/problems/resource-not-found',
            })),
          }),
    }
  }

  private matching(tag: string, sinceId: string | null) {
    return this.tweets
      .filter((t) => t.tags.some((x) => x.toLowerCase() === tag) && (sinceId === null || BigInt(t.id) > BigInt(sinceId)))
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
  }

  private page(tag: string, sinceId: string | null, offset: number): Record<string, any> {
    const all = this.matching(tag, sinceId)
    const data = all.slice(offset, offset + this.pageSize)
    if (data.length === 0) return { meta: { result_count: 0 } }
    const authors = [...new Set(data.map((t) => t.author_id))].map((id) => this.users.get(id)!)
    const more = offset + this.pageSize < all.length
    return {
      data: data.map((t) => this.tweetObject(t, false)),
      includes: { users: authors.map((u) => this.userObject(u)) },
      meta: {
        newest_id: data[0]!.id,
        oldest_id: data[data.length - 1]!.id,
        result_count: data.length,
        ...(more
          ? { next_token: Buffer.from(JSON.stringify({ tag, sinceId, offset: offset + this.pageSize })).toString('base64url') }
          : {}),
      },
    }
  }

  private decodeToken(token: string, tag: string, sinceId: string | null): number | null {
    try {
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
      return decoded.tag === tag && decoded.sinceId === sinceId ? decoded.offset : null
    } catch {
      return null
    }
  }
}
