/**
 * Something the service depends on cannot answer now (down, unreachable, too slow, overloaded):
 * worth asking again later. Whoever raises it says why; the HTTP layer answers 503 with
 * Retry-After, the collector stops the run.
 */
export class UnavailableError extends Error {
  override name = 'UnavailableError'
  constructor(
    message: string,
    /** Seconds after which asking again makes sense. */
    readonly retryAfterSeconds = 1,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}
