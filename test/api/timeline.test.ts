import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { useTestApp } from '../support/app-world'
import type { FixtureTweet } from '../support/fixtures'
import {
  bucketCount,
  countIn,
  DAY,
  DAYS,
  edgeOf,
  expectedTimeline,
  type Filter,
  filterArb,
  formatOffset,
  generateDataSet,
  getJson,
  HOUR,
  loadDataSet,
  MINUTE,
  namedParameters,
  OFFSETS,
  plainWriting as plain,
  QUARTER,
  queryOf,
  SEED,
  START,
  TRACKED,
  writeInstant,
  writingArb,
} from '../support/oracle'

/**
 * GET /tweets/timeline against the oracle: per bucket, COUNT(DISTINCT id) of the stored rows whose
 * created_at falls in it (test/support/oracle.ts), for generated filters, ranges, offsets and
 * intervals; and the contract's edges by hand: buckets aligned to quarter- and half-hour offsets,
 * days that start at local midnight, cut first and last buckets, the 10,000-bucket limit, the
 * default range (the last seven days up to the end of the current bucket).
 */

const DATA = generateDataSet(SEED, 2500)

/** Tweets of the last eight days up to a minute from now, every 37 minutes: the default range has something to count. */
const arrangedAt = Date.now()
const RECENT: FixtureTweet[] = Array.from({ length: 320 }, (_, i) => ({
  id: String(17_000_000_000_000_000_000n + BigInt(i)),
  hashtags: i % 3 === 0 ? ['devops', 'sre'] : ['devops'],
  author_id: DATA.users[i % 5]!.id,
  lang: i % 2 === 0 ? 'en' : 'pt',
  text: `recent ${i}`,
  created_at: new Date(arrangedAt + MINUTE - i * 37 * MINUTE).toISOString(),
  kind: i % 4 === 0 ? 'reply' : 'original',
}))

const world = useTestApp({ arrange: (database) => loadDataSet(database, { ...DATA, tweets: [...DATA.tweets, ...RECENT] }) })

const SIZES = { minute: MINUTE, hour: HOUR, day: DAY } as const
type Interval = keyof typeof SIZES

/** The span of a default range by the contract: a day of minutes, a week of hours or of days. */
const defaultSpan = (size: number) => (size === MINUTE ? DAY : 7 * DAY)

/**
 * The range of a timeline by the contract: a missing until is the end of the current bucket, a
 * missing since the interval's default span before until.
 */
function contractRange(f: Filter, size: number, offsetMinutes: number, now: number): { since: number; until: number } {
  const offset = offsetMinutes * MINUTE
  const endOfBucket = Math.floor((now + offset) / size) * size - offset + size
  const until = f.until ?? (f.since !== undefined && f.since > now ? f.since + defaultSpan(size) : endOfBucket)
  return { since: f.since ?? until - defaultSpan(size), until }
}

/**
 * The timeline's answer and the range it was computed for: a range that depends on now is read
 * again when the current bucket changed while the request ran.
 */
async function timeline(f: Filter, path: string, size: number, offsetMinutes: number) {
  for (let attempt = 0; ; attempt++) {
    const before = contractRange(f, size, offsetMinutes, Date.now())
    const answer = await getJson(world.app.url, path)
    const after = contractRange(f, size, offsetMinutes, Date.now())
    if ((before.since === after.since && before.until === after.until) || attempt === 3) return { answer, range: before }
  }
}

const tzOf = (offsetMinutes: number, form: number): string | undefined =>
  offsetMinutes === 0 && form === 0 ? undefined : offsetMinutes === 0 && form === 1 ? 'Z' : formatOffset(offsetMinutes)

