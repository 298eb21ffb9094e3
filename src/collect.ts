import type { HashtagRun, RunSummary } from './collector/run'
import { CONFIGURATION_NOTES, commandLine } from './command-line'
import { readSqlFiles, SchemaError } from './db/schema'
import { composeCollect } from './root'
import { prepareSchema } from './schema-start'
import { onStopSignals } from './stop-signals'

/**
 * `bun run collect`: one collection, then exit. Progress (a line per page) and the summary go to
 * stdout for people; the structured log goes to stderr. Exit code: 0 when every hashtag was
 * collected, 1 when something failed (or the run did not stop within the shutdown deadline after
 * SIGTERM/SIGINT), 2 for a bad configuration, 75 when another process is collecting (EX_TEMPFAIL:
 * try again later), 128 + the signal's number (130, 143) when a second signal ends it at once.
 */

commandLine({
  name: 'bun run collect',
  summary:
    'One collection of every tracked hashtag, then exit: a line per page and a summary on stdout, the log on stderr. Exit 0 when every hashtag was collected, 1 when something failed, 2 for a bad configuration or command line, 75 when another process is collecting.',
  options: {},
  notes: CONFIGURATION_NOTES,
})

const { config, logger, say, writer, collector } = composeCollect(
  (p) => `#${p.tag} page ${p.page}: ${p.tweets} tweets, ${p.newTweets} new, ${p.knownTweets} known, ${p.users} users`,
)
// The run ends between requests once stopped; the summary below is printed and the process exits by itself.
onStopSignals(
  async (step) => {
    await step('the collection', () => collector.stop())
    return undefined
  },
  {
    onDeadline: (pending) =>
      say.error(`not stopped within the shutdown deadline; exiting with ${pending.join(', ')} still pending`),
  },
)

try {
  // No wait for an unreachable database: a person or a scheduler runs this, and tries again.
  await prepareSchema({ config: config.mysql, files: readSqlFiles(), logger, unreachableForMs: 0 })
} catch (error) {
  // A database that is down, refuses the credentials, or whose schema cannot be applied (the file and
  // the server's code are named) is a message for a person, not a stack trace.
  say.error(
    error instanceof SchemaError
      ? `the schema cannot be applied, and trying again will not change that: ${error.message}`
      : `the database could not be prepared: ${(error as Error).message}`,
  )
  process.exit(1)
}
say.out(`collecting ${config.collector.hashtags.length} hashtags from ${config.collector.source}`)
const summary = await collector.run()
await writer.close()
// Line by line: each is masked and bounded on its own, the table is never cut as a whole.
for (const line of summaryLines(summary)) say.out(line)
process.exit(summary.outcome === 'success' ? 0 : summary.outcome === 'skipped' ? 75 : 1)

function summaryLines(run: RunSummary): string[] {
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
  const refresh = run.metricsRefresh
  const refreshed =
    refresh === undefined
      ? []
      : [
          `metrics refresh ${refresh.outcome}: ${refresh.requests} lookups, ${refresh.lookedUp} posts read, ${refresh.updated} updated, ${refresh.notFound} not found${refresh.reason === undefined ? '' : ` (${refresh.reason})`}`,
        ]
  return [...lines, ...refreshed, `${run.outcome} in ${(run.durationMs / 1000).toFixed(2)} s from ${run.source}${reason}`]
}
