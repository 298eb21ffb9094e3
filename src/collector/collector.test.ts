import { describe, expect, test } from 'bun:test'
import { Registry } from 'prom-client'
import { CapturedLog } from '../../test/support/app'
import { collectorConfigFor, collectorHarness, countsTable, useCollectorWorld } from '../../test/support/collector'
import { createTestDatabase } from '../../test/support/database'
import { type FakeUser, snowflakeAt } from '../../test/support/fake-x-api'
import type { CollectorConfig } from '../config'
import { rebuildCounts } from '../db/counts'
import { createLogger } from '../observability/logger'
import { createCollectorMetrics } from '../observability/metrics'
import { createCollector } from '.'
import { createXApiSource } from './x-api-source'

const world = useCollectorWorld()

const alice: FakeUser = { id: '1999999999999999999', username: 'alice', name: 'Alice 🚀', followers_count: 1200 }
const bob: FakeUser = { id: '200', username: 'bob', name: 'Bob', followers_count: 80 }

function collectorConfig(overrides: Partial<CollectorConfig> = {}): CollectorConfig {
  return { ...collectorConfigFor(world.fake), ...overrides }
}

/** The real collector with the real twitter-api-v2 client, pointed at the fake API. */
const harness = (overrides: Partial<CollectorConfig> = {}) => collectorHarness(world.database.writer, collectorConfig(overrides))

/** Every stored row, minus what describes the last run (its time, outcome and result count). */
async function snapshot() {
  const [tweets] = await world.database.admin.query(
    'SELECT id, hashtag, author_id, lang, text, created_at FROM tweets ORDER BY id, hashtag',
  )
  const [users] = await world.database.admin.query('SELECT id, username, name, followers_count FROM users ORDER BY id')
  const [hashtags] = await world.database.admin.query('SELECT tag, newest_id FROM hashtags ORDER BY tag')
  return { tweets, users, hashtags } as { tweets: any[]; users: any[]; hashtags: any[] }
}

/** What the hashtags table says of the last collection. */
async function collectionState() {
  const [rows] = await world.database.admin.query(
    'SELECT tag, newest_id, last_outcome, last_result_count FROM hashtags ORDER BY tag',
  )
  return rows as any[]
}

/** public_metrics as the API sends them. */
const m = (likes: number, retweets: number, replies: number, quotes: number, impressions?: number) => ({
  like_count: likes,
  retweet_count: retweets,
  reply_count: replies,
  quote_count: quotes,
  ...(impressions === undefined ? {} : { impression_count: impressions }),
})

const metric = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)!.get()).values