describe('GET /api/v1/resources/tweets/timeline against the stored rows', () => {
  test('when generated filters, ranges, offsets and intervals are asked for, then every bucket holds the tweets posted in it, each once', async () => {
    await fc.assert(
      fc.asyncProperty(
        filterArb(),
        fc.constantFrom(...OFFSETS),
        fc.nat(2),
        fc.constantFrom<Interval | undefined>('minute', 'hour', 'hour', 'day', 'day', undefined),
        writingArb,
        async (f, tz, tzForm, interval, writing) => {
          const size = SIZES[interval ?? 'hour']
          const path = `/api/v1/resources/tweets/timeline${queryOf(f, writing, { interval, tz: tzOf(tz, tzForm) })}`
          const { answer, range } = await timeline(f, path, size, tz)
          if (bucketCount(range.since, range.until, size, tz) > 10_000) {
            expect({ path, status: answer.status, parameters: namedParameters(answer) }).toEqual({
              path,
              status: 400,
              parameters: ['interval'],
            })
            expect(answer.body.detail).toContain('10000')
            return
          }
          expect({ path, status: answer.status }).toEqual({ path, status: 200 })
          expect(answer.body.interval).toBe(interval ?? 'hour')
          expect(answer.body.tz).toBe(formatOffset(tz))
          expect(answer.body.data).toEqual(await expectedTimeline(world.database.admin, { ...f, ...range }, size, tz))
        },
      ),
      { seed: SEED, numRuns: 1500 },
    )
  }, 120_000)
})

