import type { Static } from 'elysia'
import type { User, UserWithTweets } from './model'
import type { UserRow } from './repository'

export const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  name: row.name,
  followers_count: Number(row.followers_count),
})

export const toUserWithTweets = (row: UserRow & { tweet_count: string }): Static<typeof UserWithTweets> => ({
  ...toUser(row),
  tweet_count: Number(row.tweet_count),
})
