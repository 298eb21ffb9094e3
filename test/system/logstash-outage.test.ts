import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { type LoadResult, runWrk } from '../../scripts/bench/wrk'
import { freePort, mysqlUrl, spawnBun, waitReady } from '../../scripts/lib/service-process'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { FakeLogstash } from '../support/logstash-listeners'

/**
 * Logstash outages under load. Four copies of the service run side by side on one database filled
 * with the bundled sample: a baseline that does not ship its logs, and three shipping to a Logstash
 * that refuses connections (nothing listens), accepts and never reads, or drops every connection
 * mid-stream. LOG_LEVEL=info: every request writes an access line, and that is the shipper's load.
 *
 * wrk loads one copy at a time (the others sit idle), the baseline before and after every outage
 * run: B R B S B D B R B S … B. This 2-core machine is noisy — wrk, the service, MariaDB and this
 * process share it, and the p99 of the same run repeated moves by 30% or more, with stretches of
 * several seconds where everything is slower — so each outage run's p99 is compared with the mean of
 * the two baseline runs around it, and the median of those ratios must stay within 20%. That bound
 * is asserted under `bun run soak` only (3 runs of 20 s per outage): in the 2 s runs of the suite
 * the baseline's own p99 ranges from 3 to 96 ms here, and one pair's ratio from 0.2 to 1.9, so the
 * suite prints the ratios and leaves the verdict to the long runs.
 *
 * Also proven per outage: no failed request, the process up, its RSS growth after warm-up within a
 * bound set by the shipper's queue, stdout still carrying every access line. Then each Logstash comes
 * back on its port, and the access lines of requests made after that must reach it.
 *
 * 4 runs of 2 s per outage here; 3 runs of 20 s (60 s per outage, as the issue asks) under
 * `bun run soak` (SOAK=1).
 */

const SOAK = process.env.SOAK === '1'
const RUN_SECONDS = SOAK ? 20 : 2
const ROUNDS = SOAK ? 3 : 4
const WARM_UP_SECONDS = SOAK ? 10 : 3
const CONNECTIONS = 16
const P99_TOLERANCE = 0.2
/** LOGSTASH_QUEUE_LINES, the default made explicit: the memory bound below derives from it. */
const QUEUE_LINES = 10_000
/**
 * RSS growth allowed beyond the baseline's own. The queue is a ring of 10,000 × 1 KiB (10 MiB)
 * allocated at start and written over as lines come and go; with it, the growth measured beyond the
 * baseline's was -5 to +8 MB. When the queue was an array of strings, queued lines outlived the
 * young generation and the growth was 40 to 60 MB. A shipper that kept every line would pass the
 * bound within 3 s of load (~18,000 lines/s of ~700 B), and each outage here gets 8 s after warm-up.
 */
const MEMORY_BOUND = 32 * 2 ** 20
/**
 * After a long outage the shipper's reconnect backoff reaches its ceiling, 30 s (reconnectMaxMs in
 * logstash-stream.ts, full jitter below it): the next attempt may be that far away.
 */
const RECOVERY_DEADLINE_MS = 35_000

type Outage = 'refuse' | 'stall' | 'drop'
const OUTAGES: Record<Outage, string> = {
  refuse: 'refuses connections',
  stall: 'accepts connections and never reads',
  drop: 'drops every connection mid-stream',
}
const OUTAGE_NAMES = Object.keys(OUTAGES) as Outage[]

/** The seven endpoints, requested at random by wrk. */
const PATHS = [
  '/api/v1/resources/tweets/all',
  '/api/v1/resources/tweets?hash=devops&lang=en',
  '/api/v1/resources/tweets/by_hour?tz=-03:00',
  '/api/v1/resources/tweets/by_lang',
  '/api/v1/resources/users/all',
  '/api/v1/resources/users/top5',
  '/api/v1/resources/hashtags/all',
]

interface Service {
  name: 'baseline' | Outage
  child: ReturnType<typeof spawnBun>
  url: string
  /** What the service wrote to stdout, counted and thrown away (a pipe left unread fills and blocks it). */
  stdout: { lines: number; bytes: number }
  stderr: Promise<string>
  /** Requests wrk got answers to, warm-up included. */
  requests: number
  rss: { ready: number; warm: number; max: number }
  logstashPort?: number
  listener?: FakeLogstash
  /** twitter_log_lines_dropped_total after the load. */
  dropped?: number
}

let database: TestDatabase
let baseline: Service
const outages = new Map<Outage, Service>()
/** Every measured run, in the order they ran, with the RSS of the service loaded at its end. */
const runs: { service: Service; result: LoadResult; rss: number }[] = []
let measured = false

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const resultsOf = (service: Service) => runs.filter((run) => run.service === service).map((run) => run.result)

/** Each run of the service: its p99 over the mean p99 of the baseline runs just before and after it. */
const pairedRatios = (service: Service) =>
  runs.flatMap((run, i) =>
    run.service === service ? [run.result.p99_ms / ((runs[i - 1]!.result.p99_ms + runs[i + 1]!.result.p99_ms) / 2)] : [],
  )

