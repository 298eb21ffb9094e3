import { invalidParameters } from './problem'
import { isUint64, LIMIT_DEFAULT } from './schemas'

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

/** RFC 8288 Link header to the next page: the request's own path and parameters with the new cursor. */
export function nextLink(url: string, nextCursor: string): string {
  const { pathname, searchParams } = new URL(url)
  searchParams.set('cursor', nextCursor)
  return `<${pathname}?${searchParams.toString()}>; rel="next"`
}

export interface PageQuery {
  limit?: number
  cursor?: string
}

/**
 * Reads one page through `fetch`, which returns rows in key order after the given id. It is asked
 * for one row more than the page holds: the extra row only proves that a next page exists. Sets
 * the Link header when there is one.
 */
export async function readPage<T extends { id: string }>(
  query: PageQuery,
  request: Request,
  set: { headers: Record<string, string | number> },
  fetch: (afterId: string | null, limit: number) => Promise<T[]>,
): Promise<{ data: T[]; next_cursor: string | null }> {
  const limit = query.limit ?? LIMIT_DEFAULT
  const rows = await fetch(query.cursor === undefined ? null : decodeCursor(query.cursor), limit + 1)
  if (rows.length <= limit) return { data: rows, next_cursor: null }
  const data = rows.slice(0, limit)
  const nextCursor = encodeCursor(data[data.length - 1]!.id)
  set.headers.link = nextLink(request.url, nextCursor)
  return { data, next_cursor: nextCursor }
}
