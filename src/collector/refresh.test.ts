import { describe, expect, test } from 'bun:test'
import type { Registry } from 'prom-client'
import { collectorConfigFor, collectorHarness, useCollectorWorld } from '../../test/support/collector'
import type { FakeMetrics, FakeUser } from '../../test/support/fake-x-api'
import { createSampleSource, SAMPLE_FILE } from './sample-source'
import { createXApiSource } from './x-api-source'

/**
 * The metrics refresh of a run against the fake X API, with the real twitter-api-v2 client and a
 * real database: what it looks up, within which budget, and what it does with each kind of answer.
 */

const world = useCollectorWorld()

const alice: FakeUser = { id: '1999999999999999999', username: 'alice', name: 'Alice', followers_count: 1200 }

const harness = (env: Record<string, string> = {}) =>
  collectorHarness(world.database.writer, collectorConfigFor(world.fake, { HASHTAGS: 'devops', ...env }))

const metric = async (registry: Registry, name: string) => (await registry.getSingleMetric(name)!.get()).values

const likes = (like_count: number, impression_count?: number): FakeMetrics => ({
  like_count,
  retweet_count: 2,
  reply_count: 3,
  quote_count: 4,
  ...(impression_count === undefined ? {} : { impression_count }),
})

/** `count` #devops tweets, one a minute from `minutesAgo` back, without metrics in their search results. */
const addTweets = (count: number, minutesAgo = count) =>
  world.fake.addTweets(
    alice,
    Array.from({ length: count }, (_, i) => ({ text: `t${i} #devops`, tags: ['devops'], minutesAgo: minutesAgo - i })),
  )

async function storedMetrics() {
  const [rows] = await world.database.admin.query(
    'SELECT id, likes, retweets, replies, quotes, impressions, engagement, kind, updated_at FROM tweet_metrics ORDER BY id',
  )
  return rows as any[]
}

const lookedUpIds = () => world.fake.lookups.flatMap((l) => l.ids)

