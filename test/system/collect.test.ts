import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { freePort, spawnBun, waitReady } from '../../scripts/lib/service-process'
import { loadConfig } from '../../src/config'
import { FakeXApi } from '../support/fake-x-api'
import { jsonLines } from '../support/json-lines'

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

describe('a collection killed mid-run', () => {
  test('when bun run collect is SIGKILLed after storing a page, then /hashtags/all does not say a collection is running, and the next run records the outcome', async () => {
    const env = environment({ HASHTAGS: 'devops', ...twitter() })
    fake.pageSize = 1
    // The second page of #devops is answered late: the run is killed while it waits for it.
    fake.faults.push({ tag: 'devops', page: 2, delayMs: 20_000, transform: (page) => page })
    try {
      const child = spawnBun('collect.ts', env)
      children.push(child)
      const database = new URL(env.MYSQL_URL).pathname.slice(1)
      const outcome = async () =>
        (
          (await admin
            .query(`SELECT last_outcome FROM ${admin.escapeId(database)}.hashtags WHERE tag = 'devops'`)
            .catch(() => [[]])) as any
        )[0][0]?.last_outcome
      const started = performance.now()
      while ((await outcome()) !== 'in_progress') {
        if (performance.now() - started > 15_000) throw new Error('the first page was not stored within 15 s')
        await Bun.sleep(20)
      }
      child.kill('SIGKILL')
      await child.exited
      expect(await outcome()).toBe('in_progress')

      // A reader: the lock died with the process, so no collection is running.
      const port = await freePort()
      const service = spawnBun('index.ts', { ...env, PORT: String(port), COLLECT_SOURCE: 'off' })
      children.push(service)
      const url = `http://127.0.0.1:${port}`
      await waitReady(url)
      const [devops] = (await json(`${url}/api/v1/resources/hashtags/all`)).data
      expect(devops).toMatchObject({ hashtag: 'devops', last_outcome: 'interrupted' })

      // While another process holds the lock, a collection is running.
      const holder = await mysql.createConnection({ host: base.host, port: base.port, user: base.user, password: base.password })
      try {
        await holder.query('SELECT GET_LOCK(?, 0)', [`twitter_hashtags.collector.${database}`])
        const [held] = (await json(`${url}/api/v1/resources/hashtags/all`)).data
        expect(held.last_outcome).toBe('in_progress')
      } finally {
        await holder.end()
      }

      // The next run corrects the row itself, for a hashtag it no longer tracks too.
      fake.faults.splice(0)
      const next = spawnBun('collect.ts', { ...env, HASHTAGS: 'sre' })
      expect(await next.exited).toBe(0)
      expect(await outcome()).toBe('interrupted')
    } finally {
      fake.pageSize = 100
    }
  }, 60_000)
})

/** A stack trace line, as Bun and Node print them. */
const STACK_LINE = /^\s+at .+/m

async function outputOf(child: ReturnType<typeof spawnBun>) {
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  return { code, out, err }
}

/** The forms an echo of a secret takes: raw, JSON-escaped, percent-encoded, form-encoded, percent-decoded. */
function echoesOf(secret: string): string[] {
  let decoded = secret
  try {
    decoded = decodeURIComponent(secret)
  } catch {}
  return [secret, decoded].flatMap((text) => [
    text,
    JSON.stringify(text).slice(1, -1),
    encodeURIComponent(text),
    new URLSearchParams({ v: text }).toString().slice(2),
  ])
}

