import { constants } from 'node:os'

/**
 * SIGTERM and SIGINT for both processes: the first runs `stop` once, under a hard deadline, so that
 * an orchestrator's grace period (10 s by default in Docker and Kubernetes) never runs out on a slow
 * client, a stuck collection, a database or a Logstash that does not answer; a second signal ends
 * the process at once, as a person pressing Ctrl-C twice expects.
 */

export const STOP_DEADLINE_MS = 8_000

/** Runs one named piece of the stop sequence, recorded as pending until it settles. */
export type StopStep = <T>(name: string, work: () => Promise<T>) => Promise<T>

export interface StopOptions {
  deadlineMs?: number
  /** Told what was still pending when the deadline passed, just before the process exits with code 1. */
  onDeadline(pending: string[]): void
}

/**
 * @param stop the stop sequence; it resolves to the exit code, or to undefined when the process
 *   ends by itself once stopped (`bun run collect` prints its summary first).
 */
export function onStopSignals(
  stop: (step: StopStep, signal: NodeJS.Signals) => Promise<number | undefined>,
  options: StopOptions,
) {
  const pending = new Set<string>()
  const step: StopStep = async (name, work) => {
    pending.add(name)
    try {
      return await work()
    } finally {
      pending.delete(name)
    }
  }
  let stopping = false
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(128 + constants.signals[signal])
    stopping = true
    // Not unref'd: a stop stuck on a promise that nothing keeps alive must end in exit 1, not in a quiet exit 0.
    setTimeout(() => {
      options.onDeadline([...pending])
      process.exit(1)
    }, options.deadlineMs ?? STOP_DEADLINE_MS)
    void stop(step, signal).then((code) => {
      if (code !== undefined) process.exit(code)
    })
  }
  process.on('SIGTERM', handle)
  process.on('SIGINT', handle)
}
