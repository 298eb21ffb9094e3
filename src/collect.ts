import { Registry } from 'prom-client'
import { createCollector } from './collector'
import type { HashtagRun, RunSummary } from './collector/run'
import { ConfigError, loadConfig } from './config'
import { createDatabase } from './db/database'
import { applySchema } from './db/schema'
import { createLogger } from './observability/logger'
import { createCollectorMetrics } from './observability/metrics'

/**
 * `bun run collect`: one collection, then exit. Progress (a line per page) and the summary go to
 * stdout for people; the structured log goes to stderr. Exit code: 0 when every hashtag was
 * collected, 1 when something failed, 2 for a bad configuration, 75 when another process is
 * collecting (EX_TEMPFAIL: try again later).
 */

const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', destination: process.stderr })

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(error.message)
  process.exit(2)
}
if (config.collector.source === 'off') {
  console.error('COLLECT_SOURCE=off: nothing to collect')
  process.exit(2)
}

await applySchema(config.mysql)
const db = createDatabase({ ...config.mysql, poolSize: 2 }, { batches: true })
const collector = createCollector({
  db,
  config: config.collector,
  logger,
  metrics: createCollectorMetrics(new Registry()),
  onPage: (p) =>
    console.log(`#${p.tag} page ${p.page}: ${p.tweets} tweets, ${p.newTweets} new, ${p.knownTweets} known, ${p.users} users`),
})
process.once('SIGINT', () => void collector.stop())
process.once('SIGTERM', () => void collector.stop())

console.log(`collecting ${config.collector.hashtags.length} hashtags from ${config.collector.source}`)
const summary = await collector.run()
await db.close()
console.log(formatSummary(summary))
process.exit(summary.outcome === 'success' ? 0 : summary.outcome === 'skipped' ? 75 : 1)

function formatSummary(run: RunSummary): string {
  const columns: [string, (h: HashtagRun) => string | number][] = [
    ['hashtag', (h) => `#${h.tag}`],
    ['pages', (h) => h.pages],
    ['tweets', (h) => h.tweets],
    ['new', (h) => h.newTweets],
    ['known', (h) => h.knownTweets],
    ['users', (h) => h.users],
    ['duration', (h) => `${(h.durationMs / 1000).toFixed(2)} s`],
    ['outcome', (h) => h.outcome + (h.reason === undefined ? '' : ` (${h.reason})`)],
  ]
  const cells = [columns.map(([title]) => title), ...run.hashtags.map((h) => columns.map(([, value]) => String(value(h))))]
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  const lines = cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
  const reason = run.reason === undefined ? '' : `: ${run.reason}`
  return [...lines, `${run.outcome} in ${(run.durationMs / 1000).toFixed(2)} s from ${run.source}${reason}`].join('\n')
}
