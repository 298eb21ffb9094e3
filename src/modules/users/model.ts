import { Type } from '@sinclair/typebox'
import { type Static, t } from 'elysia'
import { Aggregate, CursorParam, IdParam, IdString, LimitParam, Page } from '../../http/schemas'

export const User = t.Object(
  {
    id: IdString('Id of the user (64-bit, as a string).'),
    username: t.String({ description: 'Handle, without @.' }),
    name: t.String({ description: 'Display name.' }),
    followers_count: Type.Integer({ minimum: 0, description: 'Followers when last collected.' }),
  },
  {
    title: 'User',
    description: 'An author of stored tweets, as last collected.',
    examples: [{ id: '1234567890123456789', username: 'oncall_ana', name: 'Ana 🔥 SRE', followers_count: 5210 }],
  },
)
export type User = Static<typeof User>

export const AllUsersQuery = t.Object({ limit: t.Optional(LimitParam), cursor: t.Optional(CursorParam) })
export const UserPage = Page(User, 'UserPage', 'Users, by id')

export const TopUsers = Aggregate(User, 'TopUsers', 'The 5 users with the most followers, most first; ties by id')

export const UserWithTweets = t.Object(
  { ...User.properties, tweet_count: Type.Integer({ minimum: 0, description: 'Stored tweets the user posted.' }) },
  {
    title: 'UserWithTweets',
    description: 'An author of stored tweets, as last collected, with the number of its stored tweets.',
    examples: [{ id: '1234567890123456789', username: 'oncall_ana', name: 'Ana 🔥 SRE', followers_count: 5210, tweet_count: 17 }],
  },
)

export const UserIdParams = t.Object({ id: IdParam('id', 'Id of the user.') })
