import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../../test/support/app-world'
import { echo } from './echo'

const world = useTestApp({ coreData: true })

const TWEETS = '/api/v1/resources/tweets'

/** Queries that name only parameters their endpoint does not take: the kind is unknown-parameter. */
const UNKNOWN_ONLY = new Set([
  `${TWEETS}/by_lang?lang=en`,
  `${TWEETS}?lng=en`,
  '/api/v1/resources/users/top5?limit=3',
  '/api/v1/resources/hashtags/all?x',
  '/health/ready?verbose=1',
])

const typeOf = (path: string, status: number): string =>
  status === 404 ? '/problems/not-found' : UNKNOWN_ONLY.has(path) ? '/problems/unknown-parameter' : '/problems/invalid-parameter'

async function expectProblem(path: string, status: number, parameter?: string) {
  const response = await fetch(world.app.url + path)
  const text = await response.text()
  expect({ path, status: response.status }).toEqual({ path, status })
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = JSON.parse(text)
  expect(body).toMatchObject({ type: typeOf(path, status), status, instance: echo(new URL(world.app.url + path).pathname) })
  expect(body.detail).toBeString()
  // Values are echoed (quoted, truncated); our SQL, driver codes and stack frames never are.
  expect(text).not.toMatch(/GROUP BY|JOIN|CAST\(|ER_[A-Z]|\.ts:\d+|node_modules|stack/i)
  if (parameter !== undefined) expect(body.errors.map((e: { parameter: string }) => e.parameter)).toContain(parameter)
  return body
}

describe('bad query parameters', () => {
  const cases: [string, string][] = [
    [`${TWEETS}/all?limit=0`, 'limit'],
    [`${TWEETS}/all?limit=1001`, 'limit'],
    [`${TWEETS}/all?limit=-1`, 'limit'],
    [`${TWEETS}/all?limit=-0`, 'limit'],
    [`${TWEETS}/all?limit=abc`, 'limit'],
    [`${TWEETS}/all?limit=0x10`, 'limit'],
    [`${TWEETS}/all?limit=1e3`, 'limit'],
    [`${TWEETS}/all?limit=10.5`, 'limit'],
    [`${TWEETS}/all?limit=%2010`, 'limit'],
    [`${TWEETS}/all?limit=99999999999999999999`, 'limit'],
    [`${TWEETS}/all?limit=`, 'limit'],
    [`${TWEETS}/all?cursor=not-a-cursor`, 'cursor'],
    [`${TWEETS}/all?cursor=${Buffer.from('12a').toString('base64url')}`, 'cursor'],
    [`${TWEETS}/all?cursor=${Buffer.from('99999999999999999999').toString('base64url')}`, 'cursor'],
    [`${TWEETS}/all?cursor=`, 'cursor'],
    [`/api/v1/resources/users/all?cursor=%3D%3D`, 'cursor'],
    [`${TWEETS}?author_id=12a`, 'author_id'],
    [`${TWEETS}?author_id=-5`, 'author_id'],
    [`${TWEETS}?author_id=18446744073709551616`, 'author_id'],
    [`${TWEETS}?author_id=`, 'author_id'],
    [`${TWEETS}?lang=e`, 'lang'],
    [`${TWEETS}?lang=english-language-code`, 'lang'],
    [`${TWEETS}?lang=`, 'lang'],
    [`${TWEETS}?hash=`, 'hash'],
    [`${TWEETS}?hash=%23`, 'hash'],
    [`${TWEETS}?hash=dev-ops`, 'hash'],
    [`${TWEETS}?hashtag=${'a'.repeat(101)}`, 'hashtag'],
    [`${TWEETS}/by_hour?tz=-03`, 'tz'],
    [`${TWEETS}/by_hour?tz=%2B14:30`, 'tz'],
    [`${TWEETS}/by_hour?tz=-12:15`, 'tz'],
    [`${TWEETS}/by_hour?tz=-03:20`, 'tz'],
    [`${TWEETS}/by_hour?tz=America/Sao_Paulo`, 'tz'],
    [`${TWEETS}/by_hour?tz=`, 'tz'],
    [`${TWEETS}/by_lang?lang=en`, 'lang'], // not a parameter of by_lang
    [`${TWEETS}?lng=en`, 'lng'],
    [`${TWEETS}?hash=devops&hash=sre`, 'hash'],
    [`${TWEETS}?limit=5&limit=6`, 'limit'],
    [`${TWEETS}?lang=%E0%A4%A`, 'lang'],
    [`${TWEETS}?%ZZ=1`, '(query)'],
    ['/api/v1/resources/users/top5?limit=3', 'limit'],
    ['/api/v1/resources/hashtags/all?x', 'x'],
    ['/health/ready?verbose=1', 'verbose'],
  ]
  test.each(cases)('when %s, then 400 problem+json names %s', async (path, parameter) => {
    const body = await expectProblem(path, 400, parameter)
    expect(body.title).toBe('Bad Request')
  })

  test('when several parameters are bad, then each is named', async () => {
    const body = await expectProblem(`${TWEETS}?lang=1&author_id=x&limit=0`, 400)
    expect(body.errors.map((e: { parameter: string }) => e.parameter).sort()).toEqual(['author_id', 'lang', 'limit'])
  })

  test('when a limit is out of range, then the message says what is accepted and what was sent', async () => {
    const body = await expectProblem(`${TWEETS}/all?limit=5000`, 400, 'limit')
    expect(body.detail).toBe('limit must be an integer from 1 to 1000, got "5000"')
  })
})

describe('hostile values', () => {
  const injections = [
    "devops' OR '1'='1",
    'devops; DROP TABLE tweets; --',
    '1 UNION SELECT username, name FROM users --',
    '" OR ""="',
    '%27%20OR%201%3D1--',
    '\u0000devops',
    '\u202Edevops',
    '🚀'.repeat(50),
    // Far beyond any parameter's length, still inside the query-string bound (longer ones get 414).
    'x'.repeat(2_000),
  ]
  const params = ['hash', 'hashtag', 'lang', 'author_id', 'cursor', 'limit']

  test('when SQL-injection strings, control characters and huge values are sent, then every answer is a 400 and nothing changes', async () => {
    const [[before]] = (await world.database.admin.query(
      'SELECT (SELECT COUNT(*) FROM tweets) t, (SELECT COUNT(*) FROM users) u, (SELECT COUNT(*) FROM hashtags) h',
    )) as any
    for (const value of injections) {
      for (const param of params) {
        await expectProblem(`${TWEETS}?${param}=${encodeURIComponent(value)}`, 400, param)
      }
      await expectProblem(`${TWEETS}/by_hour?tz=${encodeURIComponent(value)}`, 400, 'tz')
    }
    const [[after]] = (await world.database.admin.query(
      'SELECT (SELECT COUNT(*) FROM tweets) t, (SELECT COUNT(*) FROM users) u, (SELECT COUNT(*) FROM hashtags) h',
    )) as any
    expect(after).toEqual(before)
    const { status } = await fetch(`${world.app.url}/health/ready`)
    expect(status).toBe(200)
  })

  test('when a hashtag in another script is asked for, then it is a valid hashtag with no tweets', async () => {
    const response = await fetch(`${world.app.url}${TWEETS}?hash=${encodeURIComponent('#可観測性')}`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ data: [], next_cursor: null })
  })
})

describe('unknown routes and methods', () => {
  test('when a path does not exist, then 404 problem+json', async () => {
    const body = await expectProblem('/api/v1/resources/tweets/all/nope', 404)
    expect(body.title).toBe('Not Found')
    await expectProblem('/api/v2/resources/tweets/all', 404)
    await expectProblem(`/${'a/'.repeat(200)}`, 404)
  })

  test.each(['POST', 'PUT', 'DELETE', 'PATCH'])('when %s is sent to a read endpoint, then 405 with Allow', async (method) => {
    const response = await fetch(`${world.app.url}${TWEETS}/all`, {
      method,
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
    expect(response.headers.get('content-type')).toBe('application/problem+json')
  })

  test('when HEAD is sent, then the headers of GET come without a body', async () => {
    const response = await fetch(`${world.app.url}${TWEETS}/all`, { method: 'HEAD' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(await response.text()).toBe('')
  })
})
