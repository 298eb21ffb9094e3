/**
 * Lines waiting to be shipped, as UTF-8 in one buffer allocated up front and used as a ring. A
 * queue of strings kept for seconds under a dead Logstash outlives the young generation: every
 * line became work for the full collections, whose pauses showed in the API's p99, and RSS grew
 * by tens of megabytes. Here a line is copied in once and its string is garbage at once; what is
 * queued is bytes the collector never scans.
 *
 * Bounded twice: by lines and by bytes. Making room drops the oldest lines.
 */
export class LineRing {
  private readonly bytes: Buffer
  private readonly lengths: Uint32Array
  /** Byte offset of the oldest line, and bytes queued from there (wrapping at the end). */
  private start = 0
  private size = 0
  /** Slot of the oldest line's length, and lines queued. */
  private first = 0
  private count = 0

  constructor(maxLines: number, maxBytes: number) {
    this.bytes = Buffer.allocUnsafe(maxBytes)
    this.lengths = new Uint32Array(maxLines)
  }

  get lines(): number {
    return this.count
  }

  /**
   * Appends a line (with its newline) and returns how many lines were dropped for it: the oldest
   * ones, or the line itself when it is larger than the whole ring.
   */
  push(line: string): number {
    const length = Buffer.byteLength(line)
    const capacity = this.bytes.length
    if (length > capacity) return 1
    let dropped = 0
    while (this.size + length > capacity || this.count === this.lengths.length) {
      this.dropOldest()
      dropped++
    }
    const end = (this.start + this.size) % capacity
    if (end + length <= capacity) this.bytes.write(line, end, 'utf8')
    else {
      // Across the end of the ring: encoded once more, to be split.
      const encoded = Buffer.from(line, 'utf8')
      encoded.copy(this.bytes, end, 0, capacity - end)
      encoded.copy(this.bytes, 0, capacity - end)
    }
    this.lengths[(this.first + this.count) % this.lengths.length] = length
    this.count++
    this.size += length
    return dropped
  }

  /**
   * Removes the oldest whole lines, up to `maxBytes` (at least one line), and returns them as a
   * copy: the socket may hold on to what it is given while the ring is written again.
   */
  take(maxBytes: number): { chunk: Buffer; lines: number } | null {
    if (this.count === 0) return null
    let bytes = 0
    let lines = 0
    while (lines < this.count) {
      const length = this.lengths[(this.first + lines) % this.lengths.length]!
      if (lines > 0 && bytes + length > maxBytes) break
      bytes += length
      lines++
    }
    const chunk = Buffer.allocUnsafe(bytes)
    const capacity = this.bytes.length
    const tail = Math.min(bytes, capacity - this.start)
    this.bytes.copy(chunk, 0, this.start, this.start + tail)
    if (tail < bytes) this.bytes.copy(chunk, tail, 0, bytes - tail)
    this.start = (this.start + bytes) % capacity
    this.size -= bytes
    this.first = (this.first + lines) % this.lengths.length
    this.count -= lines
    return { chunk, lines }
  }

  /** Empties the ring; returns how many lines it held. */
  clear(): number {
    const lines = this.count
    this.start = this.size = this.first = this.count = 0
    return lines
  }

  private dropOldest(): void {
    const length = this.lengths[this.first]!
    this.start = (this.start + length) % this.bytes.length
    this.size -= length
    this.first = (this.first + 1) % this.lengths.length
    this.count--
  }
}
