import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { loadConfig } from '../config'
import { FakeXApi } from '../testing/fake-x-api'
import { freePort, jsonLines, spawnBun, waitReady } from '../testing/process'

/** `bun run start` and `bun run collect` as real processes, against a real database and the fake X API. */

const base = loadConfig({}).mysql
const databases: string[] = []
const children: ReturnType<typeof spawnBun>[] = []
let admin: mysql.Connection
let fake: FakeXApi

beforeAll(async () => {
  admin = await mysql.createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
  fake = await new FakeXApi().start()
  fake.addTweets({ id: '1999999999999999999', username: 'alice', name: 'Alice', followers_count: 10 }, [
    { text: 'one #devops', tags: ['devops'], minutesAgo: 30 },
    { text: 'two #devops #sre', tags: ['devops', 'sre'], minutesAgo: 20 },
  ])
})

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  fake.faults.splice(0)
})

afterAll(async () => {
  fake.stop()
  for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(name)}`)
  await admin.end()
})

function environment(extra: Record<string, string> = {}) {
  const database = `th_test_collect_${randomBytes(4).toString('hex')}`
  databases.push(database)
  return { MYSQL_URL: `mysql://${base.user}@${base.host}:${base.port}/${database}`, HOST: '127.0.0.1', ...extra }
}

const twitter = () => ({ TWITTER_BEARER_TOKEN: fake.token, TWITTER_API_BASE_URL: fake.baseUrl, TWITTER_API_CA_FILE: fake.caFile })

async function json(url: string) {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  return (await response.json()) as any
}

describe('bun run start', () => {
  test('when no token is set, then it loads the sample data, says so once, and serves it on all seven endpoints', async () => {
    const port = await freePort()
    const child = spawnBun('index.ts', environment({ PORT: String(port) }))
    children.push(child)
    const url = `http://127.0.0.1:${port}`
    await waitReady(url)
    const resources = `${url}/api/v1/resources`
    const all = await json(`${resources}/tweets/all?limit=1000`)
    expect(all.data.length).toBeGreaterThan(300)
    expect((await json(`${resources}/tweets?hash=devops&limit=5`)).data).toHaveLength(5)
    expect((await json(`${resources}/tweets/by_hour`)).data.reduce((s: number, h: any) => s + h.count, 0)).toBe(all.data.length)
    expect(new Set((await json(`${resources}/tweets/by_lang`)).data.map((r: any) => r.lang)).size).toBeGreaterThanOrEqual(6)
    expect((await json(`${resources}/users/all?limit=1000`)).data.length).toBeGreaterThan(50)
    expect((await json(`${resources}/users/top5`)).data).toHaveLength(5)
    const hashtags = (await json(`${resources}/hashtags/all`)).data
    expect(hashtags).toHaveLength(10)
    for (const h of hashtags) expect([h.hashtag, h.tweet_count > 0]).toEqual([h.hashtag, h.hashtag !== 'logmonitoring'])
    child.kill('SIGTERM')
    await child.exited
    const warnings = jsonLines(await new Response(child.stdout).text()).filter((l) => l['log.level'] === 'warn')
    expect(warnings.map((l) => l.event?.action)).toEqual(['collector-sample-data'])
  })

  test('when a token is set, then it collects from the X API before serving', async () => {
    const port = await freePort()
    const child = spawnBun('index.ts', environment({ PORT: String(port), HASHTAGS: 'devops,sre', ...twitter() }))
    children.push(child)
    const url = `http://127.0.0.1:${port}`
    await waitReady(url)
    const tweets = (await json(`${url}/api/v1/resources/tweets/all`)).data
    expect(tweets.map((t: any) => t.text)).toEqual(['two #devops #sre', 'one #devops'])
    expect(tweets[0].hashtags).toEqual(['devops', 'sre'])
  })

  test('when the start-up collection outlasts COLLECT_STARTUP_TIMEOUT, then it serves anyway and the collection finishes behind', async () => {
    fake.faults.push({ tag: 'devops', delayMs: 2_000, transform: (p) => p })
    const port = await freePort()
    const started = Date.now()
    const child = spawnBun(
      'index.ts',
      environment({ PORT: String(port), HASHTAGS: 'devops', COLLECT_STARTUP_TIMEOUT: '300ms', ...twitter() }),
    )
    children.push(child)
    const url = `http://127.0.0.1:${port}`
    await waitReady(url)
    expect(Date.now() - started).toBeLessThan(2_000)
    expect((await json(`${url}/api/v1/resources/tweets/all`)).data).toEqual([])
    await Bun.sleep(2_500)
    expect((await json(`${url}/api/v1/resources/tweets/all`)).data).toHaveLength(2)
  })

  test('when COLLECT_INTERVAL is set, then it collects again on schedule', async () => {
    const port = await freePort()
    const before = fake.requestsFor('sre').length
    const child = spawnBun(
      'index.ts',
      environment({ PORT: String(port), HASHTAGS: 'sre', COLLECT_INTERVAL: '300ms', ...twitter() }),
    )
    children.push(child)
    await waitReady(`http://127.0.0.1:${port}`)
    await Bun.sleep(1_000)
    expect(fake.requestsFor('sre').length - before).toBeGreaterThanOrEqual(3)
  })
})

describe('bun run collect', () => {
  test('when run, then it prints a line per page and a summary, and exits 0', async () => {
    const child = spawnBun('collect.ts', environment({ HASHTAGS: 'devops,sre,logmonitoring', ...twitter() }))
    expect(await child.exited).toBe(0)
    const out = await new Response(child.stdout).text()
    expect(out).toContain('#devops page 1: 2 tweets, 2 new, 0 known, 1 users')
    expect(out).toContain('#sre page 1: 1 tweets, 0 new, 1 known, 1 users')
    expect(out).toMatch(/#logmonitoring +1 +0 +0 +0 +0 +[0-9.]+ s +ok/)
    expect(out).toMatch(/success in [0-9.]+ s from twitter/)
  })

  test('when the token is refused, then it exits 1 naming the problem, not the token', async () => {
    const child = spawnBun('collect.ts', environment({ ...twitter(), TWITTER_BEARER_TOKEN: 'not-the-token-XYZ' }))
    expect(await child.exited).toBe(1)
    const out = await new Response(child.stdout).text()
    const err = await new Response(child.stderr).text()
    expect(out).toContain('failed in')
    expect(out).toContain('check TWITTER_BEARER_TOKEN')
    expect(out + err).not.toContain('not-the-token-XYZ')
  })

  test('when another process is collecting, then it exits 75 and says so', async () => {
    const env = environment({ HASHTAGS: 'devops', ...twitter() })
    // A first run creates the database; then a held lock stands for another collector.
    expect(await spawnBun('collect.ts', env).exited).toBe(0)
    const holder = await mysql.createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
    try {
      const database = new URL(env.MYSQL_URL).pathname.slice(1)
      await holder.query('SELECT GET_LOCK(?, 0)', [`twitter_hashtags.collector.${database}`])
      const child = spawnBun('collect.ts', env)
      expect(await child.exited).toBe(75)
      expect(await new Response(child.stdout).text()).toContain('another process holds the collector lock')
    } finally {
      await holder.end()
    }
  })
})
