import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../../../test/support/app-world'
import { byIdDesc, HASHTAGS, TWEETS, USERS } from '../../../test/support/core-data'
import { bumpVersionAndWait, insertTweets } from '../../../test/support/fixtures'

const world = useTestApp({ coreData: true })

interface TweetBody {
  id: string
  text: string
  lang: string
  created_at: string
  author: { id: string; username: string; followers_count: number }
  hashtags: string[]
  kind: string
  metrics: unknown
}

async function get(path: string) {
  const response = await fetch(world.app.url + path)
  return { response, body: (await response.json()) as any }
}

/** Follows next_cursor from `path` to the last page; returns every page's tweets. */
async function walk(path: string, between?: (page: number) => Promise<void>): Promise<TweetBody[][]> {
  const pages: TweetBody[][] = []
  let next: string | null = path
  while (next !== null) {
    const { response, body } = await get(next)
    expect(response.status).toBe(200)
    pages.push(body.data)
    await between?.(pages.length)
    next = body.next_cursor === null ? null : `${path}${path.includes('?') ? '&' : '?'}cursor=${body.next_cursor}`
  }
  return pages
}

/** What a tweet of the fixture must look like in the API. */
function expected(id: string): TweetBody {
  const tweet = TWEETS.find((t) => t.id === id)!
  const author = USERS.find((u) => u.id === tweet.author_id)!
  return {
    id,
    text: tweet.text,
    lang: tweet.lang,
    created_at: tweet.created_at,
    author: { id: author.id, username: author.username, followers_count: author.followers_count },
    hashtags: [...tweet.hashtags].sort(),
    kind: tweet.kind ?? 'unknown',
    metrics: tweet.metrics ?? null,
  }
}

describe('GET /api/v1/resources/tweets/all', () => {
  test('when called without parameters, then it returns the first 100 tweets, newest first, whole', async () => {
    const { response, body } = await get('/api/v1/resources/tweets/all')
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(body.next_cursor).toBeNull()
    expect(response.headers.get('link')).toBeNull()
    expect(body.data).toEqual([...TWEETS].sort(byIdDesc).map((t) => expected(t.id)))
  })

  test('when ids exceed 2^53, then they round-trip exactly as strings, 4-byte characters intact', async () => {
    const { body } = await get('/api/v1/resources/tweets/all?limit=2')
    expect(body.data[0]).toEqual(expected('18446744073709551615'))
    expect(body.data[1]).toEqual(expected('1999999999999999999'))
    expect(body.data[1].text).toBe('可観測性 😀 #observability')
    expect(body.data[0].author.id).toBe('18446744073709551615')
  })

  test('when a tweet carries two tracked hashtags, then it is listed once with both', async () => {
    const { body } = await get('/api/v1/resources/tweets/all?limit=1000')
    const twice = body.data.filter((t: TweetBody) => t.id === '1000000000000000002')
    expect(twice).toHaveLength(1)
    expect(twice[0].hashtags).toEqual(['devops', 'sre'])
    expect(new Set(body.data.map((t: TweetBody) => t.id)).size).toBe(TWEETS.length)
  })

  test('when walking pages of 4, then every tweet comes exactly once, in order, with a Link to the next page', async () => {
    const { response, body } = await get('/api/v1/resources/tweets/all?limit=4')
    expect(body.data).toHaveLength(4)
    expect(response.headers.get('link')).toBe(`</api/v1/resources/tweets/all?limit=4&cursor=${body.next_cursor}>; rel="next"`)
    const pages = await walk('/api/v1/resources/tweets/all?limit=4')
    expect(pages).toHaveLength(Math.ceil(TWEETS.length / 4))
    expect(pages.flat().map((t) => t.id)).toEqual([...TWEETS].sort(byIdDesc).map((t) => t.id))
  })

  test('when tweets arrive while a client walks the pages, then no stored tweet is skipped or repeated', async () => {
    const before = [...TWEETS].sort(byIdDesc).map((t) => t.id)
    const arrivals = [
      // Newer than anything seen (lands before the cursor) and older (lands after it).
      {
        id: '1999999999999999998',
        hashtags: ['devops'],
        author_id: '100',
        lang: 'en',
        text: 'late newer',
        created_at: '2026-11-25T00:00:00.000Z',
      },
      { id: '999', hashtags: ['sre'], author_id: '100', lang: 'en', text: 'late older', created_at: '2026-11-19T00:00:00.000Z' },
    ]
    try {
      const pages = await walk('/api/v1/resources/tweets/all?limit=5', async (page) => {
        if (page === 2) await insertTweets(world.database.admin, arrivals)
      })
      const seen = pages.flat().map((t) => t.id)
      expect(new Set(seen).size).toBe(seen.length)
      expect(seen.filter((id) => before.includes(id))).toEqual(before)
    } finally {
      await world.database.admin.query('DELETE FROM tweets WHERE id IN (1999999999999999998, 999)')
      await bumpVersionAndWait(world.database.admin)
    }
  })
})

