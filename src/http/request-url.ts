/**
 * Elysia 1.4.30 takes a request's path to begin at the first '/' from index 11 of `request.url`: it
 * assumes "http://" and a host of at least four characters (https://github.com/elysiajs/elysia/issues/748,
 * open; its `standardHostname: false` only moves the index to 7). Bun's `request.url` holds the Host
 * header as sent, so a shorter host shifts the cut ("http://app/swagger" is routed as
 * "http://app/swagger", a 404; "http://x/abc/api/…" as "/api/…", past a proxy's prefix rule), and with
 * no usable Host (HTTP/1.0 without one, an empty one) it is only the request target ("/api/v1/…"
 * routed as "/resources/…"). An absolute-form target ("GET http://other/… HTTP/1.1") is given the
 * Host header's host by Bun, so it is one of these cases too.
 */

/** Where Elysia starts looking for the path's '/' (its `standardHostname` default). */
const ELYSIA_PATH_SEARCH_FROM = 11

/** Where the path of a request URL as Bun gives it really begins: after the authority, or at 0. */
export const pathStart = (url: string): number => (url.charCodeAt(0) === 47 ? 0 : url.indexOf('/', url.indexOf('//') + 2))

/**
 * The request, its `url` shadowed by one Elysia cuts where the path really begins when it would not
 * (the host is replaced: nothing in the service reads it). Only the property is shadowed, not the
 * Request rebuilt: Bun's own state (peer address, route params, body) stays with the object.
 */
export function routable(request: Request): Request {
  const url = request.url
  const start = pathStart(url)
  if (start !== url.indexOf('/', ELYSIA_PATH_SEARCH_FROM)) {
    Object.defineProperty(request, 'url', { value: `http://localhost${url.slice(start)}` })
  }
  return request
}