describe('refreshing the metrics of young tweets', () => {
  test('when the metrics of stored tweets grew, then the next run reads them through the post lookup and stores them', async () => {
    const [one, two] = world.fake.addTweets(alice, [
      { text: 'one #devops', tags: ['devops'], minutesAgo: 50, metrics: likes(1, 10) },
      { text: 'two #devops', tags: ['devops'], minutesAgo: 40, metrics: likes(5, 50), referenced: [{ type: 'quoted', id: '7' }] },
    ])
    const { collector, registry, log } = harness()
    const first = await collector.run()
    // The search has just read both: the same run does not pay for them again.
    expect(world.fake.lookups).toEqual([])
    expect(first.metricsRefresh).toMatchObject({ outcome: 'ok', requests: 0 })
    expect((await storedMetrics()).map((m) => m.likes)).toEqual(['1', '5'])
    const [versionBefore] = (await world.database.admin.query('SELECT version FROM data_version')) as any

    world.fake.tweet(one!.id).metrics = likes(100, 1000)
    // impression_count left out, as the API does for some posts: stored as NULL, never 0.
    world.fake.tweet(two!.id).metrics = likes(250)
    const second = await collector.run()

    expect(world.fake.lookups).toHaveLength(1)
    expect(world.fake.lookups[0]!.ids.sort()).toEqual([one!.id, two!.id].sort())
    expect(world.fake.lookups[0]!.authorization).toBe(`Bearer ${world.fake.token}`)
    expect(world.fake.violations).toEqual([])
    expect(second.metricsRefresh).toMatchObject({ outcome: 'ok', requests: 1, lookedUp: 2, updated: 2, notFound: 0, skipped: 0 })
    const rows = await storedMetrics()
    expect(rows.map(({ updated_at, ...row }) => row)).toEqual([
      {
        id: one!.id,
        likes: '100',
        retweets: '2',
        replies: '3',
        quotes: '4',
        impressions: '1000',
        engagement: '109',
        kind: 'original',
      },
      {
        id: two!.id,
        likes: '250',
        retweets: '2',
        replies: '3',
        quotes: '4',
        impressions: null,
        engagement: '259',
        kind: 'quote',
      },
    ])
    const [versionAfter] = (await world.database.admin.query('SELECT version FROM data_version')) as any
    expect(versionAfter[0].version).not.toBe(versionBefore[0].version)
    expect(await metric(registry, 'twitter_collector_lookup_posts_total')).toEqual([{ value: 2, labels: {} }])
    const line = log.lines.findLast((l: any) => l.event?.action === 'collector-metrics-refreshed') as any
    expect(line.twitter).toMatchObject({
      outcome: 'ok',
      lookup_requests: 1,
      lookup_posts: 2,
      metrics_updated: 2,
      lookup_not_found: 0,
    })
    expect(line.message).toContain('1 lookup requests (0 failed), 2 posts looked up, 2 updated, 0 not found')
  })

  test('when METRICS_REFRESH_REQUESTS is 0, then no lookup is sent', async () => {
    addTweets(3)
    const { collector, registry } = harness({ METRICS_REFRESH_REQUESTS: '0' })
    const summary = await collector.run()
    expect(summary.outcome).toBe('success')
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'off', requests: 0 })
    expect(world.fake.lookups).toEqual([])
    expect(await storedMetrics()).toEqual([])
    expect(await metric(registry, 'twitter_collector_lookup_posts_total')).toEqual([{ value: 0, labels: {} }])
  })

  test('when more tweets are young than the budget covers, then at most that many requests of 100 go, and the next run starts with the rest', async () => {
    const tweets = addTweets(250)
    const { collector } = harness({ METRICS_REFRESH_REQUESTS: '2' })
    const first = await collector.run()
    expect(world.fake.lookups.map((l) => l.ids.length)).toEqual([100, 100])
    expect(new Set(lookedUpIds()).size).toBe(200)
    expect(first.metricsRefresh).toMatchObject({ outcome: 'ok', requests: 2, lookedUp: 200, updated: 200 })
    expect(await storedMetrics()).toHaveLength(200)

    // Never measured first: the 50 left over lead the next run's first request.
    const left = tweets.map((t) => t.id).filter((id) => !lookedUpIds().includes(id))
    expect(left).toHaveLength(50)
    await collector.run()
    expect(world.fake.lookups).toHaveLength(4)
    expect(world.fake.lookups[2]!.ids.slice(0, 50).sort()).toEqual(left.sort())
    expect(await storedMetrics()).toHaveLength(250)
  })

  test('when some stored tweets are older than METRICS_REFRESH_MAX_AGE, then only the younger ones are looked up', async () => {
    const [old] = world.fake.addTweets(alice, [{ text: 'old #devops', tags: ['devops'], minutesAgo: 180 }])
    const young = addTweets(3, 60)
    await harness({ METRICS_REFRESH_MAX_AGE: '2h' }).collector.run()
    expect(lookedUpIds().sort()).toEqual(young.map((t) => t.id).sort())
    expect((await storedMetrics()).map((m) => m.id)).not.toContain(old!.id)
  })

  test('when a post was deleted since it was stored, then it is counted as not found and the others are stored', async () => {
    const [gone, kept] = addTweets(2)
    await harness({ METRICS_REFRESH_REQUESTS: '0' }).collector.run()
    world.fake.tweets.splice(world.fake.tweets.indexOf(world.fake.tweet(gone!.id)), 1)
    const summary = await harness().collector.run()
    expect(world.fake.lookups[0]!.ids.sort()).toEqual([gone!.id, kept!.id].sort())
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'ok', requests: 1, lookedUp: 1, updated: 1, notFound: 1 })
    expect((await storedMetrics()).map((m) => m.id)).toEqual([kept!.id])
  })

  test('when one post of an answer is malformed, then that post is left out and the rest is stored', async () => {
    const [bad, ...good] = addTweets(3)
    world.fake.faults.push({
      lookup: true,
      transform: (body) => ({
        ...body,
        data: body.data.map((t: any) => (t.id === bad!.id ? { ...t, public_metrics: { like_count: -1 } } : t)),
      }),
    })
    const summary = await harness().collector.run()
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'ok', lookedUp: 3, updated: 2, skipped: 1 })
    expect((await storedMetrics()).map((m) => m.id).sort()).toEqual(good.map((t) => t.id).sort())
  })

  test.each([
    ['a 503', { status: 503, body: { title: 'Service Unavailable', status: 503 } }, {}],
    ['not a lookup answer', { body: { data: 'oops' } }, {}],
    ['a body that is not JSON', { raw: '{"data": [' }, {}],
    [
      'a body over TWITTER_API_MAX_RESPONSE_MB',
      { raw: `{"data":"${'x'.repeat(1_100_000)}"}` },
      { TWITTER_API_MAX_RESPONSE_MB: '1' },
    ],
    ['after TWITTER_API_TIMEOUT', { delayMs: 1_500, transform: (body: any) => body }, { TWITTER_API_TIMEOUT: '300ms' }],
  ])('when a lookup answers %s, then its posts wait for the next run and the next lookup goes on', async (_, fault, env) => {
    addTweets(150)
    world.fake.faults.push({ lookup: true, page: 1, ...fault })
    const { collector, log } = harness({ METRICS_REFRESH_REQUESTS: '2', ...env })
    const summary = await collector.run()
    expect(world.fake.lookups).toHaveLength(2)
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'ok', requests: 2, failedRequests: 1, lookedUp: 50, updated: 50 })
    expect(log.lines.filter((l: any) => l.event?.action === 'collector-lookup-failed')).toHaveLength(1)
    // The posts not measured are the first asked for next time.
    const missed = world.fake.lookups[0]!.ids
    await collector.run()
    expect(world.fake.lookups[2]!.ids.sort()).toEqual(missed.sort())
  })

  test('when a lookup is rate limited, then the refresh stops at once without waiting, and the run still succeeds', async () => {
    addTweets(250)
    world.fake.faults.push({
      lookup: true,
      status: 429,
      body: { title: 'Too Many Requests', status: 429 },
      headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 2) },
    })
    const { collector } = harness({ METRICS_REFRESH_REQUESTS: '3', COLLECT_MAX_WAIT: '60s' })
    const started = performance.now()
    const summary = await collector.run()
    expect(performance.now() - started).toBeLessThan(1_500)
    expect(world.fake.lookups).toHaveLength(1)
    expect(summary.outcome).toBe('success')
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'rate_limited', requests: 1, updated: 0 })
  })

  test('when an answer says the window is spent, then no further lookup is sent into a 429', async () => {
    addTweets(250)
    world.fake.lookupRateLimit.remaining = 1
    const summary = await harness({ METRICS_REFRESH_REQUESTS: '3' }).collector.run()
    expect(world.fake.lookups).toHaveLength(1)
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'rate_limited', requests: 1, updated: 100 })
  })

  test.each([
    [
      'the usage cap',
      429,
      { title: 'UsageCapExceeded', period: 'Monthly', type: 'https://api.x.com/2/problems/usage-capped' },
      'usage_capped',
    ],
    ['forbidden', 403, { title: 'Client Forbidden', reason: 'client-not-enrolled' }, 'unauthorized'],
  ])('when a lookup hits %s, then the refresh stops after that request', async (_, status, body, outcome) => {
    addTweets(250)
    world.fake.faults.push({ lookup: true, status, body })
    const summary = await harness({ METRICS_REFRESH_REQUESTS: '3' }).collector.run()
    expect(world.fake.lookups).toHaveLength(1)
    expect(summary.metricsRefresh).toMatchObject({ outcome, requests: 1 })
  })

  test('when the run stopped before the refresh (a refused token), then no lookup is sent', async () => {
    addTweets(3)
    const config = collectorConfigFor(world.fake, { HASHTAGS: 'devops' })
    const wrong = { ...config, twitter: { ...config.twitter, bearerToken: 'wrong-token' } }
    const summary = await collectorHarness(world.database.writer, wrong).collector.run()
    expect(summary.hashtags[0]!.outcome).toBe('unauthorized')
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'skipped', requests: 0 })
    expect(world.fake.lookups).toEqual([])
  })

  test('when the source is asked for more than 100 ids at once, then nothing is sent', async () => {
    const source = createXApiSource(collectorConfigFor(world.fake))
    const ids = Array.from({ length: 101 }, (_, i) => String(i + 1))
    await expect(source.lookupTweets(ids)).rejects.toMatchObject({ failure: { kind: 'bad_request' } })
    expect(world.fake.lookups).toEqual([])
  })

  test('when the service stops during a lookup, then the run ends at once and stores nothing of it', async () => {
    addTweets(3)
    world.fake.faults.push({ lookup: true, delayMs: 10_000, transform: (body) => body })
    const { collector } = harness()
    const running = collector.run()
    while (world.fake.lookups.length === 0) await Bun.sleep(10)
    const started = performance.now()
    await collector.stop()
    expect(performance.now() - started).toBeLessThan(1_500)
    const summary = await running
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'interrupted', requests: 1, updated: 0 })
    expect(await storedMetrics()).toEqual([])
  })

  test('when the run reaches COLLECT_RUN_TIMEOUT during a lookup, then the refresh stops and says why', async () => {
    addTweets(3)
    world.fake.faults.push({ lookup: true, delayMs: 10_000, transform: (body) => body })
    const started = performance.now()
    const summary = await harness({ COLLECT_RUN_TIMEOUT: '1500ms' }).collector.run()
    expect(performance.now() - started).toBeLessThan(3_500)
    expect(summary.metricsRefresh).toMatchObject({ outcome: 'failed', requests: 1 })
    expect(summary.metricsRefresh!.reason).toContain('COLLECT_RUN_TIMEOUT')
  })
})

