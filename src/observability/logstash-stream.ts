import net from 'node:net'
import { LineRing } from './line-ring'

/**
 * Ships log lines to Logstash over TCP (json_lines: one JSON document per line), from the main
 * thread and off the request path. A write only queues the line; the socket is fed as fast as it
 * drains. The queue is bounded: when Logstash is down, slow or not reading, the oldest lines are
 * dropped and counted instead of memory growing. The connection is re-established by itself, with
 * backoff, and a socket that stops draining is replaced.
 */

export interface LogstashStreamOptions {
  host: string
  port: number
  /**
   * Lines kept while Logstash cannot take them, and at most BYTES_PER_QUEUED_LINE bytes each on
   * average; beyond, the oldest are dropped.
   */
  maxQueuedLines: number
  /** A socket that has not drained for this long is considered stuck and replaced. */
  stallTimeoutMs?: number
  reconnectMinMs?: number
  reconnectMaxMs?: number
  /** Told how many lines were dropped, each time some are. */
  onDrop?: (lines: number) => void
  /** Told when the connection comes up or goes down. */
  onConnection?: (connected: boolean) => void
}

/** The queue's memory: this many bytes per line it may hold (an access line is about 700). */
const BYTES_PER_QUEUED_LINE = 1_024
/** Bytes sent in one socket write at most: fewer syscalls than a write per line. */
const BATCH_BYTES = 64 * 1_024
/**
 * Socket writes per turn of the event loop at most: a backlog of thousands of lines, sent when
 * Logstash comes back, goes out over several turns instead of holding requests up for milliseconds.
 */
const BATCHES_PER_TURN = 4
/** A connection must stay up this long before the reconnect backoff starts again from its minimum. */
const STABLE_CONNECTION_MS = 5_000

export class LogstashStream {
  private readonly queue: LineRing
  private socket: net.Socket | null = null
  private connected = false
  private draining = false
  private stallTimer: ReturnType<typeof setTimeout> | null = null
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  private attempt = 0
  private stableTimer: ReturnType<typeof setTimeout> | null = null
  private flushScheduled = false
  private closed = false
  private handedOver = 0
  private readonly stallTimeoutMs: number
  private readonly reconnectMinMs: number
  private readonly reconnectMaxMs: number

  constructor(private readonly options: LogstashStreamOptions) {
    this.stallTimeoutMs = options.stallTimeoutMs ?? 10_000
    this.reconnectMinMs = options.reconnectMinMs ?? 250
    this.reconnectMaxMs = options.reconnectMaxMs ?? 30_000
    this.queue = new LineRing(options.maxQueuedLines, options.maxQueuedLines * BYTES_PER_QUEUED_LINE)
    this.connect()
  }

  /** Lines waiting to be sent. */
  get queued(): number {
    return this.queue.lines
  }

  get isConnected(): boolean {
    return this.connected
  }

  /** Lines handed to the socket so far (in flight at a connection reset, they may still be lost). */
  get sent(): number {
    return this.handedOver
  }

  /** Queues one line (pino hands them over with their newline). Never blocks, never throws. */
  write(line: string): void {
    if (this.closed) return
    const dropped = this.queue.push(line.endsWith('\n') ? line : `${line}\n`)
    if (dropped > 0) this.options.onDrop?.(dropped)
    this.scheduleFlush()
  }

  /** Sends what it can within `timeoutMs`, then closes the connection for good. */
  async close(timeoutMs = 2_000): Promise<void> {
    const until = Date.now() + timeoutMs
    while (this.queued > 0 && this.connected && Date.now() < until) await Bun.sleep(10)
    this.closed = true
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    if (this.stableTimer !== null) clearTimeout(this.stableTimer)
    this.clearStall()
    const dropped = this.queue.clear()
    if (dropped > 0) this.options.onDrop?.(dropped)
    this.socket?.end()
    this.socket?.destroy()
  }

  private connect(): void {
    if (this.closed) return
    const socket = net.connect({ host: this.options.host, port: this.options.port })
    this.socket = socket
    socket.setNoDelay(true)
    socket.on('connect', () => {
      if (this.socket !== socket) return
      this.connected = true
      // Not at once: a listener that accepts and then drops every connection would otherwise be
      // retried every few hundred milliseconds, with the whole backlog sent again each time.
      this.stableTimer = setTimeout(() => {
        this.attempt = 0
      }, STABLE_CONNECTION_MS)
      this.stableTimer.unref?.()
      this.options.onConnection?.(true)
      this.flush()
    })
    // Every failure ends in 'close'; 'error' only needs a listener so that it never crashes the process.
    socket.on('error', () => {})
    socket.on('close', () => {
      if (this.socket !== socket) return
      this.socket = null
      this.draining = false
      this.clearStall()
      if (this.stableTimer !== null) clearTimeout(this.stableTimer)
      this.stableTimer = null
      if (this.connected) this.options.onConnection?.(false)
      this.connected = false
      this.scheduleReconnect()
    })
    socket.on('drain', () => {
      if (this.socket !== socket) return
      this.draining = false
      this.clearStall()
      this.flush()
    })
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return
    const ceiling = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** this.attempt++)
    // Full jitter: replicas restarted together do not reconnect in lockstep.
    const delay = Math.round(this.reconnectMinMs / 2 + Math.random() * ceiling)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.connect()
    }, delay)
    this.reconnectTimer.unref?.()
  }

  /** Lines written in one turn of the event loop go out together, in the next one. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      this.flush()
    })
  }

  private flush(): void {
    const socket = this.socket
    if (socket === null || !this.connected || this.draining) return
    for (let batches = 0; this.queued > 0; batches++) {
      if (batches === BATCHES_PER_TURN) {
        this.scheduleFlush()
        break
      }
      const { chunk, lines } = this.queue.take(BATCH_BYTES)!
      this.handedOver += lines
      if (!socket.write(chunk)) {
        // The kernel buffer is full: wait for 'drain' rather than buffering without bound in userland.
        this.draining = true
        this.stallTimer = setTimeout(() => socket.destroy(), this.stallTimeoutMs)
        this.stallTimer.unref?.()
        break
      }
    }
  }

  private clearStall(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer)
    this.stallTimer = null
  }
}
