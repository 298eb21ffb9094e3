import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { type RunningApp, startApp } from '../../../test/support/app'
import { createTestDatabase, type TestDatabase } from '../../../test/support/database'
import { createDatabase } from '../../db/database'
import type { Database } from '../../db/sql'

/**
 * Readiness names the real cause when it is not ready. A database user that lost a privilege used
 * to be reported as "schema missing" (information_schema hides the tables a user may not read),
 * sending whoever was on call to re-apply a schema that was there all along.
 */

let database: TestDatabase
const user = `th_ready_${process.pid}_${randomBytes(3).toString('hex')}`
const password = randomBytes(12).toString('hex')
let restricted: Database
let app: RunningApp

beforeAll(async () => {
  database = await createTestDatabase()
  const name = database.config.database
  await database.admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password])
  await database.admin.query(`GRANT SELECT ON ${database.admin.escapeId(name)}.* TO ?@'%'`, [user])
  restricted = createDatabase({ ...database.config, user, password })
  app = startApp(restricted)
})

afterAll(async () => {
  await app?.stop()
  await restricted?.close()
  await database?.admin.query(`DROP USER IF EXISTS ?@'%'`, [user])
  await database?.drop()
})

/** New connections: a change of database-level privileges applies to connections opened after it. */
async function reconnect() {
  await app.stop()
  await restricted.close()
  restricted = createDatabase({ ...database.config, user, password })
  app = startApp(restricted)
}

/** Grants SELECT on every table but `denied` (a database-level grant cannot leave one out). */
async function grantAllBut(denied: string) {
  const name = database.config.database
  const [rows] = (await database.admin.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [
    name,
  ])) as any
  await database.admin.query(`REVOKE SELECT ON ${database.admin.escapeId(name)}.* FROM ?@'%'`, [user])
  for (const { t } of rows as { t: string }[]) {
    if (t !== denied)
      await database.admin.query(`GRANT SELECT ON ${database.admin.escapeId(name)}.${database.admin.escapeId(t)} TO ?@'%'`, [
        user,
      ])
  }
  await reconnect()
}

async function ready() {
  const response = await fetch(`${app.url}/health/ready`)
  const text = await response.text()
  return { status: response.status, body: JSON.parse(text), text }
}

/** Nothing of the database's own words: its name, the user, statements, server messages. */
const expectNoInternals = (text: string) => {
  expect(text).not.toContain(database.config.database)
  expect(text).not.toContain(user)
  expect(text).not.toMatch(/SELECT|FROM|information_schema|command denied|ER_|errno/i)
}

describe('readiness with a database user lacking privileges', () => {
  test('when the user may read every table, then ready', async () => {
    expect((await ready()).body).toEqual({ status: 'ready', checks: { database: 'up', schema: 'present', shutting_down: false } })
  })

  test('when the user may not read one table, then 503 says access was refused, not that the schema is missing', async () => {
    await grantAllBut('tweets')
    try {
      const { status, body, text } = await ready()
      expect(status).toBe(503)
      expect(body).toMatchObject({ status: 'not_ready', checks: { database: 'up', schema: 'denied' } })
      expect(body.detail).toMatch(/refused|privilege/)
      expectNoInternals(text)
    } finally {
      await database.admin.query(`GRANT SELECT ON ${database.admin.escapeId(database.config.database)}.* TO ?@'%'`, [user])
      await reconnect()
    }
  })

  test('when the user may not use the database at all, then 503 says access was refused', async () => {
    await database.admin.query(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@'%'`, [user])
    await reconnect()
    const { status, body, text } = await ready()
    expect(status).toBe(503)
    expect(body).toMatchObject({ status: 'not_ready', checks: { database: 'denied' } })
    expect(body.detail).toMatch(/refused|privilege/)
    expectNoInternals(text)
  })
})
