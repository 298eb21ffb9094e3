import { StatusMap } from 'elysia'

/**
 * What went on the wire for a request, as the metrics and the access log record it: the status
 * actually sent and the route it is labelled with.
 */

/** Errors thrown before routing (the 414 of a long query) have no route: they share the catch-all's. */
export const UNMATCHED_ROUTE = '/*'

export const routeLabel = (route: string | undefined): string => route ?? UNMATCHED_ROUTE

/**
 * A Response returned by a handler (the response cache's 304) carries its own status, and Elysia
 * sends it unless it is 200, in which case `set.status` wins (its mergeStatus); anything else is
 * sent with `set.status`, which may also hold a status name.
 */
export function sentStatus(set: { status?: number | string }, responseValue: unknown): number {
  if (responseValue instanceof Response && responseValue.status !== 200) return responseValue.status
  const status = set.status
  if (typeof status === 'number') return status
  return status !== undefined && Object.hasOwn(StatusMap, status) ? StatusMap[status as keyof typeof StatusMap] : 200
}

/** How a streamed body ended: every byte handed to the connection, or cut short (the client left, a read failed). */
export type BodyEnd = 'complete' | 'cut'

const streamedBodies = new WeakMap<Request, Promise<BodyEnd>>()

/**
 * Marks the answer to `request` as a streamed body; the returned function is called once, when it
 * ends. The access log and the metrics then measure the request to its last byte, not to its first,
 * and record whether the body was cut short.
 */
export function streamedBody(request: Request): (end: BodyEnd) => void {
  let settle: (end: BodyEnd) => void = () => {}
  streamedBodies.set(
    request,
    new Promise<BodyEnd>((resolve) => {
      settle = resolve
    }),
  )
  return (end) => settle(end)
}

/** When the answer's body ends: at once ('complete') for an answer that is not streamed. */
export const bodyEnd = (request: Request): Promise<BodyEnd> | null => streamedBodies.get(request) ?? null
