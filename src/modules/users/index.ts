import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import { readPage } from '../../http/pagination'
import { problemResponses } from '../../http/problem'
import { strictQuery } from '../../http/query'
import { cacheKey, type ResponseCache } from '../../http/response-cache'
import { toUser } from './mapper'
import { AllUsersQuery, TopUsers, TopUsersQuery, UserPage } from './model'
import { findTopUsers, findUsers } from './repository'

const TAGS = ['users']

const ALL = '/api/v1/resources/users/all'
const TOP5 = '/api/v1/resources/users/top5'

export const usersModule = (db: Database, cache: ResponseCache) =>
  new Elysia({ name: 'users' })
    .get(
      ALL,
      ({ query, request, set }) => {
        const params = { limit: query.limit, cursor: query.cursor }
        return cache.respond(request, set, cacheKey(ALL, params), () =>
          readPage(ALL, params, async (after, limit) => (await findUsers(db, after, limit)).map(toUser)),
        )
      },
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
    .get(
      TOP5,
      ({ request, set }) =>
        cache.respond(request, set, TOP5, async () => ({ body: { data: (await findTopUsers(db, 5)).map(toUser) } })),
      {
        query: TopUsersQuery,
        transform: strictQuery(TopUsersQuery),
        response: { 200: TopUsers, ...problemResponses },
        detail: {
          tags: TAGS,
          summary: 'The 5 users with the most followers',
          description: 'Most followers first; users with the same count come in id order.',
        },
      },
    )
