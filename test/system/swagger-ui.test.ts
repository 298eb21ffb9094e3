import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { type RunningApp, startApp } from '../support/app'
import { loadCoreData } from '../support/core-data'
import { createTestDatabase, type TestDatabase } from '../support/database'
import { ENDPOINTS } from '../support/endpoints'

/** The Swagger UI in a real headless Chromium (Debian's package), against the service with data in it. */

const CHROMIUM = '/usr/bin/chromium'

let database: TestDatabase
let app: RunningApp
let browser: BrowserContext
const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
/** Requests the page made to hosts other than the service: the UI must work on a closed network. */
const foreign: string[] = []

beforeAll(async () => {
  // Not a skip: CI installs Debian's chromium; without it this proof is missing.
  if (!(await Bun.file(CHROMIUM).exists())) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`)
  database = await createTestDatabase()
  await loadCoreData(database)
  app = startApp(database.db)
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await app?.stop()
  await database?.drop()
  rmSync(profile, { recursive: true, force: true })
})

/** Opens the operation of `path`, presses "Try it out" then "Execute", and expects a 200; the operation's block. */
async function tryItOut(page: Page, path: string) {
  const operation = page.locator('.opblock', { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
  await operation.locator('.opblock-summary').click()
  await operation.getByRole('button', { name: 'Try it out' }).click()
  await operation.getByRole('button', { name: 'Execute' }).click()
  const status = operation.locator('.live-responses-table .response .response-col_status')
  await status.waitFor({ timeout: 20_000 })
  expect(((await status.textContent()) ?? '').trim()).toBe('200')
  return operation
}

describe('Swagger UI in Chromium', () => {
  test('when /swagger is opened, then every endpoint without a path parameter is listed, with no request leaving the service', async () => {
    const page = await browser.newPage()
    page.on('request', (request) => {
      if (!request.url().startsWith(app.url) && !request.url().startsWith('data:')) foreign.push(request.url())
    })
    await page.goto(`${app.url}/swagger`)
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 })
    const listed = await page.$$eval('.opblock-summary-path', (elements) => elements.map((e) => e.getAttribute('data-path')))
    for (const path of ENDPOINTS) expect(listed).toContain(path)
    expect(foreign).toEqual([])
    await page.close()
  })

  test('when /swagger/ (with the trailing slash) is opened, then it loads the document and lists the endpoints', async () => {
    const page = await browser.newPage()
    await page.goto(`${app.url}/swagger/`)
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 })
    const listed = await page.$$eval('.opblock-summary-path', (elements) => elements.map((e) => e.getAttribute('data-path')))
    for (const path of ENDPOINTS) expect(listed).toContain(path)
    expect(await page.locator('.errors-wrapper').count()).toBe(0)
    await page.close()
  })

  test('when "Try it out" then "Execute" is pressed on an endpoint, then the UI shows a 200 with data', async () => {
    const page = await browser.newPage()
    await page.goto(`${app.url}/swagger`)
    const operation = await tryItOut(page, '/api/v1/resources/users/top5')
    const body = await operation.locator('.live-responses-table .response-col_description .microlight').first().textContent()
    const parsed = JSON.parse(body ?? '')
    expect(parsed.data).toHaveLength(5)
    expect(parsed.data[0]).toMatchObject({ username: 'dave', followers_count: 5000 })
    await page.close()
  })

  test('when /swagger is served with its security headers, then the browser blocks nothing the UI needs: it lists, tries out and reports no policy violation', async () => {
    const response = await fetch(`${app.url}/swagger`)
    const policy = response.headers.get('content-security-policy') ?? ''
    expect(policy).toContain("default-src 'none'")
    expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/)
    expect(policy).toContain("frame-ancestors 'none'")
    expect(policy).not.toContain("'unsafe-eval'")
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/)
    for (const path of ['/swagger', '/swagger/', '/swagger/json', '/swagger/assets/swagger-ui-bundle.js']) {
      const answer = await fetch(`${app.url}${path}`)
      expect({
        path,
        nosniff: answer.headers.get('x-content-type-options'),
        referrer: answer.headers.get('referrer-policy'),
        csp: answer.headers.has('content-security-policy'),
      }).toEqual({ path, nosniff: 'nosniff', referrer: 'no-referrer', csp: true })
    }

    const page = await browser.newPage()
    const violations: string[] = []
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text())
    })
    // In the page (a string: this project's types have no DOM): every violation the browser reports.
    await page.addInitScript({
      content:
        "window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI))",
    })
    await page.goto(`${app.url}/swagger`)
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 })
    await tryItOut(page, '/api/v1/resources/users/top5')
    const seen = await page.evaluate('window.violations')
    expect({ console: violations, events: seen }).toEqual({ console: [], events: [] })
    await page.close()
  })
})