describe('buckets at the edges', () => {
  const admin = () => world.database.admin
  /** Tweets posted in [since, until), each once, under the filter: the plain count a bucket must equal. */
  const rowsIn = (since: number, until: number, f: Filter = {}) => countIn(admin(), { ...f, since, until })
  const at = async (instant: number) => rowsIn(instant, instant + 1)

  test('when day buckets cross local midnights of +05:45, then each starts at a local midnight and the cut first and last hold only their part', async () => {
    // 2026-11-11T00:00:00+05:45: the data set crowds tweets on it and a millisecond either side.
    const midnight = edgeOf('midnight', 2, 345, 0)
    expect(new Date(midnight).toISOString()).toBe('2026-11-10T18:15:00.000Z')
    expect(await at(midnight)).toBeGreaterThan(0)
    expect(await at(midnight - 1)).toBeGreaterThan(0)
    const since = midnight - 1
    const until = midnight + 2 * DAY + 1
    const query = queryOf({ since, until }, { ...plain, offset: 345 }, { interval: 'day', tz: '+05:45' })
    const { status, body } = await getJson(world.app.url, `/api/v1/resources/tweets/timeline${query}`)
    expect(status).toBe(200)
    expect(body.tz).toBe('+05:45')
    expect(body.data.map((b: { start: string }) => b.start)).toEqual([
      '2026-11-09T18:15:00.000Z',
      '2026-11-10T18:15:00.000Z',
      '2026-11-11T18:15:00.000Z',
      '2026-11-12T18:15:00.000Z',
    ])
    expect(body.data.map((b: { count: number }) => b.count)).toEqual([
      await at(midnight - 1),
      await rowsIn(midnight, midnight + DAY),
      await rowsIn(midnight + DAY, midnight + 2 * DAY),
      await at(midnight + 2 * DAY),
    ])
  })

  test('when hour buckets are asked for in -03:30 and +05:45, then they start at :30 and :15 past the UTC hour', async () => {
    for (const [tz, minute] of [
      ['-03:30', '30'],
      ['+05:45', '15'],
      ['+14:00', '00'],
      ['-12:00', '00'],
    ] as const) {
      const since = START + DAY + 7 * QUARTER + 1
      const until = since + 5 * HOUR
      const query = queryOf({ since, until }, plain, { interval: 'hour', tz })
      const { status, body } = await getJson(world.app.url, `/api/v1/resources/tweets/timeline${query}`)
      expect(status).toBe(200)
      expect(body.data).toHaveLength(6)
      for (const bucket of body.data) expect(bucket.start.slice(14)).toBe(`${minute}:00.000Z`)
      const first = Date.parse(body.data[0].start)
      expect(body.data[0].count).toBe(await rowsIn(since, first + HOUR))
      expect(body.data.at(-1).count).toBe(await rowsIn(Date.parse(body.data.at(-1).start), until))
    }
  })

  test('when no interval or tz is given, then buckets are hours in UTC', async () => {
    const since = START + 3 * DAY
    const { body } = await getJson(world.app.url, `/api/v1/resources/tweets/timeline${queryOf({ since, until: since + DAY })}`)
    expect(body.interval).toBe('hour')
    expect(body.tz).toBe('+00:00')
    expect(body.data).toEqual(await expectedTimeline(admin(), { since, until: since + DAY }, HOUR, 0))
  })

  test('when a tweet is under two tracked hashtags, then it counts once without hash and once under each', async () => {
    const twice = DATA.tweets.find((t) => t.hashtags.length >= 2)!
    const since = Date.parse(twice.created_at)
    const path = (hash?: string) =>
      `/api/v1/resources/tweets/timeline${queryOf({ since, until: since + 1, ...(hash === undefined ? {} : { hash }) }, plain, { interval: 'minute' })}`
    const all = await getJson(world.app.url, path())
    expect(all.body.data).toEqual([
      { start: new Date(Math.floor(since / MINUTE) * MINUTE).toISOString(), count: await at(since) },
    ])
    for (const hash of twice.hashtags) {
      const one = await getJson(world.app.url, path(hash))
      expect(one.body.data[0].count).toBe(await rowsIn(since, since + 1, { hash }))
      expect(one.body.data[0].count).toBeGreaterThan(0)
    }
  })

  test('when the range holds exactly 10,000 buckets, then it is answered; one more is a 400 naming the limit', async () => {
    const cases: [Interval, string | undefined, number, number, number][] = [
      // interval, tz, since, until of 10,000 buckets, until of 10,001
      ['minute', undefined, START, START + 10_000 * MINUTE, START + 10_000 * MINUTE + 1],
      // A millisecond into the first minute: the same length touches one bucket more.
      ['minute', undefined, START + 1, START + 10_000 * MINUTE, START + 10_000 * MINUTE + 1],
      ['minute', '+05:45', START + 59_999, START + 10_000 * MINUTE, START + 10_000 * MINUTE + 1],
      ['hour', '+05:30', START - 330 * MINUTE, START - 330 * MINUTE + 10_000 * HOUR, START - 330 * MINUTE + 10_000 * HOUR + 1],
      [
        'day',
        '-03:30',
        Date.UTC(2000, 0, 1, 3, 30),
        Date.UTC(2000, 0, 1, 3, 30) + 10_000 * DAY,
        Date.UTC(2000, 0, 1, 3, 30) + 10_000 * DAY + 1,
      ],
    ]
    for (const [interval, tz, since, ok, tooMany] of cases) {
      const accepted = await getJson(
        world.app.url,
        `/api/v1/resources/tweets/timeline${queryOf({ since, until: ok }, plain, { interval, tz })}`,
      )
      expect({ interval, tz, status: accepted.status, buckets: accepted.body.data?.length }).toEqual({
        interval,
        tz,
        status: 200,
        buckets: 10_000,
      })
      const refused = await getJson(
        world.app.url,
        `/api/v1/resources/tweets/timeline${queryOf({ since, until: tooMany }, plain, { interval, tz })}`,
      )
      expect({ interval, tz, status: refused.status, parameters: namedParameters(refused) }).toEqual({
        interval,
        tz,
        status: 400,
        parameters: ['interval'],
      })
      expect(refused.type).toBe('application/problem+json')
      expect(refused.body.detail).toContain('10001')
      expect(refused.body.detail).toContain('10000')
    }
  }, 60_000)

  test('when since is not before until, then it is a 400 naming until, whichever offsets they are written in', async () => {
    const at = edgeOf('midnight', 3, 345, 0)
    for (const [since, until] of [
      [at, at],
      [at + 1, at],
      [at, at - DAY],
    ] as const) {
      const query = `?since=${encodeURIComponent(writeInstant(since, 345, 'ms'))}&until=${encodeURIComponent(writeInstant(until, -210, 'fraction', 7))}`
      const answer = await getJson(world.app.url, `/api/v1/resources/tweets/timeline${query}`)
      expect({ status: answer.status, parameters: namedParameters(answer), type: answer.type }).toEqual({
        status: 400,
        parameters: ['until'],
        type: 'application/problem+json',
      })
    }
  })

  test('when interval or tz is not one the contract names, then it is a 400 naming it', async () => {
    for (const [query, parameter] of [
      ['interval=week', 'interval'],
      ['interval=HOUR', 'interval'],
      ['interval=', 'interval'],
      ['tz=%2B05:40', 'tz'],
      ['tz=%2B15:00', 'tz'],
      ['tz=-12:15', 'tz'],
      ['tz=05:30', 'tz'],
      ['tz=UTC', 'tz'],
    ] as const) {
      const answer = await getJson(world.app.url, `/api/v1/resources/tweets/timeline?${query}`)
      expect({ query, status: answer.status, parameters: namedParameters(answer) }).toEqual({
        query,
        status: 400,
        parameters: [parameter],
      })
    }
  })
})

