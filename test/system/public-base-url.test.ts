import { describe, expect, test } from 'bun:test'
import { mysqlUrl, startService } from '../../scripts/lib/service-process'
import { createTestDatabase } from '../support/database'

/** PUBLIC_BASE_URL reaches the served document: a client generated behind a proxy calls the proxy. */
describe('PUBLIC_BASE_URL', () => {
  test('when it is set, then the OpenAPI document names it as the server; unset, the server is relative', async () => {
    const database = await createTestDatabase()
    const env = { MYSQL_URL: mysqlUrl(database.config), COLLECT_SOURCE: 'off', LOG_LEVEL: 'warn' }
    const behind = await startService({ ...env, PUBLIC_BASE_URL: 'https://api.example.com/th' })
    const direct = await startService(env)
    try {
      const served = async (url: string) => ((await (await fetch(`${url}/swagger/json`)).json()) as any).servers
      expect((await served(behind.url)).map((s: any) => s.url)).toEqual(['https://api.example.com/th'])
      expect((await served(direct.url)).map((s: any) => s.url)).toEqual(['/'])
    } finally {
      await Promise.all([behind.stop(), direct.stop()])
      await database.drop()
    }
  }, 60_000)
})