describe('GET /api/v1/resources/tweets', () => {
  const ids = (body: { data: TweetBody[] }) => body.data.map((t) => t.id)
  const fixtureIds = (keep: (t: (typeof TWEETS)[number]) => boolean) =>
    TWEETS.filter(keep)
      .sort(byIdDesc)
      .map((t) => t.id)

  test.each(['devops', '%23devops', '%23DevOps', 'DEVOPS', '%2523devops'])(
    'when hash=%s, then it returns the #devops tweets',
    async (hash) => {
      const { body } = await get(`/api/v1/resources/tweets?hash=${hash}&limit=1000`)
      expect(ids(body)).toEqual(fixtureIds((t) => t.hashtags.includes('devops')))
    },
  )

  test('when filtered by hashtag (alias of hash), then tweets under two tags still list both tags', async () => {
    const { body } = await get('/api/v1/resources/tweets?hashtag=sre&limit=1000')
    expect(ids(body)).toEqual(fixtureIds((t) => t.hashtags.includes('sre')))
    expect(body.data.find((t: TweetBody) => t.id === '1000000000000000002').hashtags).toEqual(['devops', 'sre'])
  })

  test('when filtered by lang, then only that language comes back, each tweet once', async () => {
    const { body } = await get('/api/v1/resources/tweets?lang=EN&limit=1000')
    expect(ids(body)).toEqual(fixtureIds((t) => t.lang === 'en'))
  })

  test('when filtered by author_id beyond 2^53, then the exact author matches', async () => {
    const { body } = await get('/api/v1/resources/tweets?author_id=1999999999999999999')
    expect(ids(body)).toEqual(['1999999999999999999'])
    const none = await get('/api/v1/resources/tweets?author_id=1999999999999999998')
    expect(none.body.data).toEqual([])
  })

  test('when filters are combined, then they apply together (AND)', async () => {
    const cases: [string, (t: (typeof TWEETS)[number]) => boolean][] = [
      ['hash=devops&lang=en', (t) => t.hashtags.includes('devops') && t.lang === 'en'],
      ['hash=devops&author_id=400', (t) => t.hashtags.includes('devops') && t.author_id === '400'],
      ['lang=en&author_id=500', (t) => t.lang === 'en' && t.author_id === '500'],
      ['hash=sre&lang=de&author_id=500', (t) => t.hashtags.includes('sre') && t.lang === 'de' && t.author_id === '500'],
      ['hash=sre&hashtag=SRE', (t) => t.hashtags.includes('sre')],
      ['hash=logmonitoring', () => false],
      ['hash=unknowntag', () => false],
    ]
    for (const [query, keep] of cases) {
      const { body } = await get(`/api/v1/resources/tweets?${query}&limit=1000`)
      expect({ query, ids: ids(body) }).toEqual({ query, ids: fixtureIds(keep) })
    }
  })

  test('when a filtered list spans pages, then the cursor keeps the filter and each page is full', async () => {
    const pages = await walk('/api/v1/resources/tweets?hash=devops&lang=en&limit=3')
    expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true)
    expect(pages.flat().map((t) => t.id)).toEqual(fixtureIds((t) => t.hashtags.includes('devops') && t.lang === 'en'))
  })

  test('when hash and hashtag disagree, then 400 names them', async () => {
    const { response, body } = await get('/api/v1/resources/tweets?hash=devops&hashtag=sre')
    expect(response.status).toBe(400)
    expect(body.errors[0].parameter).toBe('hashtag')
  })
})

