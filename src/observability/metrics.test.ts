import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../../test/support/app-world'
import { TWEETS } from '../../test/support/core-data'
import { samples } from '../../test/support/metrics'

const world = useTestApp({ coreData: true })

const scrape = async () => {
  const response = await fetch(`${world.app.url}/metrics`)
  expect(response.headers.get('content-type')).toStartWith('text/plain')
  return response.text()
}

describe('GET /metrics', () => {
  test('when requests were made, then http_requests_total counts them exactly, by method, route template and status', async () => {
    const sent: [string, string, number][] = [
      ['GET', '/api/v1/resources/tweets/all', 7],
      ['GET', '/api/v1/resources/tweets?hash=devops', 5],
      ['GET', '/api/v1/resources/users/top5', 3],
      ['GET', '/api/v1/resources/tweets/all?limit=0', 4],
      ['POST', '/api/v1/resources/hashtags/all', 2],
    ]
    for (const [method, path, times] of sent) {
      for (let i = 0; i < times; i++) await (await fetch(world.app.url + path, { method })).arrayBuffer()
    }
    // Unknown paths, each different: one label value between them.
    for (let i = 0; i < 25; i++) await (await fetch(`${world.app.url}/random/${i}/${crypto.randomUUID()}`)).arrayBuffer()
    await Bun.sleep(50)
    const total = samples(await scrape(), 'http_requests_total')
    const count = (method: string, path: string, status: string) =>
      total.find(([l]) => l.method === method && l.path === path && l.status === status)?.[1] ?? 0
    expect(count('GET', '/api/v1/resources/tweets/all', '200')).toBe(7)
    expect(count('GET', '/api/v1/resources/tweets', '200')).toBe(5)
    expect(count('GET', '/api/v1/resources/users/top5', '200')).toBe(3)
    expect(count('GET', '/api/v1/resources/tweets/all', '400')).toBe(4)
    expect(count('POST', '/*', '405')).toBe(2)
    expect(count('GET', '/*', '404')).toBe(25)
    expect(total.every(([l]) => !l.path!.startsWith('/random'))).toBe(true)
    const buckets = samples(await scrape(), 'http_request_duration_seconds_count')
    expect(buckets.find(([l]) => l.path === '/api/v1/resources/tweets/all' && l.status === '200')?.[1]).toBe(7)
  })

  test('then prom-client default process metrics are there, event-loop lag included', async () => {
    await Bun.sleep(100)
    const text = await scrape()
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect({ name, present: samples(text, name).length > 0 }).toEqual({ name, present: true })
    }
    expect(samples(text, 'process_resident_memory_bytes')[0]![1]).toBeGreaterThan(10_000_000)
  })

  test('then the database pool, stored tweets and log-shipping metrics are there with their values', async () => {
    const text = await scrape()
    const pool = samples(text, 'twitter_db_pool_connections')
    expect(pool.map(([l]) => l.state).sort()).toEqual(['idle', 'in_use'])
    expect(samples(text, 'twitter_db_pool_size')[0]![1]).toBe(world.database.config.poolSize)
    expect(samples(text, 'twitter_db_pool_queued_requests')[0]![1]).toBe(0)
    const stored = Object.fromEntries(samples(text, 'twitter_hashtag_tweets').map(([l, v]) => [l.hashtag, v]))
    expect(stored.devops).toBe(TWEETS.filter((t) => t.hashtags.includes('devops')).length)
    expect(stored.logmonitoring).toBe(0)
    expect(samples(text, 'twitter_log_lines_dropped_total')).toEqual([[{}, 0]])
  })

  test('then /metrics itself is neither counted nor documented as an API endpoint', async () => {
    await scrape()
    const total = samples(await scrape(), 'http_requests_total')
    expect(total.filter(([l]) => l.path === '/metrics')).toEqual([])
    const document = (await (await fetch(`${world.app.url}/swagger/json`)).json()) as any
    expect(Object.keys(document.paths)).not.toContain('/metrics')
    expect(Object.keys(document.paths)).not.toContain('/*')
  })
})

describe('what metrics and the access log record', () => {
  const accessLine = (id: string) =>
    (world.app.log.lines as any[]).find((line) => line.event?.action === 'http-request' && line.http.request.id === id)

  test('when a conditional GET is answered 304, then the counter and the access line say 304', async () => {
    const path = '/api/v1/resources/users/top5'
    const first = await fetch(world.app.url + path)
    await first.arrayBuffer()
    const etag = first.headers.get('etag')!
    expect(etag).toBeString()
    const conditional = await fetch(world.app.url + path, {
      headers: { 'if-none-match': etag, 'x-request-id': 'conditional-get' },
    })
    expect(conditional.status).toBe(304)
    await Bun.sleep(50)
    const total = samples(await scrape(), 'http_requests_total')
    expect(total.find(([l]) => l.path === path && l.status === '304')?.[1]).toBe(1)
    expect(accessLine('conditional-get')).toMatchObject({
      http: { response: { status_code: 304 } },
      twitter: { route: path },
      event: { outcome: 'success' },
    })
  })

  test('when a query string is too long (414, refused before routing), then both label it as unknown paths are labelled', async () => {
    const response = await fetch(`${world.app.url}/api/v1/resources/tweets?hash=${'a'.repeat(3_000)}`, {
      headers: { 'x-request-id': 'too-long' },
    })
    expect(response.status).toBe(414)
    await Bun.sleep(50)
    const total = samples(await scrape(), 'http_requests_total')
    expect(total.filter(([l]) => l.status === '414').map(([l]) => l.path)).toEqual(['/*'])
    expect(total.filter(([l]) => l.path === 'undefined')).toEqual([])
    expect(accessLine('too-long')).toMatchObject({ http: { response: { status_code: 414 } }, twitter: { route: '/*' } })
  })
})
