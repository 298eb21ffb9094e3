import type { Row, Sql } from '../../db/sql'

export interface UserRow extends Row {
  id: string
  username: string
  name: string
  followers_count: string
}

const COLUMNS = 'id, username, name, followers_count'

/** One page of users in id order, starting after `afterId`. */
export function findUsers(sql: Sql, afterId: string | null, limit: number): Promise<UserRow[]> {
  return afterId === null
    ? sql.rows<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY id LIMIT ?`, [limit])
    : sql.rows<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id > CAST(? AS UNSIGNED) ORDER BY id LIMIT ?`, [afterId, limit])
}

/** Read in the order of the users_by_followers index. */
export function findTopUsers(sql: Sql, count: number): Promise<UserRow[]> {
  return sql.rows<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY followers_count DESC, id LIMIT ?`, [count])
}

/** One user with its number of stored tweets, counted on the author's index (an author has few). */
export function findUser(sql: Sql, id: string): Promise<(UserRow & { tweet_count: string })[]> {
  return sql.rows(
    `SELECT u.id, u.username, u.name, u.followers_count,
            (SELECT COUNT(DISTINCT t.id) FROM tweets t FORCE INDEX (tweets_by_author) WHERE t.author_id = u.id) AS tweet_count
       FROM users u WHERE u.id = CAST(? AS UNSIGNED)`,
    [id],
  )
}
