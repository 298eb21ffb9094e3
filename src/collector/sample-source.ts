import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SearchPage } from './page'
import { LOOKUP_MAX_IDS, type SearchRequest, type SearchResponse, type SearchSource, SourceError } from './source'

/**
 * The bundled sample: recent-search response pages in the API's own JSON shape, replayed through
 * the same parsing and storage as real ones. The data is synthetic (scripts/generate-sample.ts
 * makes it); its timestamps are shifted at load so that it always covers the last seven days.
 *
 * Post lookups are answered from the same tweets, with metrics that go on growing after the post as
 * real ones do, so that the metrics refresh has something to show without a token (see `grown`).
 */

export const SAMPLE_FILE = join(import.meta.dir, 'sample', 'recent-search.sample.json')

export interface SampleFile {
  notice: string
  /** When the file was generated; every created_at is moved by (load time - generated_at). */
  generated_at: string
  /** Pages per hashtag, newest first, chained by meta.next_token like the API's. */
  pages: Record<string, SearchPage[]>
}

const EMPTY: SearchPage = { meta: { result_count: 0 } }

type SampleTweet = NonNullable<SearchPage['data']>[number]
type SampleUser = NonNullable<NonNullable<SearchPage['includes']>['users']>[number]

/**
 * How long a sample post's metrics keep growing: they reach 95 % of their growth after this long,
 * about the default METRICS_REFRESH_MAX_AGE, and barely move afterwards.
 */
export const SAMPLE_GROWTH_MS = 24 * 3_600_000

/** What each count grows by: a multiple of the sample's own value, plus a part of its own per post (for counts of 0). */
const GROWTH = {
  like_count: { factor: 3, extra: 40 },
  retweet_count: { factor: 2, extra: 12 },
  reply_count: { factor: 1, extra: 6 },
  quote_count: { factor: 1, extra: 3 },
  impression_count: { factor: 5, extra: 2_000 },
} as const

const countOf = (value: unknown): number => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0)

/**
 * A post's public metrics `ageMs` after it was posted: the sample's values (0 for missing ones)
 * grown by a share that rises from 0 at the post to 1 over about SAMPLE_GROWTH_MS. A function of the
 * age alone, never smaller for an older age: two lookups never see a count go down, and none is ever
 * below what the search saw. impression_count stays absent when the sample has none (the API leaves
 * it out for some posts; it is never invented).
 */
export function grown(tweet: Pick<SampleTweet, 'id' | 'public_metrics'>, ageMs: number): Record<string, number> {
  const share = 1 - Math.exp((-3 * Math.max(0, ageMs)) / SAMPLE_GROWTH_MS)
  const base = (typeof tweet.public_metrics === 'object' && tweet.public_metrics !== null ? tweet.public_metrics : {}) as Record<
    string,
    unknown
  >
  // The post's own growth, from its id: the same every time, different from post to post.
  const own = Number(BigInt(tweet.id) % 1_000_003n) / 1_000_003
  const metrics: Record<string, number> = {}
  for (const [field, { factor, extra }] of Object.entries(GROWTH)) {
    if (field === 'impression_count' && typeof base[field] !== 'number') continue
    const value = countOf(base[field])
    metrics[field] = Math.floor(value + share * (value * factor + own * extra))
  }
  return metrics
}

/**
 * The sample moved in time by `ms`: a tweet's created_at and every tweet id (its own and those it
 * references) by the same amount, so that an id's snowflake time stays its created_at. User ids are
 * not times and stay.
 */
interface TimeShift {
  ms: number
  tweet(tweet: SampleTweet): SampleTweet
  /** The file's id of a moved id; null for an id that no moved tweet can have. */
  original(id: string): string | null
}

function timeShift(ms: number): TimeShift {
  // Snowflake ids hold milliseconds above their 22 low bits.
  const idShift = BigInt(Math.round(ms)) << 22n
  const moved = (id: string) => String(BigInt(id) + idShift)
  return {
    ms,
    tweet: (tweet) => ({
      ...tweet,
      id: moved(tweet.id),
      created_at: new Date(Date.parse(tweet.created_at) + ms).toISOString(),
      // The sample's own references: a list of { type, id } (the page schema leaves it untyped).
      ...(Array.isArray(tweet.referenced_tweets)
        ? { referenced_tweets: tweet.referenced_tweets.map((ref: { id: string }) => ({ ...ref, id: moved(ref.id) })) }
        : {}),
    }),
    original(id) {
      if (!/^[0-9]{1,20}$/.test(id)) return null
      const value = BigInt(id) - idShift
      return value > 0n ? String(value) : null
    },
  }
}