describe('GET /api/v1/resources/tweets/by_hour', () => {
  function oracle(offsetMinutes: number, keep: (t: (typeof TWEETS)[number]) => boolean = () => true) {
    const counts = new Array(24).fill(0)
    for (const t of TWEETS.filter(keep)) counts[new Date(Date.parse(t.created_at) + offsetMinutes * 60_000).getUTCHours()]++
    return counts.map((count, hour) => ({ hour, count }))
  }

  test('when called without tz, then it returns 24 zero-filled UTC buckets counting each tweet once', async () => {
    const { body } = await get('/api/v1/resources/tweets/by_hour')
    expect(body.data).toEqual(oracle(0))
    expect(body.data.reduce((sum: number, h: { count: number }) => sum + h.count, 0)).toBe(TWEETS.length)
    expect(body.data.some((h: { count: number }) => h.count === 0)).toBe(true)
  })

  test.each([
    ['-03:00', -180],
    ['%2B05:45', 345],
    ['+09:30', 570], // an unencoded '+' arrives as a space
    ['-12:00', -720],
    ['%2B14:00', 840],
    ['Z', 0],
  ])('when tz=%s, then hours are counted in that offset', async (tz, minutes) => {
    const { body } = await get(`/api/v1/resources/tweets/by_hour?tz=${tz}`)
    expect(body.data).toEqual(oracle(minutes))
  })

  test('when filtered by hash and lang, then only those tweets count', async () => {
    const { body } = await get('/api/v1/resources/tweets/by_hour?hash=%23DevOps&lang=en&tz=-03:00')
    expect(body.data).toEqual(oracle(-180, (t) => t.hashtags.includes('devops') && t.lang === 'en'))
  })
})

describe('GET /api/v1/resources/tweets/by_lang', () => {
  function oracle(keepTag: (tag: string) => boolean = () => true) {
    const counts = new Map<string, number>()
    for (const t of TWEETS)
      for (const tag of t.hashtags.filter(keepTag)) counts.set(`${tag}|${t.lang}`, (counts.get(`${tag}|${t.lang}`) ?? 0) + 1)
    return [...counts]
      .map(([key, count]) => ({ hashtag: key.split('|')[0]!, lang: key.split('|')[1]!, count }))
      .sort((a, b) => a.hashtag.localeCompare(b.hashtag) || b.count - a.count || a.lang.localeCompare(b.lang))
  }

  test('when called, then it counts tweets per (hashtag, lang) pair', async () => {
    const { body } = await get('/api/v1/resources/tweets/by_lang')
    expect(body.data).toEqual(oracle())
    expect(body.data.find((r: { hashtag: string }) => r.hashtag === 'logmonitoring')).toBeUndefined()
  })

  test('when filtered by hash, then only that hashtag is counted', async () => {
    const { body } = await get('/api/v1/resources/tweets/by_lang?hash=SRE')
    expect(body.data).toEqual(oracle((tag) => tag === 'sre'))
  })

  test('the data set covers every tracked hashtag but one', () => {
    expect(new Set(TWEETS.flatMap((t) => t.hashtags))).toEqual(new Set(HASHTAGS.filter((h) => h !== 'logmonitoring')))
  })
})
