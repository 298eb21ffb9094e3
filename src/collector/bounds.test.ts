import { describe, expect, test } from 'bun:test'
import { addSlowPages, collectorConfigFor, collectorHarness, countsTable, useCollectorWorld } from '../../test/support/collector'
import type { FakeUser } from '../../test/support/fake-x-api'
import { rebuildCounts } from '../db/counts'
import { RATE_LIMIT_WAITS } from './fetch-policy'

/**
 * The collector's bounds against an X API that answers badly: every loop ends in attempts and in
 * time, every request has a deadline and a byte cap, one bad tweet costs that tweet.
 */

const world = useCollectorWorld()

const alice: FakeUser = { id: '1999999999999999999', username: 'alice', name: 'Alice', followers_count: 1200 }

const harness = (env: Record<string, string> = {}) =>
  collectorHarness(world.database.writer, collectorConfigFor(world.fake, { HASHTAGS: 'devops', ...env }))

const timed = async <T>(work: () => Promise<T>) => {
  const started = performance.now()
  const result = await work()
  return { result, ms: performance.now() - started }
}

/** A body that trickles out one byte every `everyMs`, for ever. */
const drip = (everyMs: number) =>
  new Response(
    new ReadableStream({
      async pull(controller) {
        await Bun.sleep(everyMs)
        controller.enqueue(new TextEncoder().encode(' '))
      },
    }),
    { headers: { 'content-type': 'application/json' } },
  )

describe('rate limits whose reset cannot be used', () => {
  test.each([
    ['in the past', () => String(Math.floor(Date.now() / 1000) - 3600)],
    ['zero', () => '0'],
    ['not a number', () => 'soon'],
    ['negative', () => '-5'],
    ['absurdly far', () => '1e300'],
  ])(
    'when a 429 says the reset is %s, then the run backs off a bounded number of times and names the rate limit',
    async (_, reset) => {
      world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 5 }])
      for (let i = 0; i < 20; i++) {
        world.fake.faults.push({
          status: 429,
          body: { title: 'Too Many Requests', status: 429 },
          headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset() },
        })
      }
      const { collector, log } = harness({ COLLECT_MAX_WAIT: '200ms' })
      const { result, ms } = await timed(() => collector.run())
      expect(result.hashtags[0]!.outcome).toBe('rate_limited')
      expect(result.hashtags[0]!.reason).toMatch(/rate limit|COLLECT_MAX_WAIT/)
      expect(world.fake.requestsFor('devops').length).toBeLessThanOrEqual(RATE_LIMIT_WAITS + 1)
      expect(ms).toBeLessThan(5_000)
      for (const line of log.lines) expect(JSON.stringify(line)).not.toContain('Invalid Date')
    },
  )

  test('when a 429 carries no rate-limit headers at all, then the run backs off instead of asking again at once', async () => {
    for (let i = 0; i < 20; i++) {
      world.fake.faults.push({
        respond: () =>
          new Response('{"title":"Too Many Requests","status":429}', {
            status: 429,
            headers: { 'content-type': 'application/problem+json' },
          }),
      })
    }
    const { collector, log } = harness({ COLLECT_MAX_WAIT: '300ms' })
    const { result } = await timed(() => collector.run())
    expect(result.hashtags[0]!.outcome).toBe('rate_limited')
    expect(world.fake.requests.length).toBeLessThanOrEqual(RATE_LIMIT_WAITS + 1)
    const waits = log.lines.filter((l: any) => l.event?.action === 'collector-rate-limit-wait')
    expect(waits.length).toBe(RATE_LIMIT_WAITS)
  })
})

