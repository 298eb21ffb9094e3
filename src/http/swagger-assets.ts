import { dirname, join } from 'node:path'
import { Elysia, t } from 'elysia'
import { echo } from './echo'
import { HttpProblem } from './problem'

/**
 * The Swagger UI's script and stylesheet, served from the swagger-ui-dist package instead of a CDN:
 * the UI then works on closed networks and does not depend on a third party being up.
 */

export const SWAGGER_ASSETS_PATH = '/swagger/assets'

const DIST = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
/** The client names the file: a Map, so that `constructor` or `__proto__` name nothing. */
const FILES = new Map([
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui.css', 'text/css; charset=utf-8'],
])

export const swaggerAssets = () =>
  new Elysia({ name: 'swagger-assets' }).get(
    `${SWAGGER_ASSETS_PATH}/:file`,
    ({ params }) => {
      const type = FILES.get(params.file)
      if (type === undefined) throw new HttpProblem('not-found', `there is no Swagger UI asset named ${echo(params.file)}`)
      return new Response(Bun.file(join(DIST, params.file)), {
        headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' },
      })
    },
    { params: t.Object({ file: t.String() }), detail: { hide: true } },
  )
