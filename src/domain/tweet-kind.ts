/**
 * What kind of post a tweet is, from its `referenced_tweets` (tweet.fields=referenced_tweets): a
 * retweet refers to the post it repeats, a quote to the post it quotes, a reply to the post it
 * answers, an original to nothing. A post can both reply and quote; it then counts as a quote: what
 * it shows is its own text with another post inside, and that is what the quote share measures.
 * Rows stored before kinds were collected are `unknown` (sql/005_kinds.sql).
 */

export const TWEET_KINDS = ['original', 'reply', 'quote', 'retweet'] as const
export type TweetKind = (typeof TWEET_KINDS)[number]

/** referenced_tweets[].type → kind, in order of precedence. */
const BY_PRECEDENCE: [string, TweetKind][] = [
  ['retweeted', 'retweet'],
  ['quoted', 'quote'],
  ['replied_to', 'reply'],
]

/** The kind of a tweet from its referenced_tweets, read defensively: anything unrecognised is no reference. */
export function kindOf(referencedTweets: unknown): TweetKind {
  if (!Array.isArray(referencedTweets)) return 'original'
  const types = new Set(
    referencedTweets.map((entry) =>
      typeof entry === 'object' && entry !== null ? (entry as { type?: unknown }).type : undefined,
    ),
  )
  return BY_PRECEDENCE.find(([type]) => types.has(type))?.[1] ?? 'original'
}

export const isTweetKind = (value: string): value is TweetKind => (TWEET_KINDS as readonly string[]).includes(value)
