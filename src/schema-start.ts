import { setTimeout as sleep } from 'node:timers/promises'
import type { MysqlConfig } from './config'
import { DatabaseUnavailableError } from './db/errors'
import { applySchema, SchemaError, type SchemaProgress, type SqlFile } from './db/schema'
import type { StartState } from './domain/lifecycle'
import { asError, type Logger } from './observability/logger'

/**
 * How a process gets the schema it runs on, the service and `bun run collect` alike: the database
 * may still be starting (a container started with the service, a failover), so an unreachable one is
 * tried again with a backoff for `unreachableForMs`; a migration in progress, here or in another
 * process, is reported as such (log and readiness) and allowed SCHEMA_WAIT_TIMEOUT; a schema that
 * cannot be applied (a refused statement, tables unlike the declared ones), or a database that
 * refuses the service's user, ends the start at once, since waiting will not change it: the caller
 * says so (the service in its log and readiness, `bun run collect` in one line).
 */

export interface SchemaStart {
  config: MysqlConfig
  files: SqlFile[]
  logger: Logger
  /** Told what the start is doing: readiness shows it. */
  onState?: (state: StartState) => void
  /** How long an unreachable database is waited for. */
  unreachableForMs: number
  signal?: AbortSignal
}

/** Reports of a wait for another process's migration: the first, then one per this long. */
const WAIT_REPORT_MS = 30_000

export async function prepareSchema({ config, files, logger, onState, unreachableForMs, signal }: SchemaStart): Promise<void> {
  const started = performance.now()
  let reportedWait = -1
  const onProgress = (progress: SchemaProgress) => {
    if (progress.phase === 'waiting') {
      const detail = `another process holds the schema lock and is migrating; waited ${Math.round(progress.waitedMs / 1000)} s of SCHEMA_WAIT_TIMEOUT (${Math.round(config.schemaWaitMs / 1000)} s)`
      onState?.({ phase: 'waiting', detail })
      const report = Math.floor(progress.waitedMs / WAIT_REPORT_MS)
      if (report !== reportedWait) {
        reportedWait = report
        logger.info({ event: { action: 'schema-waiting' } }, detail)
      }
      return
    }
    // What runs at every start and changes nothing once done is no migration.
    if (progress.phase === 'statement' && progress.routine) return
    const detail =
      progress.phase === 'counts'
        ? 'rebuilding the kept counts from the rows'
        : `sql/${progress.file}, statement ${progress.statement} of ${progress.statements} (${progress.kind === 'alter' ? 'changing a table' : 'writing rows'})`
    onState?.({ phase: 'migrating', detail: `migrating the schema: ${detail}` })
    logger.info(
      {
        event: { action: 'schema-migrating' },
        ...(progress.phase === 'statement'
          ? {
              twitter: {
                schema_file: progress.file,
                schema_statement: progress.statement,
                schema_statements: progress.statements,
              },
            }
          : {}),
      },
      `migrating the schema: ${detail}`,
    )
  }
  for (let attempt = 1; ; attempt++) {
    try {
      onState?.({ phase: 'schema', detail: 'applying the schema' })
      return await applySchema(config, files, { onProgress, waitMs: config.schemaWaitMs })
    } catch (error) {
      // What waiting cannot fix ends the start at once; the caller says so (log, readiness, exit).
      if (error instanceof SchemaError) {
        onState?.({ phase: 'failed', detail: `schema: ${error.message}` })
        throw error
      }
      if (
        !(error instanceof DatabaseUnavailableError) ||
        performance.now() - started > unreachableForMs ||
        signal?.aborted === true
      )
        throw error
      const delay = Math.min(5_000, 250 * 2 ** attempt)
      logger.warn(
        { err: asError(error), event: { action: 'database-waiting' } },
        `database not reachable yet (${error.reason}); retrying in ${delay} ms`,
      )
      // Ends early when the process is stopped: the loop then ends at its check above.
      await sleep(delay, undefined, signal === undefined ? {} : { signal }).catch(() => {})
    }
  }
}
