import { seed } from '../scripts/seed'
import { startApp } from '../test/support/app'
import { createTestDatabase } from '../test/support/database'

const exports = Number(process.argv[2] ?? 6)
const database = await createTestDatabase()
await seed(database.config, { tweets: 50_000, users: 5_000, seed: 3 })
const app = startApp(database.db, { exportConcurrency: 100 })
const probe = async (ms: number) => {
  const times: number[] = []
  const end = performance.now() + ms
  while (performance.now() < end) {
    const t = performance.now()
    await (await fetch(`${app.url}/health/live`)).arrayBuffer()
    times.push(performance.now() - t)
    await Bun.sleep(2)
  }
  times.sort((a, b) => a - b)
  return { n: times.length, p50: times[Math.floor(times.length / 2)]!.toFixed(2), p99: times[Math.floor(times.length * 0.99)]!.toFixed(2), max: times.at(-1)!.toFixed(1) }
}
console.log('idle', await probe(2000))
let stop = false
const loops = Array.from({ length: exports }, async (_, i) => {
  let n = 0
  while (!stop) {
    const r = await fetch(`${app.url}/api/v1/resources/tweets/all?format=${i % 2 ? 'csv' : 'ndjson'}`)
    await r.arrayBuffer()
    n++
  }
  return n
})
await Bun.sleep(300)
console.log(`${exports} exports`, await probe(4000))
stop = true
console.log('exports done', await Promise.all(loops))
await app.stop()
await database.drop()
process.exit(0)
