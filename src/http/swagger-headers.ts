import { createHash } from 'node:crypto'
import { Elysia } from 'elysia'

/**
 * Security headers of the Swagger UI page, its assets and the OpenAPI document: a public API page
 * should not be framed, sniffed into another type, or leak its URL to other sites, and a script
 * injected into it should not run.
 *
 * The page's one inline script (it starts the UI with the document's URL) is allowed by its SHA-256
 * hash, computed from the page as the openapi plugin renders it, so the policy follows the plugin
 * and PUBLIC_BASE_URL without a copy of the script here. Swagger UI draws some icons from data: URIs
 * (its styles come from its own stylesheet; what it sets from script is not an inline style the
 * policy governs); "Try it out" calls the API on this origin, or on PUBLIC_BASE_URL's.
 */

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi

const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

/** The policy of the page: its own scripts, styles and images, and its inline scripts by hash. */
export function pagePolicy(html: string, apiOrigin: string | undefined): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`,
  )
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`.trimEnd(),
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${apiOrigin === undefined ? '' : ` ${apiOrigin}`}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/** Everything else under /swagger (the document, the assets) runs nothing and loads nothing. */
const RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"

/**
 * @param swaggerPath where the UI is served (`/swagger`): it, its trailing-slash form, the document and
 *   the assets get the headers.
 * @param publicBaseUrl PUBLIC_BASE_URL, whose origin "Try it out" may call.
 */
export const swaggerHeaders = (swaggerPath: string, publicBaseUrl: string | undefined) => {
  const apiOrigin = publicBaseUrl === undefined ? undefined : new URL(publicBaseUrl).origin
  // The page is the same for every request: its policy is computed once per distinct page.
  const policies = new Map<string, string>()
  return new Elysia({ name: 'swagger-headers' }).onAfterHandle({ as: 'global' }, async ({ path, response, set }) => {
    if (path !== swaggerPath && !path.startsWith(`${swaggerPath}/`)) return
    Object.assign(set.headers, COMMON)
    const page = path === swaggerPath || path === `${swaggerPath}/`
    // The plugin serves the page as a static Response, which Elysia hands on as a function making a clone of it.
    const answer = typeof response === 'function' ? (response as () => unknown)() : response
    if (!page || !(answer instanceof Response) || !answer.headers.get('content-type')?.startsWith('text/html')) {
      set.headers['content-security-policy'] = RESOURCE_POLICY
      return
    }
    const html = await answer.text()
    let policy = policies.get(html)
    if (policy === undefined) {
      policy = pagePolicy(html, apiOrigin)
      if (policies.size < 8) policies.set(html, policy)
    }
    const headers = new Headers(answer.headers)
    for (const [name, value] of Object.entries({ ...COMMON, 'content-security-policy': policy })) headers.set(name, value)
    return new Response(html, { status: answer.status, headers })
  })
}