describe('collecting from the X API', () => {
  test('when tweets carry references, metrics and untracked hashtags, then kind, metrics and every hashtag are stored, and the counts agree with the rows', async () => {
    world.fake.addTweets(alice, [
      { text: 'plain #devops #Kubernetes', tags: ['devops', 'Kubernetes'], minutesAgo: 40, metrics: m(12, 3, 1, 0, 900) },
      {
        text: 'RT @bob: deploys #devops',
        tags: ['devops'],
        minutesAgo: 30,
        referenced: [{ type: 'retweeted', id: '10' }],
        metrics: m(0, 44, 0, 0),
      },
      {
        text: 'answer that quotes #DevOps #SRE #Café',
        tags: ['DevOps', 'SRE', 'Café'],
        minutesAgo: 20,
        referenced: [
          { type: 'replied_to', id: '11' },
          { type: 'quoted', id: '12' },
        ],
        metrics: m(5, 0, 2, 1, 70),
      },
      { text: 'reply #devops', tags: ['devops'], minutesAgo: 10, referenced: [{ type: 'replied_to', id: '13' }] },
    ])
    // Without the refresh: what is stored here is what the search said (the unmeasured reply stays so).
    const summary = await harness({ hashtags: ['devops', 'sre'], metricsRefresh: { maxAgeMs: 0, requests: 0 } }).collector.run()
    expect(summary.outcome).toBe('success')
    const [kinds] = (await world.database.admin.query('SELECT text, kind FROM tweets GROUP BY id, text, kind ORDER BY id')) as any
    expect(kinds.map((r: any) => r.kind)).toEqual(['original', 'retweet', 'quote', 'reply'])
    const [metrics] = (await world.database.admin.query(
      'SELECT m.likes, m.retweets, m.replies, m.quotes, m.impressions, m.engagement, m.kind FROM tweet_metrics m ORDER BY m.id',
    )) as any
    expect(metrics).toEqual([
      { likes: '12', retweets: '3', replies: '1', quotes: '0', impressions: '900', engagement: '16', kind: 'original' },
      { likes: '0', retweets: '44', replies: '0', quotes: '0', impressions: null, engagement: '44', kind: 'retweet' },
      { likes: '5', retweets: '0', replies: '2', quotes: '1', impressions: '70', engagement: '8', kind: 'quote' },
    ])
    const [tags] = (await world.database.admin.query(
      "SELECT t.text, GROUP_CONCAT(g.tag ORDER BY g.tag) AS tags FROM tweet_hashtags g JOIN tweets t ON t.id = g.id AND t.hashtag = 'devops' GROUP BY t.id, t.text ORDER BY t.id",
    )) as any
    expect(tags.map((r: any) => r.tags)).toEqual(['devops,kubernetes', 'devops', 'café,devops,sre', 'devops'])
    const [related] = (await world.database.admin.query(
      'SELECT hashtag, related, SUM(tweets) AS n FROM related_counts GROUP BY hashtag, related ORDER BY hashtag, related',
    )) as any
    expect(related).toEqual([
      { hashtag: 'devops', related: 'café', n: '1' },
      { hashtag: 'devops', related: 'kubernetes', n: '1' },
      { hashtag: 'devops', related: 'sre', n: '1' },
      { hashtag: 'sre', related: 'café', n: '1' },
      { hashtag: 'sre', related: 'devops', n: '1' },
    ])
    const kept = await countsTable(world.database.admin)
    await rebuildCounts(world.database.writer)
    expect(kept).toEqual(await countsTable(world.database.admin))
  })

  test('when a hashtag has more than a page, then next_token is followed and every tweet stored once', async () => {
    world.fake.pageSize = 2
    world.fake.addTweets(alice, [
      { text: 'one #devops', tags: ['devops'], minutesAgo: 50 },
      { text: 'two #DevOps', tags: ['DevOps'], minutesAgo: 40 },
      { text: 'three #devops 🔥', tags: ['devops'], minutesAgo: 30, lang: 'pt' },
    ])
    world.fake.addTweets(bob, [
      { text: 'four #devops', tags: ['devops'], minutesAgo: 20 },
      { text: 'five #devops', tags: ['devops'], minutesAgo: 10 },
    ])
    const { collector, pages, registry } = harness()
    const summary = await collector.run()
    expect(summary.outcome).toBe('success')
    expect(await metric(registry, 'twitter_collector_runs_total')).toEqual([{ value: 1, labels: { outcome: 'success' } }])
    expect(await metric(registry, 'twitter_collector_api_requests_total')).toEqual([{ value: 5, labels: { status: '200' } }])
    expect((await metric(registry, 'twitter_collector_tweets_stored_total')).map((v) => [v.labels.hashtag, v.value])).toEqual([
      ['devops', 5],
      ['sre', 0],
      ['logmonitoring', 0],
    ])
    expect(await metric(registry, 'twitter_collector_rate_limit_remaining')).toEqual([{ value: 445, labels: {} }])
    expect((await metric(registry, 'twitter_collector_last_success_timestamp_seconds'))[0]!.value).toBeGreaterThan(
      Date.now() / 1000 - 60,
    )
    expect(summary.hashtags.find((h) => h.tag === 'devops')).toMatchObject({
      outcome: 'ok',
      pages: 3,
      tweets: 5,
      newTweets: 5,
      knownTweets: 0,
    })
    expect(pages.filter((p) => p.startsWith('devops'))).toEqual(['devops:1', 'devops:2', 'devops:3'])
    const requests = world.fake.requestsFor('devops')
    expect(requests.map((r) => r.nextToken === null)).toEqual([true, false, false])
    expect(requests.every((r) => r.query === '#devops' && r.authorization === `Bearer ${world.fake.token}`)).toBe(true)
    expect(world.fake.violations).toEqual([])
    const { tweets, users } = await snapshot()
    expect(tweets.map((t) => t.text).sort()).toEqual([
      'five #devops',
      'four #devops',
      'one #devops',
      'three #devops 🔥',
      'two #DevOps',
    ])
    expect(users).toEqual([
      { id: '200', username: 'bob', name: 'Bob', followers_count: '80' },
      { id: '1999999999999999999', username: 'alice', name: 'Alice 🚀', followers_count: '1200' },
    ])
    const newest = world.fake.tweets.map((t) => BigInt(t.id)).sort((a, b) => (a < b ? 1 : -1))[0]
    expect((await collectionState()).find((h) => h.tag === 'devops')).toEqual({
      tag: 'devops',
      newest_id: String(newest),
      last_outcome: 'ok',
      last_result_count: 5,
    })
  })

  test('when run again, then since_id asks only for what is new, and two runs leave identical rows', async () => {
    world.fake.addTweets(alice, [{ text: 'a #devops #sre', tags: ['devops', 'sre'], minutesAgo: 30 }])
    const { collector } = harness()
    await collector.run()
    const first = await snapshot()
    const second = await collector.run()
    expect(second.hashtags.map((h) => [h.tag, h.outcome, h.tweets])).toEqual([
      ['devops', 'ok', 0],
      ['sre', 'ok', 0],
      ['logmonitoring', 'ok', 0],
    ])
    expect(await snapshot()).toEqual(first)
    const [, again] = world.fake.requestsFor('devops')
    expect(again!.sinceId).toBe(first.hashtags.find((h) => h.tag === 'devops').newest_id)

    const [late] = world.fake.addTweets(bob, [{ text: 'b #devops', tags: ['devops'], minutesAgo: 1 }])
    const third = await collector.run()
    expect(third.hashtags[0]).toMatchObject({ tag: 'devops', tweets: 1, newTweets: 1 })
    expect((await snapshot()).hashtags.find((h) => h.tag === 'devops').newest_id).toBe(late!.id)
  })

  test('when a tweet carries two tracked hashtags, then it is linked to both, once each, whichever search found it', async () => {
    world.fake.addTweets(alice, [{ text: 'SLOs #DevOps #SRE #unrelated', tags: ['DevOps', 'SRE', 'unrelated'], minutesAgo: 5 }])
    const { collector } = harness()
    const summary = await collector.run()
    expect(summary.hashtags.map((h) => [h.tag, h.newTweets, h.knownTweets])).toEqual([
      ['devops', 1, 0],
      ['sre', 0, 1],
      ['logmonitoring', 0, 0],
    ])
    const { tweets } = await snapshot()
    expect(tweets.map((t) => t.hashtag)).toEqual(['devops', 'sre'])
  })

  test('when a follower count changed between runs, then the user row is refreshed', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    const { collector } = harness()
    await collector.run()
    world.fake.users.set(alice.id, { ...alice, followers_count: 99_999, name: 'Alice renamed' })
    world.fake.addTweets(world.fake.users.get(alice.id)!, [{ text: 'y #devops', tags: ['devops'], minutesAgo: 1 }])
    await collector.run()
    const { users } = await snapshot()
    expect(users).toEqual([{ id: alice.id, username: 'alice', name: 'Alice renamed', followers_count: '99999' }])
  })

  test('when a tracked hashtag has no results, then it is still listed with its outcome', async () => {
    const { collector } = harness()
    const summary = await collector.run()
    expect(summary.hashtags.find((h) => h.tag === 'logmonitoring')).toMatchObject({ outcome: 'ok', pages: 1, tweets: 0 })
    expect((await collectionState()).find((h) => h.tag === 'logmonitoring')).toEqual({
      tag: 'logmonitoring',
      newest_id: null,
      last_outcome: 'ok',
      last_result_count: 0,
    })
  })

  test('when QUERY_SUFFIX is set, then it is appended to every query', async () => {
    const { collector } = harness({ querySuffix: '-is:retweet lang:en' })
    await collector.run()
    expect(world.fake.requests.map((r) => r.query)).toEqual([
      '#devops -is:retweet lang:en',
      '#sre -is:retweet lang:en',
      '#logmonitoring -is:retweet lang:en',
    ])
  })
})

