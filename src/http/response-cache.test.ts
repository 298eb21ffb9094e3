import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { brotliDecompressSync } from 'node:zlib'
import { Registry } from 'prom-client'
import { CapturedLog, type RunningApp, startApp } from '../../test/support/app'
import { useTestApp } from '../../test/support/app-world'
import { createTestDatabase, type TestDatabase } from '../../test/support/database'
import { FakeXApi } from '../../test/support/fake-x-api'
import { bumpVersionAndWait } from '../../test/support/fixtures'
import { createCollector } from '../collector'
import { createXApiSource } from '../collector/x-api-source'
import { loadConfig } from '../config'
import { FRESHNESS_MS, versionGate } from '../db/data-version'
import { createLogger } from '../observability/logger'
import { createCollectorMetrics } from '../observability/metrics'
import { CODINGS, type Coding } from './compression'
import { createResponseCache, type ResponseHeaders, type Versions } from './response-cache'

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
    expect(etag).toMatch(/^"\d+-[0-9a-z]+(-br)?"$/)
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

describe('compressed variants of kept answers', () => {
  const world = useTestApp({ coreData: true })
  const PAGE = '/api/v1/resources/tweets/all'

  const get = (path: string, headers: Record<string, string> = {}) => fetch(world.app.url + path, { headers, decompress: false })
  const compressions = () => ({ ...world.app.cache.stats().compressions })
  const plus = (before: Record<Coding, number>, coding: Coding, n: number) => ({ ...before, [coding]: before[coding] + n })

  test('when a page is asked for in each coding, then each representation has its own ETag, and a 304 holds for that one only', async () => {
    const plain = await get(PAGE)
    const identity = plain.headers.get('etag')!
    const etags: Record<string, string> = { identity }
    for (const coding of CODINGS) {
      const response = await get(PAGE, { 'accept-encoding': coding })
      expect(response.headers.get('content-encoding')).toBe(coding)
      etags[coding] = response.headers.get('etag')!
      expect(etags[coding]).toBe(`${identity.slice(0, -1)}-${coding}"`)
    }
    expect(new Set(Object.values(etags)).size).toBe(4)

    // Held and asked for alike: 304, with the representation's validators and Vary.
    const held = await get(PAGE, { 'accept-encoding': 'gzip', 'if-none-match': etags.gzip! })
    expect(held.status).toBe(304)
    expect(held.headers.get('etag')).toBe(etags.gzip!)
    expect(held.headers.get('vary')).toBe('Accept, Accept-Encoding')
    expect(await held.text()).toBe('')
    expect((await get(PAGE, { 'if-none-match': identity })).status).toBe(304)
    expect((await get(PAGE, { 'accept-encoding': 'br', 'if-none-match': `W/${etags.br}` })).status).toBe(304)
    expect((await get(PAGE, { 'accept-encoding': 'br', 'if-none-match': `${etags.gzip}, ${etags.br}` })).status).toBe(304)

    // Held, but the request would now get another representation: 200 with that one.
    const withoutGzip = await get(PAGE, { 'if-none-match': etags.gzip! })
    expect(withoutGzip.status).toBe(200)
    expect(withoutGzip.headers.get('etag')).toBe(identity)
    expect(withoutGzip.headers.get('content-encoding')).toBeNull()
    const nowBr = await get(PAGE, { 'accept-encoding': 'br', 'if-none-match': identity })
    expect(nowBr.status).toBe(200)
    expect(nowBr.headers.get('etag')).toBe(etags.br!)
    expect((await get(PAGE, { 'accept-encoding': 'zstd', 'if-none-match': etags.br! })).status).toBe(200)
  })

  test('when many clients ask for the same coding, then the variant is compressed once per version and then only served', async () => {
    const path = `${PAGE}?limit=99`
    const before = compressions()
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(path, { 'accept-encoding': 'br' })))
    const bodies = await Promise.all(answers.map(async (response) => Buffer.from(await response.arrayBuffer())))
    expect(new Set(bodies.map((body) => body.toString('base64'))).size).toBe(1)
    for (let i = 0; i < 20; i++) await (await get(path, { 'accept-encoding': 'br' })).arrayBuffer()
    expect(compressions()).toEqual(plus(before, 'br', 1))
    await (await get(path, { 'accept-encoding': 'gzip' })).arrayBuffer()
    await (await get(path, { 'accept-encoding': 'gzip' })).arrayBuffer()
    expect(compressions()).toEqual(plus(plus(before, 'br', 1), 'gzip', 1))
    // A client that holds the variant gets its 304 without any compression either.
    const etag = answers[0]!.headers.get('etag')!
    expect((await get(path, { 'accept-encoding': 'br', 'if-none-match': etag })).status).toBe(304)
    expect(compressions()).toEqual(plus(plus(before, 'br', 1), 'gzip', 1))
  })

  test('when a variant is added, then the cache counts its bytes against the budget', async () => {
    const path = `${PAGE}?limit=98`
    const empty = world.app.cache.stats().bytes
    const plain = Buffer.from(await (await get(path)).arrayBuffer())
    const withPlain = world.app.cache.stats().bytes
    expect(withPlain - empty).toBeGreaterThanOrEqual(plain.byteLength)
    const br = Buffer.from(await (await get(path, { 'accept-encoding': 'br' })).arrayBuffer())
    const withBr = world.app.cache.stats().bytes
    expect(withBr - withPlain).toBeGreaterThanOrEqual(br.byteLength)
    expect(withBr - withPlain).toBeLessThan(br.byteLength + 1024)
    expect(brotliDecompressSync(br).equals(plain)).toBe(true)
  })

  test('when the data version changes, then the variants of the old version are dropped and compressed anew', async () => {
    const path = `${PAGE}?limit=97`
    const first = await get(path, { 'accept-encoding': 'br' })
    await first.arrayBuffer()
    const bytes = world.app.cache.stats().bytes
    const before = compressions()
    await bumpVersionAndWait(world.database.admin)
    const plain = await get(path)
    await plain.arrayBuffer()
    // The new version's plain answer took the old entry's place, its variant with it.
    expect(world.app.cache.stats().bytes).toBeLessThan(bytes)
    const again = await get(path, { 'accept-encoding': 'br', 'if-none-match': first.headers.get('etag')! })
    expect(again.status).toBe(200)
    expect(again.headers.get('etag')).not.toBe(first.headers.get('etag'))
    expect(again.headers.get('etag')).toBe(`${plain.headers.get('etag')!.slice(0, -1)}-br"`)
    expect(compressions()).toEqual(plus(before, 'br', 1))
  })
})