describe('requests that never end', () => {
  test('when the body drips a byte at a time, then the request ends at TWITTER_API_TIMEOUT and the retries are bounded', async () => {
    for (let i = 0; i < 10; i++) world.fake.faults.push({ respond: () => drip(50) })
    const { collector } = harness({ TWITTER_API_TIMEOUT: '700ms', COLLECT_RETRIES: '1' })
    const { result, ms } = await timed(() => collector.run())
    expect(result.hashtags[0]).toMatchObject({ outcome: 'failed' })
    expect(result.hashtags[0]!.reason).toContain('TWITTER_API_TIMEOUT')
    expect(world.fake.requestsFor('devops')).toHaveLength(2)
    // Two requests of 0.7 s and one backoff of at most 0.5 s.
    expect(ms).toBeLessThan(3_500)
  })

  test('when the answer never comes and the collector is stopped, then the run ends at once as interrupted', async () => {
    world.fake.faults.push({ respond: () => drip(60_000) })
    const { collector } = harness({ TWITTER_API_TIMEOUT: '60s' })
    const running = collector.run()
    await Bun.sleep(300)
    const { ms } = await timed(() => collector.stop())
    expect(ms).toBeLessThan(1_500)
    expect((await running).hashtags[0]!.outcome).toBe('interrupted')
  })

  test('when every answer is slow, then COLLECT_RUN_TIMEOUT ends the run and frees the lock', async () => {
    addSlowPages(world.fake, alice, 20, { pages: 6, delayMs: 300 })
    const { collector } = harness({ COLLECT_RUN_TIMEOUT: '1s', MAX_PAGES_PER_HASHTAG: '20' })
    const { result, ms } = await timed(() => collector.run())
    expect(ms).toBeLessThan(2_500)
    expect(result.outcome).toBe('failed')
    expect(result.hashtags[0]!.reason).toContain('COLLECT_RUN_TIMEOUT')
    // Every page it stored is whole; the next run takes the lock and finishes.
    const next = await harness({ MAX_PAGES_PER_HASHTAG: '20' }).collector.run()
    expect(next.outcome).toBe('success')
    const [[count]] = (await world.database.admin.query('SELECT COUNT(*) AS n FROM tweets')) as any
    expect(Number(count.n)).toBe(20)
  })
})

describe('answers that are not pages', () => {
  test('when the body is larger than TWITTER_API_MAX_RESPONSE_MB, then it is cut off, not stored, and memory stays bounded', async () => {
    const chunk = new TextEncoder().encode(`${' '.repeat(1024 * 1024 - 1)}\n`)
    const huge = () => {
      let sent = 0
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (sent++ === 200) return controller.close()
            controller.enqueue(chunk)
          },
        }),
        { headers: { 'content-type': 'application/json' } },
      )
    }
    for (let i = 0; i < 5; i++) world.fake.faults.push({ respond: huge })
    const before = process.memoryUsage().rss
    const { collector } = harness({ TWITTER_API_MAX_RESPONSE_MB: '2' })
    const { result } = await timed(() => collector.run())
    expect(result.hashtags[0]!.outcome).toBe('failed')
    expect(result.hashtags[0]!.reason).toContain('TWITTER_API_MAX_RESPONSE_MB')
    expect(world.fake.requestsFor('devops')).toHaveLength(1)
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024)
  })

  test('when the API answers 200 with an empty body, then the outcome says so instead of blaming the page shape', async () => {
    world.fake.faults.push({ raw: '' })
    const result = await harness().collector.run()
    expect(result.hashtags[0]).toMatchObject({ outcome: 'malformed', reason: 'the X API sent an empty body, not JSON' })
  })

  test('when the API answers with a redirect, then it is not followed and the run says so', async () => {
    world.fake.faults.push({
      respond: () => new Response('{}', { status: 302, headers: { location: 'https://elsewhere.example/2/tweets' } }),
    })
    const { collector } = harness({ HASHTAGS: 'devops,sre' })
    const result = await collector.run()
    expect(result.hashtags.map((h) => h.outcome)).toEqual(['failed', 'skipped'])
    expect(result.reason).toContain('redirect')
    expect(world.fake.requests).toHaveLength(1)
  })

  test('when the certificate is not trusted, then the run names the TLS failure instead of "could not be reached"', async () => {
    const config = collectorConfigFor(world.fake, { HASHTAGS: 'devops' })
    const { collector } = collectorHarness(world.database.writer, {
      ...config,
      twitter: { ...config.twitter, caFile: undefined },
    })
    const result = await collector.run()
    expect(result.hashtags[0]!.outcome).toBe('failed')
    expect(result.reason).toContain('TLS certificate')
    expect(result.reason).toContain('TWITTER_API_CA_FILE')
  })
})

