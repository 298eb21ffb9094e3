import type { User } from './model'
import type { UserRow } from './repository'

export const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  name: row.name,
  followers_count: Number(row.followers_count),
})
