import { writeSync } from 'node:fs'

/**
 * Log lines for stdout, written in batches: one write(2) per few dozen lines instead of one per
 * line, which under load is most of the cost of an access log. Writes stay synchronous — a batch is
 * flushed when it reaches FLUSH_BYTES, on the next turn of the event loop, or when the process exits —
 * so no line is in flight in a background write when the process ends.
 */

const FLUSH_BYTES = 64 * 1024

export function bufferedStdout(fd = 1) {
  let pending = ''
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (pending === '') return
    const chunk = pending
    pending = ''
    let buffer = Buffer.from(chunk)
    // writeSync may write less than asked when stdout is a pipe that is nearly full.
    while (buffer.length > 0) {
      try {
        buffer = buffer.subarray(writeSync(fd, buffer))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return
      }
    }
  }
  process.on('exit', flush)
  return {
    write(line: string) {
      pending += line
      if (pending.length >= FLUSH_BYTES) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    flush,
  }
}
