import { Elysia } from 'elysia'
import type { Database } from '../../db/database'
import { readPage } from '../../shared/pagination'
import { problemResponses } from '../../shared/problem'
import { strictQuery } from '../../shared/query'
import { toUser } from './mapper'
import { AllUsersQuery, TopUsers, TopUsersQuery, UserPage } from './model'
import { findTopUsers, findUsers } from './repository'

const TAGS = ['users']

export const usersModule = (db: Database) =>
  new Elysia({ name: 'users' })
    .get(
      '/api/v1/resources/users/all',
      ({ query, request, set }) =>
        readPage(query, request, set, async (after, limit) => (await findUsers(db, after, limit)).map(toUser)),
      {
        query: AllUsersQuery,
        transform: strictQuery(AllUsersQuery),
        response: { 200: UserPage, ...problemResponses },
        detail: {
          tags: TAGS,
          summary: 'All stored users',
          description: 'Every author of a stored tweet, by id, one page at a time.',
        },
      },
    )
    .get('/api/v1/resources/users/top5', async () => ({ data: (await findTopUsers(db, 5)).map(toUser) }), {
      query: TopUsersQuery,
      transform: strictQuery(TopUsersQuery),
      response: { 200: TopUsers, ...problemResponses },
      detail: {
        tags: TAGS,
        summary: 'The 5 users with the most followers',
        description: 'Most followers first; users with the same count come in id order.',
      },
    })
