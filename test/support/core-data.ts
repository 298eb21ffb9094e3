import { rebuildCounts } from '../../src/db/counts'
import type { TestDatabase } from './database'
import { type FixtureTweet, type FixtureUser, insertHashtags, insertTweets, insertUsers } from './fixtures'

/**
 * A small data set with the awkward cases of the real thing: ids beyond 2^53 (up to 2^64-1), emoji
 * and other 4-byte characters, a tweet under two tracked hashtags, a tracked hashtag without tweets,
 * tied follower counts, several languages and hours of the day, every kind (and unknown), metrics with
 * ties and without (never measured, impressions missing), untracked hashtags beside tracked ones.
 */

export const HASHTAGS = ['devops', 'sre', 'observability', 'logmonitoring']

export const USERS: FixtureUser[] = [
  { id: '1999999999999999999', username: 'big_id', name: 'Zoë 🚀 Big Id', followers_count: 500 },
  { id: '100', username: 'alice', name: 'Alice', followers_count: 1000 },
  { id: '200', username: 'bob', name: 'Bob', followers_count: 1000 },
  { id: '300', username: 'carol', name: 'Carol 𝓒', followers_count: 50 },
  { id: '400', username: 'dave', name: 'Dave', followers_count: 5000 },
  { id: '500', username: 'erin', name: 'Erin', followers_count: 10 },
  { id: '18446744073709551615', username: 'max_id', name: 'Max', followers_count: 0 },
]

const named: FixtureTweet[] = [
  {
    id: '1000000000000000001',
    kind: 'original',
    tags: ['kubernetes'],
    metrics: { likes: 120, retweets: 30, replies: 4, quotes: 2, impressions: 9000, updated_at: '2026-11-20T06:00:00.000Z' },
    hashtags: ['devops'],
    author_id: '100',
    lang: 'en',
    text: 'Ship it #devops',
    created_at: '2026-11-20T00:30:00.000Z',
  },
  {
    id: '1000000000000000002',
    kind: 'reply',
    tags: ['kubernetes', 'slo'],
    metrics: { likes: 7, retweets: 0, replies: 1, quotes: 0, impressions: null, updated_at: '2026-11-20T03:00:00.000Z' },
    hashtags: ['devops', 'sre'],
    author_id: '200',
    lang: 'en',
    text: 'SLOs for everyone #DevOps #SRE',
    created_at: '2026-11-20T01:15:00.000Z',
  },
  {
    id: '1000000000000000003',
    kind: 'quote',
    metrics: { likes: 7, retweets: 2, replies: 0, quotes: 5, impressions: 310, updated_at: '2026-11-20T04:00:00.000Z' },
    hashtags: ['sre'],
    author_id: '300',
    lang: 'pt',
    text: 'Confiabilidade 🔥 #sre',
    created_at: '2026-11-20T02:45:00.000Z',
  },
  {
    id: '1999999999999999999',
    kind: 'retweet',
    tags: ['可観測性'],
    metrics: { likes: 0, retweets: 900, replies: 0, quotes: 0, impressions: 0, updated_at: '2026-11-22T01:00:00.000Z' },
    hashtags: ['observability'],
    author_id: '1999999999999999999',
    lang: 'ja',
    text: '可観測性 😀 #observability',
    created_at: '2026-11-21T23:59:59.999Z',
  },
  {
    id: '1000000000000000005',
    kind: 'original',
    tags: ['kubernetes', 'cloud'],
    hashtags: ['devops'],
    author_id: '400',
    lang: 'es',
    text: 'Despliegue continuo #devops',
    created_at: '2026-11-22T12:00:00.000Z',
  },
  {
    id: '1000000000000000006',
    kind: 'retweet',
    tags: ['cloud'],
    metrics: { likes: 0, retweets: 41, replies: 0, quotes: 0, impressions: null, updated_at: '2026-11-22T13:00:00.000Z' },
    hashtags: ['devops'],
    author_id: '400',
    lang: 'en',
    text: 'Pipelines 🧪 #devops',
    created_at: '2026-11-22T12:30:00.000Z',
  },
  {
    id: '18446744073709551615',
    hashtags: ['sre', 'observability'],
    author_id: '18446744073709551615',
    lang: 'und',
    text: '🔭📈 #sre #observability',
    created_at: '2026-11-23T18:45:00.000Z',
  },
]

/** Filler for pagination: 30 devops tweets by erin, alternating languages, spread over the hours. */
const filler: FixtureTweet[] = Array.from({ length: 30 }, (_, i) => ({
  id: String(1500000000000000000n + BigInt(i) * 7n),
  hashtags: i % 3 === 0 ? ['devops', 'sre'] : ['devops'],
  author_id: '500',
  lang: i % 2 === 0 ? 'en' : 'de',
  text: `Filler ${i} #devops`,
  created_at: new Date(Date.UTC(2026, 10, 24, i % 18, (i * 17) % 60)).toISOString(),
  kind: (['original', 'retweet', 'original', 'reply', 'quote'] as const)[i % 5],
  ...(i % 4 === 3 ? {} : { tags: i % 2 === 0 ? ['kubernetes'] : ['cloud', 'kubernetes'] }),
  ...(i % 6 === 5
    ? {}
    : {
        metrics: {
          likes: (i * 37) % 50,
          retweets: (i * 11) % 9,
          replies: i % 4,
          quotes: i % 3,
          impressions: i % 5 === 0 ? null : i * 100,
          updated_at: '2026-11-25T00:00:00.000Z',
        },
      }),
}))

export const TWEETS: FixtureTweet[] = [...named, ...filler]

/** Loads the data set, and the counts the aggregates read, as the collector would have left them. */
export async function loadCoreData(database: TestDatabase): Promise<void> {
  await insertHashtags(database.admin, HASHTAGS)
  await insertUsers(database.admin, USERS)
  await insertTweets(database.admin, TWEETS)
  await rebuildCounts(database.db)
}

/** Expected order of tweets in every list: newest (largest id) first. */
export const byIdDesc = (a: { id: string }, b: { id: string }) =>
  BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0
