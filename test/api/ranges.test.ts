import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { useTestApp } from '../support/app-world'
import {
  type Answer,
  DAY,
  edgeOf,
  expectedByHour,
  expectedByLang,
  expectedHashtagCounts,
  expectedIds,
  expectedTweet,
  type Filter,
  filterArb,
  formatOffset,
  generateDataSet,
  getJson,
  type InstantStyle,
  kindsArb,
  LANGS,
  loadDataSet,
  namedParameters,
  OFFSETS,
  plainWriting,
  QUIET_TAG,
  queryOf,
  rangeArb,
  SEED,
  START,
  TRACKED,
  writeInstant,
  writingArb,
} from '../support/oracle'

/**
 * since, until and kind on every endpoint that takes them, against the oracle (plain SQL over the
 * stored rows, test/support/oracle.ts): by_hour, by_lang and hashtags/all count the rows within the
 * range and kinds; tweets/all and tweets, walked page by page, hold every matching tweet exactly
 * once, newest first. Instants are written in every offset and form the contract allows (dates,
 * seconds, minutes, sub-millisecond fractions, Z); malformed ones and empty ranges are 400s that name
 * the parameter.
 */

const DATA = generateDataSet(SEED + 1, 2500)
const world = useTestApp({ arrange: (database) => loadDataSet(database, DATA) })
const admin = () => world.database.admin
const get = (path: string) => getJson(world.app.url, path)
const RUNS = { seed: SEED, numRuns: 300 }

const tzOf = (offsetMinutes: number, form: number): string | undefined =>
  offsetMinutes === 0 && form === 0 ? undefined : formatOffset(offsetMinutes)

describe('counts within a range, against the stored rows', () => {
  test('when by_hour is asked with generated filters, ranges and offsets, then each hour of the local day holds its tweets, each once', async () => {
    await fc.assert(
      fc.asyncProperty(
        filterArb({ far: true }),
        fc.constantFrom(...OFFSETS),
        fc.nat(1),
        writingArb,
        async (f, tz, form, writing) => {
          const path = `/api/v1/resources/tweets/by_hour${queryOf(f, writing, { tz: tzOf(tz, form) })}`
          const answer = await get(path)
          expect({ path, status: answer.status }).toEqual({ path, status: 200 })
          expect(answer.body.data).toEqual(await expectedByHour(admin(), f, tz))
        },
      ),
      RUNS,
    )
  }, 60_000)

  test('when by_lang is asked with generated filters and ranges, then each (hashtag, language) holds its rows, by hashtag, most first', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb({ lang: false, far: true }), writingArb, async (f, writing) => {
        const path = `/api/v1/resources/tweets/by_lang${queryOf(f, writing)}`
        const answer = await get(path)
        expect({ path, status: answer.status }).toEqual({ path, status: 200 })
        expect(answer.body.data).toEqual(await expectedByLang(admin(), f))
      }),
      RUNS,
    )
  }, 60_000)

  test('when hashtags/all is asked with generated ranges and kinds, then every tracked hashtag has its rows within them', async () => {
    await fc.assert(
      fc.asyncProperty(filterArb({ lang: false, hash: false, far: true }), writingArb, async (f, writing) => {
        const path = `/api/v1/resources/hashtags/all${queryOf(f, writing)}`
        const answer = await get(path)
        expect({ path, status: answer.status }).toEqual({ path, status: 200 })
        expect(answer.body.data.map((h: { hashtag: string; tweet_count: number }) => [h.hashtag, h.tweet_count])).toEqual(
          (await expectedHashtagCounts(admin(), f)).map((h) => [h.hashtag, h.tweet_count]),
        )
      }),
      RUNS,
    )
  }, 60_000)

  test('when nothing narrows hashtags/all, then tweet_count is every row of the hashtag', async () => {
    const { body } = await get('/api/v1/resources/hashtags/all')
    expect(body.data).toEqual(
      (await expectedHashtagCounts(admin(), {})).map((h) => ({ ...h, last_collected_at: null, last_outcome: null })),
    )
    expect(body.data.find((h: { hashtag: string }) => h.hashtag === QUIET_TAG).tweet_count).toBe(0)
  })
})

