/**
 * Every value of `event.action`, the field each log line carries to say what happened, with what it
 * means. It is the one list: the README's table of events is this list, and test/system/readme.test.ts
 * checks that every action the sources log is in it and every action in it is logged somewhere.
 * Meanings are written for docs/observability.md (Markdown, no `|`).
 */
export const EVENTS = {
  'config-invalid': 'the configuration does not parse; the message names every bad variable, the process exits 2',
  'service-starting': 'the service is building its parts (`twitter.source`, `twitter.logstash`)',
  'database-waiting': 'the database does not answer yet; applying the schema is tried again after a backoff',
  'schema-gave-up':
    "the schema could not be applied: the database did not answer within 60 s of the start, refused the service's user, or another process's migration outlasted `SCHEMA_WAIT_TIMEOUT`; the service exits 1",
  'schema-migrating':
    'a start changes the tables: the file and statement it is at (`twitter.schema_file`, `twitter.schema_statement`), or the counts rebuild; readiness says migrating',
  'schema-waiting':
    'another process holds the schema lock and migrates: this start waits up to `SCHEMA_WAIT_TIMEOUT`, reporting every 30 s; readiness says waiting',
  'schema-failed':
    'the schema cannot be applied and waiting will not change it: a statement the server refused (`twitter.schema_file`, `twitter.schema_code`) or tables unlike the declared ones (SCHEMA_MISMATCH); the service stays up, not ready, until the database is fixed and it is restarted',
  'collection-startup-timeout':
    'the start-up collection outlasted `COLLECT_STARTUP_TIMEOUT`: the service becomes ready, the run goes on',
  'service-started':
    'the API listens (`url.port`), from the start: until the schema is applied, readiness says what the start is doing and data routes answer 503',
  'http-request': 'a request was answered: the access log, one line per request',
  'request-failed': 'a request failed on our side and got a 500; the error is logged here and never sent',
  'export-failed':
    'an export failed after its first bytes (the database, mid-selection): the body was cut short, the client sees a broken download; the cause is logged here',
  'request-unavailable':
    'a request got a 5xx problem that has a cause, such as a 503 for a database that is down or too slow; the cause is logged here',
  'service-stopping': 'SIGTERM or SIGINT: requests in flight are finished and the collection stops',
  'service-stopped': 'requests answered, collection stopped, pools closed; the process exits 0',
  'service-stop-timeout': 'shutdown outlasted its 8 s bound; the line names what was still pending, the process exits 1',
  'memory-over-target':
    'resident memory stayed above `MEMORY_TARGET_MB` after a garbage collection: what the service holds live is larger than the target (said once)',
  'unhandled-rejection': 'a promise was rejected with no handler (a bug); the service goes on',
  'collector-sample-data': 'no `TWITTER_BEARER_TOKEN`: the collector replays the bundled synthetic sample data',
  'collection-started': 'a run holds the collector lock and starts (`twitter.source`, `twitter.hashtags`)',
  'collector-page': 'a page was stored: tweets, new, known and skipped, and users',
  'collector-retry': 'an X API request failed with a 5xx, a timeout or a network error and is sent again after a backoff',
  'collector-rate-limit-wait': 'the collector waits for the X API rate-limit window to reset (`twitter.wait_ms`)',
  'collector-since-id-dropped':
    'the X API refused the stored since_id (older than its window); the hashtag is collected without it',
  'collector-partial-errors':
    "a page carried the API's partial errors: counted, the first 20 logged; the rest of the page is stored",
  'collector-tweets-skipped': 'tweets of a stored page were left out: their ids and reasons',
  'collector-hashtag-stopped': "a hashtag's collection ended early on a fault or a stop: its outcome (`twitter.outcome`) and why",
  'collector-state-not-recorded':
    "a hashtag's outcome could not be written to `hashtags`; its row keeps what it said (`in_progress` once a page was stored)",
  'collector-lookup-failed':
    'a post lookup of the metrics refresh failed (5xx, timeout, an unusable answer); its posts wait for the next run, the refresh goes on',
  'collector-metrics-refreshed':
    'the metrics refresh after the search ended: its outcome, lookup requests, posts looked up, updated and not found',
  'collection-finished': 'a run ended: its outcome, its duration and how many hashtags it covered',
  'collection-failed': 'a run could not start: registering the hashtags or taking the lock failed (the database is away)',
} as const satisfies Record<string, string>

export type EventAction = keyof typeof EVENTS

/** Every `event.action` value, in the order of EVENTS. */
export const EVENT_ACTIONS = Object.keys(EVENTS) as readonly EventAction[]
