import type { Logger } from './observability/logger'

/**
 * Keeps the process's resident memory near MEMORY_TARGET_MB. Answers are built from rows, objects
 * and strings that are garbage a moment later, and Bun's collector runs when its heap has grown by a
 * share of what it held, not when the process is large: under a stream of large distinct answers the
 * garbage, not the live data, decides the peak (hundreds of MB for a 32 MB answer cache). Every
 * CHECK_MS the resident size is read; above the target, a full collection runs. Each costs a pause of
 * milliseconds, and only happens while the target is exceeded, so a service under it pays nothing.
 */

const CHECK_MS = 50

export interface MemoryTarget {
  /** Collections run because the target was exceeded. */
  readonly collections: number
  stop(): void
}

export function keepMemoryNear(
  targetBytes: number,
  logger: Logger,
  rss: () => number = () => process.memoryUsage.rss(),
): MemoryTarget {
  let collections = 0
  let warned = false
  const timer = setInterval(() => {
    if (rss() <= targetBytes) return
    collections++
    Bun.gc(true)
    // Still above after collecting: what is live is larger than the target; said once.
    if (!warned && rss() > targetBytes) {
      warned = true
      logger.warn(
        { event: { action: 'memory-over-target' } },
        `resident memory stays above MEMORY_TARGET_MB (${Math.round(targetBytes / 1048576)} MB) after a collection: what the process holds is larger; raise the target or lower RESPONSE_CACHE_MB`,
      )
    }
  }, CHECK_MS)
  timer.unref()
  return {
    get collections() {
      return collections
    },
    stop: () => clearInterval(timer),
  }
}
