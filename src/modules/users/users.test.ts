import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../../../test/support/app-world'
import { USERS } from '../../../test/support/core-data'
import { bumpVersionAndWait } from '../../../test/support/fixtures'

const world = useTestApp({ coreData: true })

const get = async (path: string) => {
  const response = await fetch(world.app.url + path)
  return { response, body: (await response.json()) as any }
}

const byId = (a: { id: string }, b: { id: string }) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0)

describe('GET /api/v1/resources/users/all', () => {
  test('when called, then it returns every user in id order with exact 64-bit ids', async () => {
    const { response, body } = await get('/api/v1/resources/users/all')
    expect(response.status).toBe(200)
    expect(body).toEqual({ data: [...USERS].sort(byId), next_cursor: null })
    expect(body.data.at(-1).id).toBe('18446744073709551615')
  })

  test('when walking pages of 2, then each user comes once and the Link header names the next page', async () => {
    const seen: string[] = []
    let path: string | null = '/api/v1/resources/users/all?limit=2'
    while (path !== null) {
      const { response, body } = await get(path)
      seen.push(...body.data.map((u: { id: string }) => u.id))
      const link = response.headers.get('link')
      if (body.next_cursor === null) {
        expect(link).toBeNull()
        path = null
      } else {
        path = /^<([^>]+)>; rel="next"$/.exec(link!)![1]!
        expect(path).toContain(`cursor=${body.next_cursor}`)
      }
    }
    expect(seen).toEqual([...USERS].sort(byId).map((u) => u.id))
  })
})

describe('GET /api/v1/resources/users/top5', () => {
  test('when called, then it returns the 5 most followed, ties broken by id', async () => {
    const { body } = await get('/api/v1/resources/users/top5')
    const expected = [...USERS].sort((a, b) => b.followers_count - a.followers_count || byId(a, b)).slice(0, 5)
    expect(body).toEqual({ data: expected })
    // alice (100) and bob (200) both have 1000 followers.
    expect(body.data.map((u: { username: string }) => u.username).slice(1, 3)).toEqual(['alice', 'bob'])
  })

  test('when a follower count changes, then the ranking follows it', async () => {
    await world.database.admin.query('UPDATE users SET followers_count = 999999 WHERE id = 500')
    await bumpVersionAndWait(world.database.admin)
    try {
      const { body } = await get('/api/v1/resources/users/top5')
      expect(body.data[0]).toEqual({ id: '500', username: 'erin', name: 'Erin', followers_count: 999999 })
    } finally {
      await world.database.admin.query('UPDATE users SET followers_count = 10 WHERE id = 500')
      await bumpVersionAndWait(world.database.admin)
    }
  })
})