describe('faults of the X API', () => {
  test('when the rate limit is spent, then the collector waits for the reset and goes on', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    world.fake.rateLimit = { limit: 450, remaining: 0, reset: Math.floor(Date.now() / 1000) + 1 }
    const { collector, log } = harness()
    const started = Date.now()
    const summary = await collector.run()
    expect(summary.outcome).toBe('success')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(log.lines.some((l: any) => l.event?.action === 'collector-rate-limit-wait')).toBe(true)
    expect((await snapshot()).tweets).toHaveLength(1)
  })

  test('when the reset is further away than COLLECT_MAX_WAIT, then the hashtags are left for the next run, since_id unmoved', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    world.fake.rateLimit = { limit: 450, remaining: 0, reset: Math.floor(Date.now() / 1000) + 900 }
    const { collector, registry } = harness({ maxWaitMs: 1_000 })
    const summary = await collector.run()
    expect(summary.outcome).toBe('failed')
    expect(summary.hashtags.map((h) => h.outcome)).toEqual(['rate_limited', 'rate_limited', 'rate_limited'])
    expect(summary.hashtags[0]!.reason).toContain('COLLECT_MAX_WAIT')
    // One request found the window spent; the others were not even sent.
    expect(world.fake.requests).toHaveLength(1)
    expect((await collectionState()).map((h) => [h.tag, h.newest_id, h.last_outcome])).toEqual([
      ['devops', null, 'rate_limited'],
      ['logmonitoring', null, 'rate_limited'],
      ['sre', null, 'rate_limited'],
    ])
    expect(await metric(registry, 'twitter_collector_api_requests_total')).toEqual([{ value: 1, labels: { status: '429' } }])

    world.fake.rateLimit = { limit: 450, remaining: 450, reset: Math.floor(Date.now() / 1000) + 900 }
    expect((await collector.run()).outcome).toBe('success')
    expect((await snapshot()).tweets).toHaveLength(1)
  })

  test('when the API answers 503 twice, then the request is retried with backoff and succeeds', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    world.fake.faults.push(
      { tag: 'devops', status: 503, body: { title: 'Service Unavailable', status: 503 } },
      { tag: 'devops', status: 503, body: { title: 'Service Unavailable', status: 503 } },
    )
    const { collector, registry, log } = harness()
    const summary = await collector.run()
    expect(summary.outcome).toBe('success')
    expect(world.fake.requestsFor('devops')).toHaveLength(3)
    const requests = await metric(registry, 'twitter_collector_api_requests_total')
    expect(requests.find((v) => v.labels.status === '503')?.value).toBe(2)
    expect(log.lines.filter((l: any) => l.event?.action === 'collector-retry').map((l: any) => l.twitter.delay_ms)).toEqual([
      250, 500,
    ])
  })

  test('when the API keeps failing, then the hashtag fails after the retries and the others are collected', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops #sre', tags: ['devops', 'sre'], minutesAgo: 10 }])
    for (let i = 0; i < 4; i++) world.fake.faults.push({ tag: 'devops', status: 500, body: { title: 'Internal Error' } })
    const { collector } = harness({ retries: 3 })
    const summary = await collector.run()
    expect(summary.outcome).toBe('partial')
    expect(summary.hashtags.map((h) => h.outcome)).toEqual(['failed', 'ok', 'ok'])
    expect(world.fake.requestsFor('devops')).toHaveLength(4)
  })

  test('when a request times out, then it is retried', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    world.fake.faults.push({ tag: 'devops', delayMs: 1_500, status: 200, body: { meta: { result_count: 0 } } })
    const { collector } = harness({ twitter: { ...collectorConfig().twitter, timeoutMs: 300 } })
    const summary = await collector.run()
    expect(summary.hashtags[0]).toMatchObject({ tag: 'devops', outcome: 'ok', tweets: 1 })
  })

  test('when the token is refused (401), then the run stops at once with one clear error that never shows the token', async () => {
    const { collector, log } = harness({ twitter: { ...collectorConfig().twitter, bearerToken: 'wrong-token-SECRET123' } })
    const summary = await collector.run()
    expect(summary.outcome).toBe('failed')
    expect(summary.reason).toBe('the X API rejected the bearer token (401 Unauthorized): check TWITTER_BEARER_TOKEN')
    expect(summary.hashtags.map((h) => h.outcome)).toEqual(['unauthorized', 'skipped', 'skipped'])
    expect(world.fake.requests).toHaveLength(1)
    const text = JSON.stringify(log.lines)
    expect(text).not.toContain('SECRET123')
    expect(text).not.toContain(world.fake.token)
  })

  test('when access is forbidden (403), then the run stops and says why', async () => {
    world.fake.faults.push({
      status: 403,
      body: { title: 'Client Forbidden', reason: 'client-not-enrolled', type: 'https://api.x.com/2/problems/client-forbidden' },
    })
    const summary = await harness().collector.run()
    expect(summary.reason).toContain('403 Client Forbidden: client-not-enrolled')
    expect(summary.hashtags.map((h) => h.outcome)).toEqual(['unauthorized', 'skipped', 'skipped'])
  })

  test('when the monthly usage cap is hit, then the run stops without waiting', async () => {
    world.fake.faults.push({
      status: 429,
      body: { title: 'UsageCapExceeded', period: 'Monthly', type: 'https://api.x.com/2/problems/usage-capped' },
    })
    const summary = await harness().collector.run()
    expect(summary.hashtags.map((h) => h.outcome)).toEqual(['usage_capped', 'skipped', 'skipped'])
  })

  test.each([
    ['a body that is not JSON', { raw: '{"data": [' }],
    ['a page that is not a search response', { body: { data: 'oops', meta: { result_count: 1 } } }],
    ['a page whose meta is missing', { transform: (p: any) => ({ data: p.data, includes: p.includes }) }],
  ])('when page 2 is %s, then page 1 stays, nothing of page 2 is stored, and the next run completes', async (_, fault) => {
    world.fake.pageSize = 1
    world.fake.addTweets(alice, [
      { text: 'old #devops', tags: ['devops'], minutesAgo: 20 },
      { text: 'new #devops', tags: ['devops'], minutesAgo: 10 },
    ])
    world.fake.faults.push({ tag: 'devops', page: 2, ...fault })
    const { collector, log } = harness()
    const summary = await collector.run()
    expect(summary.hashtags[0]).toMatchObject({ tag: 'devops', outcome: 'malformed', pages: 1 })
    expect((await snapshot()).tweets.map((t) => t.text)).toEqual(['new #devops'])
    expect((await snapshot()).hashtags.find((h) => h.tag === 'devops').newest_id).toBeNull()
    const stopped = log.lines.find((l: any) => l.event?.action === 'collector-hashtag-stopped') as any
    expect(stopped.twitter).toMatchObject({ hashtag: 'devops', outcome: 'malformed', page: 2 })

    expect((await collector.run()).outcome).toBe('success')
    expect((await snapshot()).tweets.map((t) => t.text).sort()).toEqual(['new #devops', 'old #devops'])
  })

  test('when a page carries the partial-error array, then the rest of it is stored and the errors are logged with hashtag and page', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    const error = {
      value: '42',
      detail: 'Could not find user with id: [42].',
      title: 'Not Found Error',
      resource_type: 'user',
      parameter: 'id',
      resource_id: '42',
      type: 'https://api.twitter.com/2/problems/resource-not-found',
    }
    world.fake.faults.push({
      tag: 'devops',
      transform: (p) => ({
        ...p,
        data: [
          ...p.data,
          { id: '43', text: 'orphan #devops', author_id: '42', created_at: new Date().toISOString(), lang: 'en' },
        ],
        errors: [error],
      }),
    })
    const { collector, log } = harness()
    const summary = await collector.run()
    expect(summary.hashtags[0]).toMatchObject({ tag: 'devops', outcome: 'ok', partialErrors: 1, newTweets: 1 })
    expect((await snapshot()).tweets.map((t) => t.text)).toEqual(['x #devops'])
    const warning = log.lines.find((l: any) => l.event?.action === 'collector-partial-errors') as any
    expect(warning.twitter).toMatchObject({ hashtag: 'devops', page: 1, errors: [error], errors_count: 1 })
    const skipped = log.lines.find((l: any) => l.event?.action === 'collector-tweets-skipped') as any
    expect(skipped.twitter).toMatchObject({ hashtag: 'devops', page: 1, skipped: [{ id: '43', reason: 'author_missing' }] })
  })

  test('when the stored since_id is refused by the API, then it is dropped and the hashtag collected without it', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    world.fake.faults.push({
      tag: 'devops',
      status: 400,
      body: {
        errors: [{ parameters: { since_id: ['1'] }, message: 'Invalid since_id' }],
        title: 'Invalid Request',
        type: 'https://api.x.com/2/problems/invalid-request',
      },
    })
    const refused = snowflakeAt(Date.now() - 3_600_000)
    await world.database.admin.query("INSERT INTO hashtags (tag, newest_id) VALUES ('devops', ?)", [refused])
    const summary = await harness().collector.run()
    expect(summary.hashtags[0]).toMatchObject({ tag: 'devops', outcome: 'ok', tweets: 1 })
    expect(world.fake.requestsFor('devops').map((r) => r.sinceId)).toEqual([refused, null])
  })

  test('when the stored since_id is older than the seven-day window, then it is not sent at all', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    const aged = snowflakeAt(Date.now() - 8 * 24 * 3_600_000)
    await world.database.admin.query("INSERT INTO hashtags (tag, newest_id) VALUES ('devops', ?)", [aged])
    await harness().collector.run()
    expect(world.fake.requestsFor('devops').map((r) => r.sinceId)).toEqual([null])
    expect(world.fake.violations).toEqual([])
  })
})

