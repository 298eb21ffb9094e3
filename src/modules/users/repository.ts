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