describe('compression without the cache (RESPONSE_CACHE_MB=0)', () => {
  const fixed: Versions = { current: async () => '7', known: () => '7', invalidate: () => {} }
  const big = { data: Array.from({ length: 100 }, (_, i) => ({ id: String(i), text: `tweet ${i} #devops` })) }
  const request = (headers: Record<string, string> = {}) => new Request('http://localhost/x', { headers })
  const noHeaders = (): ResponseHeaders => ({ headers: {} })

  test('when nothing is kept, then every request is compressed for itself, in the coding it asked for', async () => {
    const cache = createResponseCache(fixed, 0, 1_000)
    let computed = 0
    const compute = async () => {
      computed++
      return { body: big }
    }
    const plain = Buffer.from(await (await cache.respond(request(), noHeaders(), 'k', compute)).arrayBuffer())
    for (let i = 0; i < 3; i++) {
      const response = await cache.respond(request({ 'accept-encoding': 'br' }), noHeaders(), 'k', compute)
      expect(response.headers.get('content-encoding')).toBe('br')
      expect(response.headers.get('vary')).toBe('Accept-Encoding')
      expect(brotliDecompressSync(Buffer.from(await response.arrayBuffer())).equals(plain)).toBe(true)
    }
    expect({ computed, compressions: cache.stats().compressions, bytes: cache.stats().bytes }).toEqual({
      computed: 4,
      compressions: { br: 3, zstd: 0, gzip: 0 },
      bytes: 0,
    })
  })

  test('when a Vary is already set (CORS sets Origin), then Accept-Encoding joins it', async () => {
    const cache = createResponseCache(fixed, 1024 * 1024, 1_000)
    const compute = async () => ({ body: big })
    for (const accept of ['br', 'identity']) {
      const set: ResponseHeaders = { headers: { vary: 'Origin', 'x-request-id': 'r1' } }
      const response = await cache.respond(request({ 'accept-encoding': accept }), set, 'k', compute)
      expect(response.headers.get('vary')).toBe('Origin, Accept-Encoding')
      expect(response.headers.get('x-request-id')).toBe('r1')
    }
  })
})