describe('storage', () => {
  test('when pages are stored run after run, then the kept counts equal counts rebuilt from the rows', async () => {
    const users = [alice, bob, { id: '300', username: 'carol', name: 'Carol', followers_count: 5 }]
    const { collector } = harness()
    for (let round = 0; round < 3; round++) {
      for (const [i, user] of users.entries()) {
        world.fake.addTweets(user, [
          { text: 'a', tags: ['devops'], lang: 'en', minutesAgo: 500 - round * 60 - i },
          { text: 'b', tags: ['DevOps', 'sre'], lang: 'pt', minutesAgo: 400 - round * 60 - i },
          { text: 'c', tags: ['sre'], lang: 'ja', minutesAgo: 300 - round * 60 - i * 17 },
        ])
      }
      await collector.run()
    }
    // The second run of the same data adds nothing.
    await collector.run()
    const view = async () => {
      const [perHashtag] = await world.database.admin.query(
        'SELECT hashtag, lang, quarter, tweets FROM hashtag_counts WHERE tweets > 0 ORDER BY 1, 2, 3',
      )
      const [perTweet] = await world.database.admin.query(
        'SELECT lang, quarter, SUM(first_seen) AS tweets FROM hashtag_counts GROUP BY 1, 2 HAVING tweets > 0 ORDER BY 1, 2',
      )
      return { perHashtag, perTweet }
    }
    const kept = await view()
    await rebuildCounts(world.database.writer)
    expect(await view()).toEqual(kept)
    const [[distinct]] = (await world.database.admin.query('SELECT COUNT(DISTINCT id) AS n FROM tweets')) as any
    expect((kept.perTweet as any[]).reduce((sum, row) => sum + Number(row.tweets), 0)).toBe(Number(distinct.n))
  })

  test('when a page cannot be written (its insert waits on a lock past the timeout), then none of it is stored', async () => {
    const [tweet] = world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    const short = await createTestDatabase({ queryTimeoutMs: 500 })
    try {
      // A locking read of the tweet's key holds its gap: the collector's INSERT has to wait.
      await short.admin.query('BEGIN')
      await short.admin.query('SELECT id FROM tweets WHERE id = ? FOR UPDATE', [tweet!.id])
      const config = collectorConfig({ hashtags: ['devops'] })
      const collector = createCollector({
        db: short.writer,
        config,
        logger: createLogger({ destination: new CapturedLog() }),
        metrics: createCollectorMetrics(new Registry()),
        source: createXApiSource(config),
      })
      const summary = await collector.run()
      await short.admin.query('COMMIT')
      expect(summary.hashtags[0]).toMatchObject({ outcome: 'failed', pages: 1 })
      // The users upsert ran before the blocked insert, in the same transaction: rolled back with it.
      const [[counts]] = (await short.admin.query(
        'SELECT (SELECT COUNT(*) FROM users) u, (SELECT COUNT(*) FROM tweets) t',
      )) as any
      expect([Number(counts.u), Number(counts.t)]).toEqual([0, 0])
      expect((await collector.run()).outcome).toBe('success')
      const [[after]] = (await short.admin.query('SELECT (SELECT COUNT(*) FROM users) u, (SELECT COUNT(*) FROM tweets) t')) as any
      expect([Number(after.u), Number(after.t)]).toEqual([1, 1])
    } finally {
      await short.admin.query('ROLLBACK').catch(() => {})
      await short.drop()
    }
  })

  test('when two collectors start together on one database, then exactly one collects and the other says so', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 10 }])
    world.fake.faults.push({ tag: 'devops', delayMs: 500, transform: (p) => p })
    const one = harness()
    const two = harness()
    const summaries = await Promise.all([one.collector.run(), two.collector.run()])
    expect(summaries.map((s) => s.outcome).sort()).toEqual(['skipped', 'success'])
    expect(summaries.find((s) => s.outcome === 'skipped')!.reason).toContain('another process holds the collector lock')
    expect(world.fake.requestsFor('devops')).toHaveLength(1)
  })
})
