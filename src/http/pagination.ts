import { isUint64 } from '../domain/ids'
import { invalidParameters } from './problem'
import type { Computed } from './response-cache'
import { LIMIT_DEFAULT } from './schemas'

/**
 * Keyset pagination. A cursor is the sort key of the last row of a page, base64url-encoded so
 * clients treat it as opaque. The next page starts strictly after it, so page 10,000 costs what page 1
 * costs and rows inserted while a client walks the pages cause neither duplicates nor gaps.
 */

export const encodeCursor = (lastId: string): string => Buffer.from(lastId, 'latin1').toString('base64url')

/** The id a cursor names; a 400 naming `cursor` when it was not produced by `encodeCursor`. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('latin1')
  if (!isUint64(id) || encodeCursor(id) !== cursor) {
    throw invalidParameters([{ parameter: 'cursor', detail: 'cursor must be the next_cursor of a previous page, unchanged' }])
  }
  return id
}

export interface PageQuery {
  limit?: number
  cursor?: string
}

/** Query parameters of a list request, normalised: the filters, and the page's size and position. */
export type ListParams = Record<string, string | number | undefined>

/** RFC 8288 Link header to the next page: the same route and (normalised) parameters, the new cursor. */
export function nextLink(route: string, params: ListParams, nextCursor: string): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && key !== 'cursor') search.set(key, String(value))
  search.set('cursor', nextCursor)
  return `<${route}?${search.toString()}>; rel="next"`
}

/**
 * Reads one page through `fetch`, which returns rows in key order after the given id. It is asked
 * for one row more than the page holds: the extra row only proves that a next page exists. The
 * answer carries the Link header when there is a next page.
 */
export async function readPage<T extends { id: string }>(
  route: string,
  params: ListParams & PageQuery,
  fetch: (afterId: string | null, limit: number) => Promise<T[]>,
): Promise<Computed> {
  const limit = params.limit ?? LIMIT_DEFAULT
  const rows = await fetch(params.cursor === undefined ? null : decodeCursor(params.cursor), limit + 1)
  if (rows.length <= limit) return { body: { data: rows, next_cursor: null } }
  const data = rows.slice(0, limit)
  const nextCursor = encodeCursor(data[data.length - 1]!.id)
  return { body: { data, next_cursor: nextCursor }, headers: { link: nextLink(route, params, nextCursor) } }
}
