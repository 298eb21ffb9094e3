import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { Registry } from 'prom-client'
import { CapturedLog, type RunningApp, startApp } from '../../test/support/app'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { FakeXApi } from '../../test/support/fake-x-api'
import { createCollector } from '../collector'
import { createXApiSource } from '../collector/x-api-source'
import { loadConfig } from '../config'
import { FRESHNESS_MS, versionGate } from '../db/data-version'
import { createLogger } from '../observability/logger'
import { createCollectorMetrics } from '../observability/metrics'

let database: TestDatabase
let fake: FakeXApi
/** Two replicas of the API on one database, each with its own cache. */
let one: RunningApp
let two: RunningApp

beforeAll(async () => {
  database = await createTestDatabase()
  fake = await new FakeXApi().start()
  one = startApp(database.db)
  two = startApp(database.db)
})

afterAll(async () => {
  await one?.stop()
  await two?.stop()
  fake?.stop()
  await database?.drop()
})

afterEach(() => {
  fake.faults.splice(0)
})

function collector(onCommit?: () => void) {
  const config = loadConfig({
    TWITTER_BEARER_TOKEN: fake.token,
    TWITTER_API_BASE_URL: fake.baseUrl,
    TWITTER_API_CA_FILE: fake.caFile,
    HASHTAGS: 'devops',
  }).collector
  return createCollector({
    db: database.writer,
    config,
    logger: createLogger({ destination: new CapturedLog() }),
    metrics: createCollectorMetrics(new Registry()),
    source: createXApiSource(config),
    ...(onCommit === undefined ? {} : { onCommit }),
  })
}

const tweetCount = async (app: RunningApp) =>
  ((await (await fetch(`${app.url}/api/v1/resources/tweets/all?limit=1000`)).json()) as any).data.length

let minute = 1_000
const addTweet = () =>
  fake.addTweets({ id: '42', username: 'a', name: 'A', followers_count: 1 }, [
    { text: `t${minute} #devops`, tags: ['devops'], minutesAgo: minute-- },
  ])

describe('answers kept per data version', () => {
  test('when an answer is asked again, then it carries the same ETag, and If-None-Match gets a 304 without a body', async () => {
    const first = await fetch(`${one.url}/api/v1/resources/hashtags/all`)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"\d+-[0-9a-z]+"$/)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    const again = await fetch(`${one.url}/api/v1/resources/hashtags/all`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect(again.headers.get('etag')).toBe(etag)
    const other = await fetch(`${one.url}/api/v1/resources/tweets/all?limit=5`)
    expect(other.headers.get('etag')).not.toBe(etag)
    expect((await fetch(`${one.url}/api/v1/resources/hashtags/all`, { headers: { 'if-none-match': '"0-x", *' } })).status).toBe(
      304,
    )
  })

  test('when the collector commits in this process, then the next answer shows it at once', async () => {
    await tweetCount(one)
    const before = await tweetCount(one)
    addTweet()
    // The collector of this process tells the cache about each commit.
    const summary = await collector(() => one.cache.invalidate()).run()
    expect(summary.outcome).toBe('success')
    expect(await tweetCount(one)).toBe(before + 1)
  })

  test('when a collection run finishes in another process, then no replica answers from before it', async () => {
    // Both replicas have the current answers cached and are busy answering.
    const before = await tweetCount(two)
    await tweetCount(one)
    let stop = false
    const load = Promise.all(
      [one, two].map(async (app) => {
        while (!stop) await tweetCount(app)
      }),
    )
    addTweet()
    addTweet()
    // No invalidation reaches these replicas: only the run's commit wait stands between its commits and their answers.
    await collector().run()
    const [a, b] = await Promise.all([tweetCount(one), tweetCount(two)])
    stop = true
    await load
    expect([a, b]).toEqual([before + 2, before + 2])
  })

  test('when the ETag a client holds predates a commit, then it gets the new answer, not a 304', async () => {
    const response = await fetch(`${two.url}/api/v1/resources/tweets/all?limit=1000`)
    const etag = response.headers.get('etag')!
    addTweet()
    await collector().run()
    const after = await fetch(`${two.url}/api/v1/resources/tweets/all?limit=1000`, { headers: { 'if-none-match': etag } })
    expect(after.status).toBe(200)
    expect(after.headers.get('etag')).not.toBe(etag)
  })
})

describe('version reads', () => {
  test('when many requests arrive together, then one read serves them; within the freshness window, none is needed', async () => {
    let reads = 0
    let release: (value: string) => void = () => {}
    const gate = versionGate(() => {
      reads++
      return new Promise((resolve) => {
        release = resolve
      })
    })
    const waiting = Array.from({ length: 50 }, () => gate.current())
    expect(reads).toBe(1)
    release('7')
    expect(await Promise.all(waiting)).toEqual(Array(50).fill('7'))
    expect(gate.known()).toBe('7')
    expect(await gate.current()).toBe('7')
    expect(reads).toBe(1)
  })

  test('when the last read is older than the window, or a local commit invalidated it, then a new read is made', async () => {
    let reads = 0
    const gate = versionGate(async () => String(++reads), 20)
    expect(await gate.current()).toBe('1')
    await Bun.sleep(30)
    expect(gate.known()).toBeNull()
    expect(await gate.current()).toBe('2')
    gate.invalidate()
    expect(gate.known()).toBeNull()
    expect(await gate.current()).toBe('3')
  })

  test('the window the collector waits out is the one replicas trust', () => {
    expect(FRESHNESS_MS).toBeGreaterThan(0)
    expect(FRESHNESS_MS).toBeLessThanOrEqual(100)
  })
})
