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