function countLines(stream: ReadableStream<Uint8Array>, into: { lines: number; bytes: number }): void {
  void (async () => {
    for await (const chunk of stream) {
      into.bytes += chunk.length
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) into.lines++
    }
  })()
}

async function start(name: Service['name'], env: Record<string, string>, logstashPort?: number): Promise<Service> {
  const port = await freePort()
  const child = spawnBun('index.ts', {
    MYSQL_URL: mysqlUrl(database.config),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SERVICE_ENVIRONMENT: 'test',
    ...(logstashPort === undefined
      ? {}
      : { LOGSTASH_HOST: '127.0.0.1', LOGSTASH_PORT: String(logstashPort), LOGSTASH_QUEUE_LINES: String(QUEUE_LINES) }),
    ...env,
  })
  const service: Service = {
    name,
    child,
    url: `http://127.0.0.1:${port}`,
    stdout: { lines: 0, bytes: 0 },
    stderr: new Response(child.stderr).text(),
    requests: 0,
    rss: { ready: 0, warm: 0, max: 0 },
    logstashPort,
  }
  countLines(child.stdout, service.stdout)
  await waitReady(service.url, 60_000)
  service.rss.ready = rss(child.pid)
  return service
}

async function droppedLines(service: Service): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text()
  return Number(/^twitter_log_lines_dropped_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN)
}

/** Requests sent once the first line is back, all of which must be shipped: shipping goes on, not just one line. */
const STEADY_REQUESTS = 20

/**
 * Sends a request with a known id every 250 ms until its access line reaches the listener, then
 * STEADY_REQUESTS more, and counts how many of those arrive within 2 s.
 */
async function recover(service: Service) {
  const listener = service.listener!
  const from = listener.lines.length
  const cameBack = performance.now()
  // Request ids of the access lines received since it came back (a line that does not parse is not one).
  const ids = new Set<string>()
  let scanned = from
  const receivedIds = () => {
    for (; scanned < listener.lines.length; scanned++) {
      try {
        const id = JSON.parse(listener.lines[scanned]!).http?.request?.id
        if (typeof id === 'string') ids.add(id)
      } catch {}
    }
    return ids
  }
  const request = (id: string) =>
    fetch(`${service.url}/api/v1/resources/hashtags/all`, { headers: { 'x-request-id': id } }).then((r) => r.arrayBuffer())
  let firstLineMs: number | null = null
  for (let n = 0; firstLineMs === null && performance.now() - cameBack < RECOVERY_DEADLINE_MS; n++) {
    await request(`recovery-${service.name}-${n}`)
    await Bun.sleep(250)
    if ([...receivedIds()].some((id) => id.startsWith(`recovery-${service.name}-`))) {
      firstLineMs = Math.round(performance.now() - cameBack)
    }
  }
  const steadyIds = Array.from({ length: STEADY_REQUESTS }, (_, i) => `steady-${service.name}-${i}`)
  for (const id of steadyIds) await request(id)
  const until = performance.now() + 2_000
  let steady = 0
  while (performance.now() < until) {
    steady = steadyIds.filter((id) => receivedIds().has(id)).length
    if (steady === STEADY_REQUESTS) break
    await Bun.sleep(50)
  }
  return { firstLineMs, steady, linesReceived: listener.lines.length - from }
}

const load = (service: Service, seconds: number) => runWrk(service.url, PATHS, { connections: CONNECTIONS, seconds })

beforeAll(
  async () => {
    if (Bun.which('wrk') === null) throw new Error('wrk is not installed: apt-get install wrk')
    database = await createTestDatabase()
    // The baseline collects the sample (it serves once it is stored); the others only serve it.
    baseline = await start('baseline', { COLLECT_SOURCE: 'sample' })
    await Promise.all(
      OUTAGE_NAMES.map(async (name) => {
        const port = await freePort()
        // Refusing: nothing ever listens on the port.
        const listener = name === 'refuse' ? undefined : await FakeLogstash.start(port, name)
        const service = await start(name, { COLLECT_SOURCE: 'off' }, port)
        service.listener = listener
        outages.set(name, service)
      }),
    )
    const all = [baseline, ...OUTAGE_NAMES.map((name) => outages.get(name)!)]

    // The JIT warms, the caches fill, the misbehaving Logstash gets its first lines (all at once: not measured).
    const warmUps = await Promise.all(all.map((service) => load(service, WARM_UP_SECONDS)))
    all.forEach((service, i) => {
      service.requests += warmUps[i]!.requests
      service.rss.warm = service.rss.max = rss(service.child.pid)
    })
    const sampler = setInterval(() => {
      for (const service of all) service.rss.max = Math.max(service.rss.max, rss(service.child.pid))
    }, 100)
    try {
      const run = async (service: Service) => {
        const result = await load(service, RUN_SECONDS)
        service.requests += result.requests
        runs.push({ service, result, rss: rss(service.child.pid) })
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of OUTAGE_NAMES) {
          await run(baseline)
          await run(outages.get(name)!)
        }
      }
      await run(baseline)
    } finally {
      clearInterval(sampler)
    }
    // The last lines reach stdout on the child's next turn of the event loop, and this process's reader after.
    await Bun.sleep(500)
    for (const service of outages.values()) service.dropped = await droppedLines(service)
    measured = true

    console.log(`logstash outage: ${RUN_SECONDS} s runs of ${CONNECTIONS} connections, in this order:`)
    console.log(`  ${runs.map((run) => `${run.service.name} ${run.result.p99_ms.toFixed(1)}`).join(', ')} (p99 ms)`)
    for (const service of all) {
      const results = resultsOf(service)
      console.log(
        `  ${service.name.padEnd(9)} p99 median ${median(results.map((r) => r.p99_ms)).toFixed(2)} ms, ` +
          `${median(results.map((r) => r.rps))} req/s, RSS ready ${mb(service.rss.ready)} warm ${mb(service.rss.warm)} max ${mb(service.rss.max)} MB ` +
          `(after each run: ${runs.flatMap((run) => (run.service === service ? [mb(run.rss)] : [])).join(' ')})` +
          (service.dropped === undefined ? '' : `, ${service.dropped} lines dropped`) +
          (service.listener === undefined ? '' : `, ${service.listener.connections} connections accepted`),
      )
    }
  },
  120_000 + (WARM_UP_SECONDS + (2 * ROUNDS * OUTAGE_NAMES.length + 1) * (RUN_SECONDS + 1)) * 1000,
)

