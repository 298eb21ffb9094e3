/** The process's state that several parts read: readiness fails, and new work stops, once it is shutting down. */
export interface Lifecycle {
  /** Set once a shutdown has begun: readiness then fails so load balancers stop sending traffic. */
  shuttingDown: boolean
  /**
   * What the start is doing until the service is ready, or why it cannot go on; null once started.
   * The process listens from the start, so that readiness can say it.
   */
  starting: StartState | null
}

export type StartState = {
  /**
   * schema: applying the schema files (nothing to do on most starts); migrating: changing the
   * tables (a long ALTER or backfill); waiting: another process holds the schema lock and migrates;
   * failed: the schema cannot be applied, and waiting will not change that (the detail says why);
   * collecting: the start-up collection, before COLLECT_STARTUP_TIMEOUT.
   */
  phase: 'schema' | 'migrating' | 'waiting' | 'failed' | 'collecting'
  detail: string
}

/** Whether the tables may be read yet: not while the schema is being applied, or cannot be. */
export const schemaUsable = (lifecycle: Lifecycle): boolean =>
  lifecycle.starting === null || lifecycle.starting.phase === 'collecting'
