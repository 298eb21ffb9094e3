import { Elysia } from 'elysia'
import type { Database } from '../../db/sql'
import { readPage } from '../../http/pagination'
import { HttpProblem } from '../../http/problem'
import { cacheKey, type ResponseCache } from '../../http/response-cache'
import { apiRoute } from '../../http/route'
import { NoQuery } from '../../http/schemas'
import { toUser, toUserWithTweets } from './mapper'
import { AllUsersQuery, TopUsers, UserIdParams, UserPage, UserWithTweets } from './model'
import { findTopUsers, findUser, findUsers } from './repository'

const TAG = 'users'

const ALL = '/api/v1/resources/users/all'
const TOP5 = '/api/v1/resources/users/top5'
const ONE = '/api/v1/resources/users/:id'

export const usersModule = (db: Database, cache: ResponseCache) =>
  new Elysia({ name: 'users' })
    .use(
      apiRoute(
        {
          path: ALL,
          operationId: 'listUsers',
          tag: TAG,
          summary: 'All stored users',
          description: 'Every stored user, by id, one page at a time.',
          query: AllUsersQuery,
          success: UserPage,
          answering: 'cached',
          paged: true,
        },
        ({ query, request, set }) => {
          const params = { limit: query.limit, cursor: query.cursor }
          return cache.respond(request, set, cacheKey(ALL, params), () =>
            readPage(ALL, params, async (after, limit) => (await findUsers(db, after, limit)).map(toUser)),
          )
        },
      ),
    )
    .use(
      apiRoute(
        {
          path: TOP5,
          operationId: 'topUsers',
          tag: TAG,
          summary: 'The 5 users with the most followers',
          description: 'Most followers first; users with the same count come in id order.',
          query: NoQuery,
          success: TopUsers,
          answering: 'cached',
        },
        ({ request, set }) =>
          cache.respond(request, set, TOP5, async () => ({ body: { data: (await findTopUsers(db, 5)).map(toUser) } })),
      ),
    )
    .use(
      apiRoute(
        {
          path: ONE,
          operationId: 'getUser',
          tag: TAG,
          summary: 'One user by id',
          description: 'The stored author with this id, as last collected, with the number of its stored tweets.',
          query: NoQuery,
          params: UserIdParams,
          missing: 'No stored user has this id.',
          success: UserWithTweets,
          answering: 'cached',
        },
        ({ params, request, set }) => {
          const id = params.id!
          return cache.respond(request, set, cacheKey(ONE, { id }), async () => {
            const [row] = await findUser(db, id)
            if (row === undefined) throw new HttpProblem('not-found', `no stored user has id ${id}`)
            return { body: toUserWithTweets(row) }
          })
        },
      ),
    )
