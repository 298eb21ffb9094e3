import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import mysql from 'mysql2/promise'
import { runWrk } from '../../scripts/bench/wrk'
import { mysqlUrl, type RunningService, startService } from '../../scripts/lib/service-process'
import { seed } from '../../scripts/seed'
import { connectionOptions } from '../../src/db/session'
import { createTestDatabase, type TestDatabase } from '../support/database'

/**
 * Sustained load: 64 connections over a mix of every endpoint (first pages, deep pages, filters,
 * aggregates) for 15 s here, 60 s under `bun run soak` (SOAK=1). Answers are computed for every
 * request (RESPONSE_CACHE_MB=0), so each one borrows a pooled MySQL connection: a leak would show.
 * Proven: zero errors, resident memory growing less than 10% after warm-up (a trend, not the garbage collector's sawtooth), never more MySQL
 * connections than the pool holds, and http_requests_total counting what wrk sent.
 */

const SOAK = process.env.SOAK === '1'
const SECONDS = SOAK ? 60 : 15
const WARM_UP_SECONDS = SOAK ? 10 : 5
const CONNECTIONS = 64
const POOL_SIZE = 4

let database: TestDatabase
let service: RunningService
let url: string
/** This test's own connections to the database, open before the service starts: not the service's. */
let testConnections: number[] = []

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0)

/** Requests counted by the service, /metrics excluded (it does not count itself). */
async function countedRequests(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let total = 0
  for (const match of text.matchAll(/^http_requests_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1])
  return total
}

async function pathMix(): Promise<string[]> {
  const mix = [
    '/api/v1/resources/tweets/all',
    '/api/v1/resources/tweets/all?limit=1000',
    '/api/v1/resources/tweets?hash=devops',
    '/api/v1/resources/tweets?hashtag=%23SRE&lang=en',
    '/api/v1/resources/tweets/by_hour',
    '/api/v1/resources/tweets/by_hour?tz=-03:00&hash=devops',
    '/api/v1/resources/tweets/by_lang',
    '/api/v1/resources/tweets/by_lang?hash=observability',
    '/api/v1/resources/users/all',
    '/api/v1/resources/users/top5',
    '/api/v1/resources/hashtags/all',
    '/health/ready',
  ]
  // Pages further down each list, by following next_cursor.
  for (const first of ['/api/v1/resources/tweets/all?limit=50', '/api/v1/resources/users/all?limit=50']) {
    let path: string | null = first
    for (let page = 0; page < 20 && path !== null; page++) {
      mix.push(path)
      const body = (await (await fetch(url + path)).json()) as { next_cursor?: string | null }
      path = body.next_cursor ? `${first}&cursor=${encodeURIComponent(body.next_cursor)}` : null
    }
  }
  const author = ((await (await fetch(`${url}/api/v1/resources/users/top5`)).json()) as { data: { id: string }[] }).data[0]!.id
  mix.push(`/api/v1/resources/tweets?author_id=${author}`)
  return mix
}

beforeAll(async () => {
  database = await createTestDatabase()
  await seed(database.config, { tweets: 20_000, users: 3_000, seed: 3 })
  const [rows] = (await database.admin.query('SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?', [
    database.config.database,
  ])) as any
  testConnections = (rows as { ID: number }[]).map((row) => row.ID)
  service = await startService({
    MYSQL_URL: mysqlUrl(database.config),
    COLLECT_SOURCE: 'off',
    MYSQL_POOL_SIZE: String(POOL_SIZE),
    RESPONSE_CACHE_MB: '0',
  })
  url = service.url
}, 120_000)

afterAll(async () => {
  await service?.stop()
  await database?.drop()
})

describe('sustained load', () => {
  test(`when ${CONNECTIONS} connections load every endpoint for ${SECONDS} s, then nothing fails, leaks or goes uncounted`, async () => {
    const paths = await pathMix()
    await runWrk(url, paths, { connections: CONNECTIONS, seconds: WARM_UP_SECONDS })
    // Requests wrk left in flight finish (and are counted) before the count is read.
    await Bun.sleep(500)
    const before = await countedRequests()

    const watcher = await mysql.createConnection(connectionOptions(database.config))
    let maxConnections = 0
    const rssSamples: number[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const [rows] = (await watcher.query(
          'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID NOT IN (?)',
          [database.config.database, [0, ...testConnections]],
        )) as any
        maxConnections = Math.max(maxConnections, Number(rows[0].n))
        rssSamples.push(rss(service.child.pid))
        await Bun.sleep(100)
      }
    })()
    const load = await runWrk(url, paths, { connections: CONNECTIONS, seconds: SECONDS })
    sampling = false
    await sampler
    await watcher.end()
    await Bun.sleep(500)
    const counted = (await countedRequests()) - before

    // The garbage collector makes RSS a sawtooth (±15% here): a leak is a trend, so the last third of
    // the run is compared with the first, by their medians.
    const third = Math.floor(rssSamples.length / 3)
    const early = median(rssSamples.slice(0, third))
    const late = median(rssSamples.slice(-third))
    const growth = (late - early) / early
    console.log(
      `sustained load: ${load.requests} requests in ${SECONDS} s (${load.rps}/s, p99 ${load.p99_ms} ms), ${load.errors} errors; ` +
        `RSS median ${mb(early)} MB early, ${mb(late)} MB late (${(growth * 100).toFixed(1)}%), max ${mb(Math.max(...rssSamples))} MB; ` +
        `MySQL connections max ${maxConnections} (pool ${POOL_SIZE}); counted ${counted}`,
    )
    expect(load.errors).toBe(0)
    expect(load.requests).toBeGreaterThan(SECONDS * 100)
    expect(growth).toBeLessThan(0.1)
    expect(maxConnections).toBeGreaterThan(0)
    expect(maxConnections).toBeLessThanOrEqual(POOL_SIZE)
    // wrk counts the answers it received; the service also counts those still in flight when wrk
    // stopped, at most one per connection. /metrics reads do not count themselves.
    expect(counted).toBeGreaterThanOrEqual(load.requests)
    expect(counted).toBeLessThanOrEqual(load.requests + CONNECTIONS)
    expect(service.child.exitCode).toBeNull()
  }, 300_000)
})