/** Follows next_cursor from the first page of `path` (with the same filters) to the last; every id in order. */
async function walk(path: string): Promise<{ ids: string[]; pages: Answer[] }> {
  const pages: Answer[] = []
  let next: string | null = path
  while (next !== null) {
    const answer = await get(next)
    expect({ next, status: answer.status }).toEqual({ next, status: 200 })
    pages.push(answer)
    expect(pages.length).toBeLessThan(200)
    next = answer.body.next_cursor === null ? null : `${path}${path.includes('?') ? '&' : '?'}cursor=${answer.body.next_cursor}`
  }
  return { ids: pages.flatMap((page) => page.body.data.map((t: { id: string }) => t.id)), pages }
}

describe('lists within a range, walked page by page', () => {
  test('when tweets/all is walked with generated ranges and kinds, then every matching tweet comes once, newest first', async () => {
    await fc.assert(
      fc.asyncProperty(
        filterArb({ lang: false, hash: false }),
        writingArb,
        fc.integer({ min: 25, max: 400 }),
        async (f, w, limit) => {
          const { ids, pages } = await walk(`/api/v1/resources/tweets/all${queryOf(f, w, { limit })}`)
          expect(ids).toEqual(await expectedIds(admin(), f))
          for (const page of pages.slice(0, -1)) expect(page.body.data).toHaveLength(limit)
          const first = pages[0]!.body.data[0]
          if (first !== undefined) expect(normalized(first)).toEqual(normalized(await expectedTweet(admin(), first.id)))
        },
      ),
      { seed: SEED, numRuns: 40 },
    )
  }, 60_000)

  test('when tweets is walked with generated hashtags, languages, authors, ranges and kinds, then every matching tweet comes once, newest first', async () => {
    const authors = [...new Set(DATA.tweets.map((t) => t.author_id))]
    await fc.assert(
      fc.asyncProperty(
        filterArb(),
        fc.option(fc.constantFrom(...authors), { nil: undefined }),
        writingArb,
        fc.integer({ min: 10, max: 300 }),
        async (f, authorId, w, limit) => {
          const filter: Filter = { ...f, ...(authorId === undefined ? {} : { authorId }) }
          const { ids, pages } = await walk(`/api/v1/resources/tweets${queryOf(filter, w, { limit })}`)
          expect(ids).toEqual(await expectedIds(admin(), filter))
          const last = pages.at(-1)!.body.data.at(-1)
          if (last !== undefined) expect(normalized(last)).toEqual(normalized(await expectedTweet(admin(), last.id)))
        },
      ),
      { seed: SEED, numRuns: 60 },
    )
  }, 60_000)

  // src/modules/tweets/index.ts passes the DATETIME literals of since and until to the Link header
  // ('since=2026-11-20+00%3A00%3A00.000'), which the endpoint then refuses with a 400.
  test('when the Link header of a list within a range is followed, then it leads to the next page', async () => {
    const f: Filter = { since: START + DAY, until: START + 3 * DAY, kinds: ['reply', 'quote'] }
    for (const route of ['/api/v1/resources/tweets/all', '/api/v1/resources/tweets']) {
      const seen: string[] = []
      let next: string | null = `${route}${queryOf(f, { ...plainWriting, offset: 345 }, { limit: 50 })}`
      while (next !== null) {
        const answer = await get(next)
        expect({ next, status: answer.status }).toEqual({ next, status: 200 })
        seen.push(...answer.body.data.map((t: { id: string }) => t.id))
        next = answer.link === null ? null : /^<([^>]+)>; rel="next"$/.exec(answer.link)![1]!
      }
      expect(seen).toEqual(await expectedIds(admin(), f))
    }
  })
})