/** The page's tweets newer than `sinceId` (a moved id), moved by `shift`; meta recomputed as the API would. */
function replay(page: SearchPage, sinceId: string | null, shift: TimeShift): SearchPage {
  const data = (page.data ?? []).map(shift.tweet).filter((tweet) => sinceId === null || BigInt(tweet.id) > BigInt(sinceId))
  if (data.length === 0) return EMPTY
  const authors = new Set(data.map((tweet) => tweet.author_id))
  // A page cut by since_id is the last one: everything after it is older still.
  const cut = data.length < (page.data ?? []).length
  return {
    data,
    includes: { users: (page.includes?.users ?? []).filter((user) => authors.has(user.id)) },
    meta: {
      result_count: data.length,
      newest_id: data[0]!.id,
      oldest_id: data[data.length - 1]!.id,
      ...(cut || page.meta.next_token === undefined ? {} : { next_token: page.meta.next_token }),
    },
  }
}

/**
 * `now`: when the sample is loaded (its timestamps end there); `clock`: the time of each lookup,
 * which the posts' ages, and so their metrics, are measured at.
 */
export function createSampleSource(file = SAMPLE_FILE, now = Date.now(), clock: () => number = Date.now): SearchSource {
  const sample = JSON.parse(readFileSync(file, 'utf8')) as SampleFile
  const shift = timeShift(now - Date.parse(sample.generated_at))
  // Every tweet and user of every page, by id (own properties only, like the pages), for lookups.
  const tweets = new Map<string, SampleTweet>()
  const users = new Map<string, SampleUser>()
  for (const pages of Object.values(sample.pages)) {
    for (const page of pages) {
      for (const tweet of page.data ?? []) if (!tweets.has(tweet.id)) tweets.set(tweet.id, tweet)
      for (const user of page.includes?.users ?? []) if (!users.has(user.id)) users.set(user.id, user)
    }
  }
  return {
    name: 'sample',
    async search({ tag, sinceId, nextToken }: SearchRequest): Promise<SearchResponse> {
      // Own properties only: a hashtag may be named like a member of Object.prototype (#constructor).
      const pages = Object.hasOwn(sample.pages, tag) ? sample.pages[tag]! : [EMPTY]
      const index = nextToken === null ? 0 : pages.findIndex((_, i) => i > 0 && pages[i - 1]!.meta.next_token === nextToken)
      const page = index === -1 ? EMPTY : replay(pages[index]!, sinceId, shift)
      return { body: page, rateLimit: null }
    },
    async lookupTweets(ids: string[]): Promise<SearchResponse> {
      if (ids.length === 0 || ids.length > LOOKUP_MAX_IDS) {
        const failure = { kind: 'bad_request', sinceId: false } as const
        throw new SourceError(`the sample answered 400: a lookup takes 1 to ${LOOKUP_MAX_IDS} ids`, failure, 400)
      }
      const at = clock()
      const asked = [...new Set(ids)]
      const inSample = (id: string) => {
        const original = shift.original(id)
        return original === null ? undefined : tweets.get(original)
      }
      const found = asked.flatMap((id) => {
        const tweet = inSample(id)
        if (tweet === undefined) return []
        const moved = shift.tweet(tweet)
        return [{ ...moved, public_metrics: grown(tweet, at - Date.parse(moved.created_at)) }]
      })
      const missing = asked.filter((id) => inSample(id) === undefined)
      const authors = new Set(found.map((tweet) => tweet.author_id))
      // As the API answers: data only when a post was found, errors only when one was not.
      const body = {
        ...(found.length === 0
          ? {}
          : { data: found, includes: { users: [...users.values()].filter((user) => authors.has(user.id)) } }),
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
      return { body, rateLimit: null }
    },
  }
}