describe('bun run collect, hostile conditions', () => {
  test('when the API refuses the token and its error bodies echo it raw, encoded and decoded, then neither stdout nor stderr shows it', async () => {
    // Real bearer tokens hold %2F and %3D: their decoded form differs from the one configured.
    const token = `tk%2F${randomBytes(3).toString('hex')}%3D`
    const echoing = await new FakeXApi(token).start()
    try {
      const echo = `${token} ${encodeURIComponent(token)} ${decodeURIComponent(token)}`
      const body = (status: number, title: string) => ({
        title: `${title} ${echo}`,
        detail: `token ${echo} is not valid`,
        type: 'about:blank',
        status,
      })
      // A 5xx is retried (its title is quoted in the retry line), then the token is refused: with a
      // 401, whose message is fixed, and with a 403, whose title the summary quotes.
      for (const [status, title] of [
        [401, 'Unauthorized'],
        [403, 'Forbidden'],
      ] as const) {
        echoing.faults.push({ status: 503, body: body(503, 'Service Unavailable') }, { status, body: body(status, title) })
        const child = spawnBun(
          'collect.ts',
          environment({
            HASHTAGS: 'devops',
            LOG_LEVEL: 'debug',
            TWITTER_BEARER_TOKEN: token,
            TWITTER_API_BASE_URL: echoing.baseUrl,
            TWITTER_API_CA_FILE: echoing.caFile,
          }),
        )
        const { code, out, err } = await outputOf(child)
        expect(code).toBe(1)
        expect(out).toContain('unauthorized (')
        expect(err).toContain('503 (Service Unavailable [REDACTED] [REDACTED] [REDACTED]: token [REDACTED]')
        expect(echoing.faults).toEqual([])
        for (const form of echoesOf(token)) {
          expect({ status, form, inStdout: out.includes(form), inStderr: err.includes(form) }).toEqual({
            status,
            form,
            inStdout: false,
            inStderr: false,
          })
        }
      }
    } finally {
      echoing.stop()
    }
  })

  test('when LOG_LEVEL is not a level, then it exits 2 with one line naming it, without a stack trace', async () => {
    const { code, out, err } = await outputOf(spawnBun('collect.ts', environment({ LOG_LEVEL: 'loud' })))
    expect(code).toBe(2)
    expect(out).toBe('')
    expect(err.trimEnd().split('\n')).toEqual([
      'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, got "loud"',
    ])
  })

  test('when the MYSQL_URL password holds a bare %, then it is the password as written: the run succeeds, without a stack trace', async () => {
    const env = environment({ HASHTAGS: 'devops', ...twitter() })
    const database = new URL(env.MYSQL_URL).pathname.slice(1)
    const user = `th_pct_${randomBytes(4).toString('hex')}`
    const password = `pa%ss-${randomBytes(4).toString('hex')}`
    for (const host of ['%', 'localhost']) {
      await admin.query(`CREATE USER ?@? IDENTIFIED BY ?`, [user, host, password])
      await admin.query(`GRANT ALL ON ${admin.escapeId(database)}.* TO ?@?`, [user, host])
    }
    try {
      const url = `mysql://${user}:${password}@${base.host}:${base.port}/${database}`
      const { code, out, err } = await outputOf(spawnBun('collect.ts', { ...env, MYSQL_URL: url }))
      expect({ code, err }).toEqual({ code: 0, err: '' })
      expect(out).toMatch(/success in [0-9.]+ s from twitter/)
    } finally {
      for (const host of ['%', 'localhost']) await admin.query('DROP USER IF EXISTS ?@?', [user, host])
    }
  })

  test('when the database refuses the credentials, then it exits 1 with one message, without a stack trace or the password', async () => {
    const password = `wrong%pw-${randomBytes(4).toString('hex')}`
    const env = environment({ HASHTAGS: 'devops', ...twitter() })
    const url = new URL(env.MYSQL_URL)
    const { code, out, err } = await outputOf(
      spawnBun('collect.ts', { ...env, MYSQL_URL: `mysql://${base.user}:${password}@${url.host}${url.pathname}` }),
    )
    expect(code).toBe(1)
    expect(err).not.toMatch(STACK_LINE)
    expect(err.trimEnd().split('\n')).toHaveLength(1)
    expect(err).toContain('Access denied')
    for (const form of echoesOf(password)) expect(out + err).not.toContain(form)
  })

  test('when SIGTERM arrives while the X API never answers, then it exits 1 within 10 s, without a stack trace', async () => {
    fake.faults.push({ tag: 'devops', delayMs: 120_000 })
    const before = fake.requestsFor('devops').length
    const child = spawnBun('collect.ts', environment({ HASHTAGS: 'devops', TWITTER_API_TIMEOUT: '120s', ...twitter() }))
    children.push(child)
    const output = outputOf(child)
    while (fake.requestsFor('devops').length === before) await Bun.sleep(20)
    const signalled = performance.now()
    child.kill('SIGTERM')
    const { code, err } = await output
    expect(performance.now() - signalled).toBeLessThan(10_000)
    expect(code).toBe(1)
    expect(err).not.toMatch(STACK_LINE)
  }, 30_000)
})