afterAll(async () => {
  const all = [baseline, ...outages.values()].filter(Boolean)
  for (const service of all) service.child.kill('SIGTERM')
  await Promise.all(all.map((service) => service.child.exited))
  for (const service of all) await service.listener?.close()
  await database?.drop()
})

describe('Logstash outage under load', () => {
  for (const name of OUTAGE_NAMES) {
    test(`when Logstash ${OUTAGES[name]}, then no request fails, the process stays up, its memory stays bounded${SOAK ? ` and p99 stays within ${P99_TOLERANCE * 100}% of the baseline without Logstash` : ' (p99 bound: bun run soak)'}`, async () => {
      expect(measured).toBe(true)
      const service = outages.get(name)!
      const results = resultsOf(service)
      const ratios = pairedRatios(service)
      const ratio = median(ratios)
      const growth = service.rss.max - service.rss.warm
      const baselineGrowth = baseline.rss.max - baseline.rss.warm
      console.log(
        `${name}: p99 / baseline ${ratios.map((r) => r.toFixed(2)).join(' ')} (median ${ratio.toFixed(2)}); ` +
          `RSS +${mb(growth)} MB after warm-up (baseline +${mb(baselineGrowth)} MB); ` +
          `stdout ${service.stdout.lines} lines (${Math.round(service.stdout.bytes / service.stdout.lines)} B each) for ${service.requests} requests`,
      )
      expect(results.map((r) => r.errors)).toEqual(results.map(() => 0))
      // Judged only on the long runs: in 2 s runs the baseline's own p99 moves from 3 to 96 ms here.
      if (SOAK) expect({ ratio, within: ratio <= 1 + P99_TOLERANCE }).toEqual({ ratio, within: true })
      const exited = service.child.exitCode
      expect({ exited, stderr: exited === null ? '' : await service.stderr }).toEqual({ exited: null, stderr: '' })
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200)
      expect(growth).toBeLessThanOrEqual(baselineGrowth + MEMORY_BOUND)
      // The outage costs Logstash its lines, never stdout.
      expect(service.stdout.lines).toBeGreaterThanOrEqual(service.requests)
      // The outage was real: the queue overflowed, or the connection was cut again and again.
      if (name === 'drop') expect(service.listener!.connections).toBeGreaterThan(ROUNDS)
      else expect(service.dropped).toBeGreaterThan(0)
    })
  }

  test(
    `when Logstash comes back after each outage, then the access lines of requests made after it arrive within ${RECOVERY_DEADLINE_MS / 1000} s`,
    async () => {
      expect(measured).toBe(true)
      // The same port as during the outage: a listener where nothing listened, the others reading again.
      const refusing = outages.get('refuse')!
      refusing.listener = await FakeLogstash.start(refusing.logstashPort!, 'read')
      for (const name of ['stall', 'drop'] as const) outages.get(name)!.listener!.behaviour = 'read'
      const recovered = await Promise.all(OUTAGE_NAMES.map((name) => recover(outages.get(name)!)))
      const report = Object.fromEntries(OUTAGE_NAMES.map((name, i) => [name, recovered[i]!]))
      console.log(`recovery: ${JSON.stringify(report)}`)
      for (const name of OUTAGE_NAMES) {
        const { firstLineMs, steady } = report[name]!
        expect({ name, arrived: firstLineMs !== null, steady }).toEqual({ name, arrived: true, steady: STEADY_REQUESTS })
      }
    },
    RECOVERY_DEADLINE_MS + 30_000,
  )
})