describe('the default range', () => {
  test('when neither since nor until is given, then it is the day of minutes, or the seven days of hours or days, up to the end of the current bucket', async () => {
    for (const [interval, tz] of [
      ['minute', 0],
      ['minute', -570],
      ['hour', 0],
      ['hour', 345],
      ['hour', -570],
      ['day', 0],
      ['day', 330],
      ['day', -210],
      ['day', 840],
      ['day', -720],
    ] as const) {
      const size = SIZES[interval]
      const path = `/api/v1/resources/tweets/timeline${queryOf({}, plain, { interval, tz: formatOffset(tz) })}`
      const { answer, range } = await timeline({}, path, size, tz)
      expect(answer.status).toBe(200)
      expect(answer.body.data).toHaveLength({ minute: 24 * 60, hour: 7 * 24, day: 7 }[interval])
      expect(answer.body.data).toEqual(await expectedTimeline(world.database.admin, range, size, tz))
      expect(answer.body.data.some((b: { count: number }) => b.count > 0)).toBe(true)
    }
  })

  test('when only since is given, then the range ends with the current bucket; when since is in the future, seven days after it', async () => {
    const now = Date.now()
    for (const since of [now - 3 * DAY + 1234, now - 5 * HOUR, now + 2 * DAY + 1]) {
      const path = `/api/v1/resources/tweets/timeline${queryOf({ since }, plain, { tz: '+05:45' })}`
      const { answer, range } = await timeline({ since }, path, HOUR, 345)
      expect(answer.status).toBe(200)
      if (since > now) expect(range.until).toBe(since + 7 * DAY)
      expect(answer.body.data).toEqual(await expectedTimeline(world.database.admin, range, HOUR, 345))
    }
  })

  test('when only until is given, then the range is the seven days before it', async () => {
    const until = START + 5 * DAY + 1
    const { status, body } = await getJson(
      world.app.url,
      `/api/v1/resources/tweets/timeline${queryOf({ until, hash: TRACKED[0] }, plain, { interval: 'day' })}`,
    )
    expect(status).toBe(200)
    expect(body.data).toHaveLength(8)
    expect(body.data).toEqual(
      await expectedTimeline(world.database.admin, { since: until - 7 * DAY, until, hash: TRACKED[0] }, DAY, 0),
    )
  })

  test('when only until is given per minute, then the range is the day before it, within the bucket limit', async () => {
    const until = START + 5 * DAY + 1
    const { status, body } = await getJson(
      world.app.url,
      `/api/v1/resources/tweets/timeline${queryOf({ until }, plain, { interval: 'minute' })}`,
    )
    expect(status).toBe(200)
    expect(body.data).toHaveLength(24 * 60 + 1)
    expect(body.data).toEqual(await expectedTimeline(world.database.admin, { since: until - DAY, until }, MINUTE, 0))
  })

  test('the data set covers the edges it is meant to', () => {
    const created = DATA.tweets.map((t) => Date.parse(t.created_at))
    for (const tz of OFFSETS) {
      const midnights = Array.from({ length: DAYS }, (_, d) => edgeOf('midnight', d, tz, 0))
      expect(midnights.some((m) => created.includes(m))).toBe(true)
      expect(midnights.some((m) => created.includes(m - 1) || created.includes(m + 1))).toBe(true)
    }
  })
})
