import { describe, expect, test } from 'bun:test'
import { MalformedLookupError, parseLookup } from './lookup'

const metrics = { retweet_count: 1, reply_count: 2, like_count: 3, quote_count: 4, bookmark_count: 0, impression_count: 50 }
const post = (id: string, public_metrics: unknown = metrics) => ({ id, text: 'x', author_id: '9', public_metrics })

describe('reading a post lookup answer', () => {
  test('when every post is well formed, then each gives its metrics, impressions null when left out', () => {
    const { impression_count: _, ...noImpressions } = metrics
    const parsed = parseLookup({ data: [post('1'), post('2', noImpressions)], includes: { users: [] } })
    expect(parsed.returned).toBe(2)
    expect(Object.fromEntries(parsed.metrics)).toEqual({
      '1': { likes: 3, retweets: 1, replies: 2, quotes: 4, impressions: 50 },
      '2': { likes: 3, retweets: 1, replies: 2, quotes: 4, impressions: null },
    })
    expect(parsed.skipped).toEqual([])
  })

  test('when posts are malformed, duplicated, out of range or without metrics, then each costs itself only', () => {
    const parsed = parseLookup({
      data: [
        post('1'),
        { id: 2 },
        post('1'),
        post('99999999999999999999'),
        post('3', { like_count: 1 }),
        post('4', { ...metrics, like_count: -1 }),
        'not a post',
        post('5'),
      ],
    })
    expect([...parsed.metrics.keys()]).toEqual(['1', '5'])
    expect(parsed.skipped).toEqual([
      { id: '', reason: 'malformed' },
      { id: '1', reason: 'duplicate' },
      { id: '99999999999999999999', reason: 'id_out_of_range' },
      { id: '3', reason: 'no_metrics' },
      { id: '4', reason: 'no_metrics' },
      { id: '', reason: 'malformed' },
    ])
    expect(parsed.returned).toBe(8)
  })

  test('when posts are deleted or protected, then their ids come from errors[] and nothing fails', () => {
    const parsed = parseLookup({
      data: [post('1')],
      errors: [
        { value: '2', resource_id: '2', resource_type: 'tweet', title: 'Not Found Error', parameter: 'ids' },
        { value: '3', resource_id: '3', resource_type: 'tweet', title: 'Authorization Error', parameter: 'ids' },
        { value: '4', resource_type: 'tweet', title: 'Not Found Error' },
        { resource_id: '77', resource_type: 'user', title: 'Not Found Error' },
        { title: 'Something else' },
        'junk',
      ],
    })
    expect(parsed.notFound).toEqual(['2', '3', '4'])
    expect(parsed.otherErrors).toBe(3)
    expect([...parsed.metrics.keys()]).toEqual(['1'])
  })

  test('when no post is found, then the answer has only errors and is read as such', () => {
    const parsed = parseLookup({ errors: [{ value: '2', resource_type: 'tweet', title: 'Not Found Error' }] })
    expect(parsed).toMatchObject({ returned: 0, notFound: ['2'], skipped: [] })
  })

  test.each([
    ['not an object', 'oops'],
    ['data that is not a list', { data: { id: '1' } }],
    ['errors that are not a list', { errors: 'x' }],
    ['null', null],
  ])('when the answer is %s, then nothing of it is trusted', (_, body) => {
    expect(() => parseLookup(body)).toThrow(MalformedLookupError)
  })
})