/** A tweet with its hashtags in one order: the contract does not fix theirs. */
const normalized = (tweet: { hashtags: string[] } | null) =>
  tweet === null ? null : { ...tweet, hashtags: [...tweet.hashtags].sort(byCodePoints) }
const byCodePoints = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe('how since and until are written', () => {
  const midnight = Date.UTC(2026, 10, 12)

  test('when the same instants are written as a date, in Z, in other offsets or with more digits, then the answers are the same', async () => {
    const forms: [number, InstantStyle, number][] = [
      [0, 'date', 6],
      [0, 'z', 6],
      [0, 'minutes', 6],
      [0, 'seconds', 6],
      [0, 'zeros', 9],
      [345, 'ms', 6],
      [-210, 'seconds', 6],
      [840, 'zeros', 4],
      [-720, 'minutes', 6],
      // A billionth and a ten-thousandth of a second before: the next millisecond is the instant itself.
      [0, 'fraction', 9],
      [330, 'fraction', 4],
    ]
    const written = (ms: number, [offset, style, digits]: [number, InstantStyle, number]) =>
      encodeURIComponent(writeInstant(ms, offset, style, digits))
    for (const path of ['tweets/by_hour', 'tweets/by_lang', 'hashtags/all', 'tweets/timeline', 'tweets/top', 'tweets/all']) {
      const answers = await Promise.all(
        forms.map((form) =>
          get(`/api/v1/resources/${path}?since=${written(midnight, form)}&until=${written(midnight + 2 * DAY, form)}`),
        ),
      )
      expect(answers[0]!.status).toBe(200)
      for (const [i, answer] of answers.entries())
        expect({ path, form: forms[i], status: answer.status, body: answer.body }).toEqual({
          path,
          form: forms[i],
          status: 200,
          body: answers[0]!.body,
        })
    }
    const byHour = await get('/api/v1/resources/tweets/by_hour?since=2026-11-12&until=2026-11-14')
    expect(byHour.body.data).toEqual(await expectedByHour(admin(), { since: midnight, until: midnight + 2 * DAY }, 0))
  })

  test('when since or until is a millisecond off, then the tweets on that millisecond are in or out', async () => {
    // Tweets are pinned on every UTC midnight of the window and a millisecond either side.
    const at = edgeOf('midnight', 3, 0, 0)
    const count = async (since: string, until: string) => {
      const { status, body } = await get(
        `/api/v1/resources/hashtags/all?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`,
      )
      expect(status).toBe(200)
      return body.data.reduce((sum: number, h: { tweet_count: number }) => sum + h.tweet_count, 0)
    }
    const iso = (ms: number) => new Date(ms).toISOString()
    const onIt = await count(iso(at), iso(at + 1))
    const before = await count(iso(at - 1), iso(at))
    expect(onIt).toBeGreaterThan(0)
    expect(before).toBeGreaterThan(0)
    expect(await count(iso(at - 1), iso(at + 1))).toBe(onIt + before)
    // since just past at - 1 keeps from at on; until just past at keeps at.
    expect(await count('2026-11-11T23:59:59.9990001Z', '2026-11-12T00:00:00.0000001Z')).toBe(onIt)
  })

  test('when an instant at or after the epoch is written in a negative offset (a local date in 1969), then it is accepted', async () => {
    const epoch = await get('/api/v1/resources/tweets/by_lang?since=1970-01-01')
    expect(epoch.status).toBe(200)
    for (const since of ['1969-12-31T20:30:00-03:30', '1969-12-31T12:00:00.000-12:00', '1969-12-31T23:59-00:01']) {
      const answer = await get(`/api/v1/resources/tweets/by_lang?since=${encodeURIComponent(since)}`)
      expect({ since, status: answer.status, body: answer.body }).toEqual({ since, status: 200, body: epoch.body })
    }
  })

  test('when since is before 1970, then it is accepted and means the same as the epoch: no tweet is older', async () => {
    for (const path of RANGED) {
      // The timeline from 1970 holds more buckets than it answers: the same 400 either way.
      const epoch = await get(`/api/v1/resources/${path}?since=1970-01-01`)
      expect({ path, status: epoch.status }).toEqual({ path, status: path === 'tweets/timeline' ? 400 : 200 })
      for (const since of ['1969-12-31T20:29:59.999-03:30', '1969-12-31T23:59:59Z', '1960-01-01', '0000-01-01T00:00:00Z']) {
        const answer = await get(`/api/v1/resources/${path}?since=${encodeURIComponent(since)}`)
        const seen = { path, since, status: answer.status, data: answer.body.data, detail: answer.body.errors?.[0]?.detail }
        expect(seen).toEqual({ path, since, status: epoch.status, data: epoch.body.data, detail: epoch.body.errors?.[0]?.detail })
      }
    }
  })

  test('when an instant is written in any form RFC 3339 allows, then it is the same instant: t and z in lower case, a leap second, any offset to ±23:59', async () => {
    const canonical = (value: string) => get(`/api/v1/resources/tweets/by_lang?since=${encodeURIComponent(value)}`)
    for (const [written, same] of [
      ['2026-11-20t10:00:00z', '2026-11-20T10:00:00Z'],
      ['2026-11-20t10:00:00.5+05:30', '2026-11-20T04:30:00.5Z'],
      ['2026-11-20T23:59:60Z', '2026-11-21T00:00:00Z'],
      ['2026-11-20T10:00:00+15:00', '2026-11-19T19:00:00Z'],
      ['2026-11-20T10:00:00-23:59', '2026-11-21T09:59:00Z'],
    ] as const) {
      const [a, b] = [await canonical(written), await canonical(same)]
      expect({ written, status: a.status, body: a.body }).toEqual({ written, status: 200, body: b.body })
    }
  })

  test('when an instant is past the year 9999, then the 400 names the bound, not a malformed value', async () => {
    for (const parameter of ['since', 'until']) {
      const answer = await get(`/api/v1/resources/tweets/by_lang?${parameter}=${encodeURIComponent('9999-12-31T23:00:00-01:00')}`)
      expect({ status: answer.status, parameters: namedParameters(answer) }).toEqual({ status: 400, parameters: [parameter] })
      expect(answer.body.errors[0].detail).toBe(`${parameter} is after the year 9999`)
    }
  })

  test('when tz is an offset RFC 3339 writes but not one in use, then the 400 names the rule it breaks', async () => {
    for (const [tz, rule] of [
      ['+14:59', 'the offsets in use run from -12:00 to +14:00'],
      ['-14:00', 'the offsets in use run from -12:00 to +14:00'],
      ['+05:17', 'offsets in use are whole quarter hours'],
    ] as const) {
      for (const path of ['tweets/by_hour', 'tweets/timeline']) {
        const answer = await get(`/api/v1/resources/${path}?tz=${encodeURIComponent(tz)}`)
        expect({ tz, path, status: answer.status, parameters: namedParameters(answer) }).toEqual({
          tz,
          path,
          status: 400,
          parameters: ['tz'],
        })
        expect(answer.body.errors[0].detail).toBe(`tz is not an offset in use: ${rule}`)
      }
    }
    // The same parser reads since's offset: +14:59 is an instant's offset RFC 3339 allows.
    expect((await get(`/api/v1/resources/tweets/by_hour?since=${encodeURIComponent('2026-11-20T10:00:00+14:59')}`)).status).toBe(
      200,
    )
  })
})