describe('pages with tweets that cannot be stored', () => {
  test('when a page mixes good tweets with unstorable ones, then only the bad ones are skipped, named, counted, and since_id moves on', async () => {
    const [good, other] = world.fake.addTweets(alice, [
      { text: 'good #devops', tags: ['devops'], minutesAgo: 3 },
      { text: "it's fine #devops", tags: ['devops'], minutesAgo: 2 },
    ])
    const now = new Date().toISOString()
    // The longest post X allows: 25,000 characters of 4 bytes, 100,000 bytes, more than TEXT holds.
    const longPost = { id: '904', text: '𠜎'.repeat(25_000), author_id: alice.id, created_at: now }
    const bad = [
      { id: '901', text: 'x'.repeat(16 * 1024 * 1024), author_id: alice.id, created_at: now }, // past MEDIUMTEXT
      { id: '902', text: 'feb 30 #devops', author_id: alice.id, created_at: '2026-02-30T10:00:00.000Z' },
      { id: '99999999999999999999', text: 'beyond 2^64 #devops', author_id: alice.id, created_at: now },
      { id: '903', text: 'absurd author #devops', author_id: '77', created_at: now },
      { text: 'no id #devops', author_id: alice.id, created_at: now },
    ]
    world.fake.faults.push({
      tag: 'devops',
      transform: (page) => ({
        ...page,
        data: [...page.data, page.data[0], longPost, ...bad],
        includes: {
          users: [...page.includes.users, { id: '77', username: 'big', name: 'Big', public_metrics: { followers_count: 1e300 } }],
        },
      }),
    })
    const { collector, log, registry } = harness({ TWITTER_API_MAX_RESPONSE_MB: '40' })
    const result = await collector.run()
    expect(result.hashtags[0]).toMatchObject({ outcome: 'ok', newTweets: 3, skippedTweets: 6 })
    const [rows] = (await world.database.admin.query('SELECT id, text FROM tweets ORDER BY id')) as any
    expect(rows.map((r: any) => [r.id, r.text])).toEqual([
      [longPost.id, longPost.text],
      [good!.id, 'good #devops'],
      [other!.id, "it's fine #devops"],
    ])
    const line = log.lines.find((l: any) => l.event?.action === 'collector-tweets-skipped') as any
    expect(line.twitter.skipped).toEqual([
      { id: other!.id, reason: 'duplicate' }, // the page's first (newest) tweet, sent again
      { id: '901', reason: 'text_too_long' },
      { id: '902', reason: 'bad_created_at' },
      { id: '99999999999999999999', reason: 'id_out_of_range' },
      { id: '903', reason: 'author_invalid' },
      { id: '', reason: 'malformed' },
    ])
    const metric = (await registry.getSingleMetric('twitter_collector_tweets_skipped_total')!.get()).values
    expect(Object.fromEntries(metric.map((v) => [v.labels.reason, v.value]))).toEqual({
      duplicate: 1,
      text_too_long: 1,
      bad_created_at: 1,
      id_out_of_range: 1,
      author_invalid: 1,
      malformed: 1,
    })
    const [[state]] = (await world.database.admin.query("SELECT newest_id FROM hashtags WHERE tag = 'devops'")) as any
    expect(state.newest_id).toBe(other!.id)
    await expectCountsMatchRows()
  })

  test('when the database refuses one tweet that passed every check, then only that tweet is skipped', async () => {
    const tweets = world.fake.addTweets(
      alice,
      ['a', 'b', 'poison', 'c', 'd'].map((text, i) => ({ text: `${text} #devops`, tags: ['devops'], minutesAgo: 10 - i })),
    )
    // A column narrower than the one page.ts checks against: a setting of this server that the checks
    // cannot know. (Not a CHECK constraint: TiDB leaves those off by default.)
    await world.database.admin.query('ALTER TABLE tweets MODIFY text VARCHAR(12) NOT NULL')
    const { collector, log } = harness()
    const result = await collector.run()
    expect(result.hashtags[0]).toMatchObject({ outcome: 'ok', newTweets: 4, skippedTweets: 1 })
    const [rows] = (await world.database.admin.query('SELECT text FROM tweets ORDER BY id')) as any
    expect(rows.map((r: any) => r.text)).toEqual(['a #devops', 'b #devops', 'c #devops', 'd #devops'])
    const line = log.lines.find((l: any) => l.event?.action === 'collector-tweets-skipped') as any
    expect(line.twitter.skipped).toEqual([
      { id: tweets[2]!.id, reason: 'refused_by_database', detail: expect.stringMatching(/\(\d+\)$/) },
    ])
    await expectCountsMatchRows()
  })

  test('when a page repeats a tweet id, then the counts still equal the rows', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops #sre', tags: ['devops', 'sre'], minutesAgo: 3 }])
    world.fake.faults.push({
      tag: 'devops',
      transform: (page) => ({ ...page, data: [page.data[0], page.data[0], page.data[0]] }),
    })
    const result = await collectorHarness(
      world.database.writer,
      collectorConfigFor(world.fake, { HASHTAGS: 'devops,sre' }),
    ).collector.run()
    expect(result.outcome).toBe('success')
    await expectCountsMatchRows()
  })
})

