import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../../../test/support/app-world'
import { HASHTAGS, TWEETS } from '../../../test/support/core-data'
import { bumpVersionAndWait } from '../../../test/support/fixtures'

const world = useTestApp({
  coreData: true,
  async arrange(database) {
    await database.admin.query(
      "UPDATE hashtags SET last_collected_at = '2026-11-28 09:00:02.314', last_outcome = 'ok' WHERE tag = 'devops'",
    )
    await bumpVersionAndWait(database.admin)
  },
})

describe('GET /api/v1/resources/hashtags/all', () => {
  test('when called, then every tracked hashtag is listed with its tweet count, those without tweets included', async () => {
    const response = await fetch(`${world.app.url}/api/v1/resources/hashtags/all`)
    const body = (await response.json()) as any
    const expected = [...HASHTAGS].sort().map((hashtag) => ({
      hashtag,
      tweet_count: TWEETS.filter((t) => t.hashtags.includes(hashtag)).length,
      last_collected_at: hashtag === 'devops' ? '2026-11-28T09:00:02.314Z' : null,
      last_outcome: hashtag === 'devops' ? 'ok' : null,
    }))
    expect(body).toEqual({ data: expected })
    expect(body.data.find((h: { hashtag: string }) => h.hashtag === 'logmonitoring').tweet_count).toBe(0)
  })
})

describe('a tracked hashtag written in another Unicode normal form', () => {
  test('when café is tracked and asked for in NFD or NFC, in a path or in hash, then it is the same hashtag', async () => {
    const nfc = 'caf\u00e9'
    const nfd = 'cafe\u0301'
    await world.database.admin.query('INSERT INTO hashtags (tag) VALUES (?)', [nfc])
    await bumpVersionAndWait(world.database.admin)
    try {
      for (const form of [nfc, nfd, nfd.toUpperCase(), `#${nfd}`]) {
        const related = await fetch(`${world.app.url}/api/v1/resources/hashtags/${encodeURIComponent(form)}/related`)
        expect({ form, status: related.status }).toEqual({ form, status: 200 })
        const tweets = await fetch(`${world.app.url}/api/v1/resources/tweets?hash=${encodeURIComponent(form)}`)
        expect({ form, status: tweets.status }).toEqual({ form, status: 200 })
      }
      const all = (await (await fetch(`${world.app.url}/api/v1/resources/hashtags/all`)).json()) as any
      expect(all.data.filter((h: { hashtag: string }) => h.hashtag.normalize('NFC') === nfc).map((h: any) => h.hashtag)).toEqual([
        nfc,
      ])
    } finally {
      await world.database.admin.query('DELETE FROM hashtags WHERE tag = ?', [nfc])
      await bumpVersionAndWait(world.database.admin)
    }
  })
})