const RANGED = [
  'tweets/all',
  'tweets',
  'tweets/by_hour',
  'tweets/by_lang',
  'tweets/timeline',
  'tweets/top',
  'hashtags/all',
  'hashtags/devops/related',
]
const KINDED = ['tweets/all', 'tweets', 'tweets/by_hour', 'tweets/by_lang', 'tweets/timeline', 'tweets/top', 'hashtags/all']

describe('malformed ranges and kinds', () => {
  const refuses = async (path: string, query: string, parameter: string) => {
    const answer = await get(`/api/v1/resources/${path}?${query}`)
    expect({ path, query, status: answer.status, type: answer.type, parameters: namedParameters(answer) }).toEqual({
      path,
      query,
      status: 400,
      type: 'application/problem+json',
      parameters: [parameter],
    })
  }

  test('when since is not before until, then every endpoint that takes a range answers 400 naming until', async () => {
    const at = edgeOf('midnight', 4, 330, 0)
    for (const path of RANGED) {
      for (const [since, until] of [
        [at, at],
        [at + 1, at],
        [at + DAY, at],
      ] as const) {
        const query = queryOf({ since, until }, { ...plainWriting, offset: 330 }).slice(1)
        await refuses(path, query, 'until')
        // The same instant written in two offsets is still the same instant.
        await refuses(path, `since=${encodeURIComponent(new Date(since).toISOString())}&${query.split('&')[1]}`, 'until')
      }
    }
  })

  test('when since or until is not an instant with an offset nor a date, then it is a 400 naming it', async () => {
    const bad = [
      '2026-11-20T00:00:00',
      '2026-11-20 00:00:00Z',
      '2026-13-01',
      '2026-02-29',
      '2026-11-31T00:00:00Z',
      '2026-11-20T24:00:00Z',
      '2026-11-20T00:60:00Z',
      '2026-11-20T00:00:61Z',
      '2026-11-20T00:00:00+24:00',
      '2026-11-20T00:00:00+05:60',
      '2026-11-20t00:00:00',
      '2026-11-20T00:00:00ZZ',
      '2026-11-20T00:00:00.1234567890Z',
      '2026-11-20T00:00:00.Z',
      '20261120',
      'yesterday',
      '1732000000',
      '',
    ]
    for (const path of RANGED)
      for (const value of bad)
        for (const parameter of ['since', 'until']) await refuses(path, `${parameter}=${encodeURIComponent(value)}`, parameter)
  })

  test('when kind is not a comma-separated list of kinds, then it is a 400 naming kind', async () => {
    for (const path of KINDED)
      for (const value of ['foo', 'original,', ',reply', '', 'original;reply', 'retweets', 'original,,quote', 'all'])
        await refuses(path, `kind=${encodeURIComponent(value)}`, 'kind')
  })

  test('when hash and hashtag are both given, then they must name the same hashtag', async () => {
    for (const path of ['tweets', 'tweets/by_hour', 'tweets/by_lang', 'tweets/timeline', 'tweets/top']) {
      const one = await get(`/api/v1/resources/${path}?hash=devops&since=2026-11-12&until=2026-11-13`)
      const both = await get(`/api/v1/resources/${path}?hash=devops&hashtag=%23DevOps&since=2026-11-12&until=2026-11-13`)
      expect({ path, status: both.status, body: both.body }).toEqual({ path, status: 200, body: one.body })
      await refuses(path, 'hash=devops&hashtag=sre', 'hashtag')
    }
  })

  test('when kinds are listed in any order or more than once, then the answer is that of the set', async () => {
    await fc.assert(
      fc.asyncProperty(kindsArb, rangeArb, fc.nat(9), async (kinds, range, shuffle) => {
        if (kinds === undefined) return
        const f = { ...range, kinds }
        const a = await get(`/api/v1/resources/tweets/by_lang${queryOf(f)}`)
        const b = await get(`/api/v1/resources/tweets/by_lang${queryOf(f, { ...plainWriting, kindsShuffle: shuffle })}`)
        expect(b).toEqual(a)
      }),
      { seed: SEED, numRuns: 50 },
    )
  })

  test('the data set has every kind, language and tracked hashtag', () => {
    expect(new Set(DATA.tweets.map((t) => t.kind)).size).toBe(5)
    expect(new Set(DATA.tweets.map((t) => t.lang))).toEqual(new Set(LANGS))
    expect(new Set(DATA.tweets.flatMap((t) => t.hashtags))).toEqual(new Set(TRACKED))
  })
})