/** The kept counts equal counts rebuilt from the rows. */
async function expectCountsMatchRows() {
  const read = () => countsTable(world.database.admin)
  const kept = await read()
  await rebuildCounts(world.database.writer)
  expect(kept).toEqual(await read())
}

describe('a long run', () => {
  test('when a run makes many requests, then nothing piles up on a reused socket (no listener-leak warning)', async () => {
    addSlowPages(world.fake, alice, 30, { pages: 0, delayMs: 0 })
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.name)
    process.on('warning', onWarning)
    try {
      const result = await harness({ MAX_PAGES_PER_HASHTAG: '40' }).collector.run()
      expect(result.hashtags[0]).toMatchObject({ outcome: 'ok', pages: 30 })
      await Bun.sleep(50)
      expect(warnings).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('what a run reports', () => {
  test('when a page carries 20,000 partial errors, then they are counted and the log line stays small', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 3 }])
    const errors = Array.from({ length: 20_000 }, (_, i) => ({
      value: String(i),
      detail: `Could not find user with id: [${i}].`,
      title: 'Not Found Error',
      resource_type: 'user',
      parameter: 'id',
      resource_id: String(i),
      type: 'https://api.x.com/2/problems/resource-not-found',
    }))
    world.fake.faults.push({ tag: 'devops', transform: (page) => ({ ...page, errors }) })
    const { collector, log } = harness()
    const result = await collector.run()
    expect(result.hashtags[0]).toMatchObject({ outcome: 'ok', partialErrors: 20_000, newTweets: 1 })
    const line = log.lines.find((l: any) => l.event?.action === 'collector-partial-errors') as any
    expect(line.twitter.errors_count).toBe(20_000)
    expect(JSON.stringify(line).length).toBeLessThan(16 * 1024)
  })

  test('when a write fails on a missing table, then the outcome names the error, not the table or the statement', async () => {
    world.fake.addTweets(alice, [{ text: 'x #devops', tags: ['devops'], minutesAgo: 3 }])
    await world.database.admin.query('DROP TABLE hashtag_counts')
    const result = await harness().collector.run()
    expect(result.hashtags[0]!.outcome).toBe('failed')
    expect(result.hashtags[0]!.reason).toBe('the database refused the write: ER_NO_SUCH_TABLE (1146)')
  })
})
