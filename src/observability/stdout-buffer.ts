import { writeSync } from 'node:fs'

/**
 * Log lines for stdout, written in batches: one write(2) per few dozen lines instead of one per
 * line, which under load is most of the cost of an access log. Writes stay synchronous — a batch is
 * flushed when its buffer is full, on the next turn of the event loop, or when the process exits —
 * so no line is in flight in a background write when the process ends. Lines are encoded straight
 * into one buffer allocated at start: no string of the whole batch to build and encode again.
 */

const CAPACITY = 64 * 1024
/** A UTF-16 code unit takes at most 3 bytes in UTF-8: a line that fits this way needs no measuring. */
const MAX_BYTES_PER_UNIT = 3

export function bufferedStdout(fd = 1) {
  const buffer = Buffer.allocUnsafe(CAPACITY)
  let used = 0
  let scheduled = false
  const writeAll = (bytes: Uint8Array) => {
    let rest = bytes
    // writeSync may write less than asked when stdout is a pipe that is nearly full.
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(fd, rest))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return
      }
    }
  }
  const flush = () => {
    scheduled = false
    if (used === 0) return
    const bytes = buffer.subarray(0, used)
    used = 0
    writeAll(bytes)
  }
  process.on('exit', flush)
  return {
    write(line: string) {
      const worst = line.length * MAX_BYTES_PER_UNIT
      if (used + worst > CAPACITY) {
        flush()
        if (worst > CAPACITY) {
          writeAll(Buffer.from(line))
          return
        }
      }
      used += buffer.write(line, used)
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    flush,
  }
}