describe('the sample source', () => {
  // Fixed instants far from any test run: the sample and the collector must mean the same thing on any day.
  const instants = ['2011-03-01T08:00:00.000Z', '2031-07-15T03:30:00.000Z', '2077-12-31T21:00:00.000Z']
  for (const instant of instants) {
    test(`when the service collects from the sample twice, hours apart, at ${instant}, then the young tweets are measured and their metrics grow, never shrink`, async () => {
      let at = Date.parse(instant)
      const clock = () => at
      const source = createSampleSource(SAMPLE_FILE, clock(), clock)
      const config = { ...collectorConfigFor(world.fake, { COLLECT_SOURCE: 'sample' }), source: 'sample' as const }
      const { collector, registry } = collectorHarness(world.database.writer, config, source, clock)
      const first = await collector.run()
      expect(first.metricsRefresh!.outcome).toBe('ok')
      const before = new Map((await storedMetrics()).map((m) => [m.id, m]))
      expect(before.size).toBeGreaterThan(0)

      at += 6 * 3_600_000
      const second = await collector.run()
      // The second search finds nothing new: the sample's ids still follow its times.
      expect(second.hashtags.map((h) => h.newTweets)).toEqual(second.hashtags.map(() => 0))
      expect(second.metricsRefresh).toMatchObject({ outcome: 'ok', notFound: 0 })
      expect(second.metricsRefresh!.updated).toBeGreaterThan(0)
      const after = await storedMetrics()
      let grew = 0
      for (const row of after) {
        const old = before.get(row.id)
        if (old === undefined) continue
        for (const field of ['likes', 'retweets', 'replies', 'quotes', 'engagement'])
          expect({ id: row.id, field, shrank: Number(row[field]) < Number(old[field]) }).toEqual({
            id: row.id,
            field,
            shrank: false,
          })
        if (Number(row.engagement) > Number(old.engagement)) grew++
      }
      expect(grew).toBeGreaterThan(0)
      // Rows are dated by the collector's clock, not the machine's.
      expect(after.every((row) => Date.parse(`${row.updated_at.replace(' ', 'T')}Z`) <= at)).toBe(true)
      expect(after.some((row) => Date.parse(`${row.updated_at.replace(' ', 'T')}Z`) === at)).toBe(true)
      // The sample is not the X API: nothing it answers is billed.
      expect(await metric(registry, 'twitter_collector_lookup_posts_total')).toEqual([{ value: 0, labels: {} }])
      expect(world.fake.lookups).toEqual([])
    })
  }
})
