import net from 'node:net'

/**
 * TCP listeners standing in for a Logstash tcp input (json_lines) that misbehaves, for tests of the
 * shipper against a real socket. A refusing Logstash needs no listener: a free port with nothing on it.
 *
 *   stall  accepts and never reads: the socket is paused, the kernel buffers on both sides fill, then
 *          the writer's socket stops draining (what a Logstash stuck on its pipeline looks like).
 *   drop   accepts, reads `dropAfterBytes`, then destroys the connection, every connection again: the
 *          unread rest makes the kernel answer with a reset, mid-line (a Logstash restarting in a loop).
 *   read   reads and keeps every complete line (a healthy Logstash).
 *
 * The behaviour can change while connections are open: switching to `read` resumes the stalled
 * sockets, so a Logstash that "comes back" is the same listener, on the same port.
 */

export type ListenerBehaviour = 'stall' | 'drop' | 'read'

export interface FakeLogstashOptions {
  /** Bytes read from each connection before it is destroyed, in `drop` (default 32 KiB). */
  dropAfterBytes?: number
}

export class FakeLogstash {
  /** Complete lines received, in order of arrival (a line cut by a drop is not one). */
  readonly lines: string[] = []
  connections = 0
  bytesRead = 0
  private readonly sockets = new Set<net.Socket>()
  private readonly dropAfterBytes: number

  private constructor(
    private readonly server: net.Server,
    private current: ListenerBehaviour,
    options: FakeLogstashOptions,
  ) {
    this.dropAfterBytes = options.dropAfterBytes ?? 32 * 1024
  }

  static async start(port: number, behaviour: ListenerBehaviour, options: FakeLogstashOptions = {}): Promise<FakeLogstash> {
    const server = net.createServer()
    const fake = new FakeLogstash(server, behaviour, options)
    server.on('connection', (socket) => fake.accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    return fake
  }

  get behaviour(): ListenerBehaviour {
    return this.current
  }

  set behaviour(next: ListenerBehaviour) {
    this.current = next
    if (next !== 'stall') for (const socket of this.sockets) socket.resume()
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(socket: net.Socket): void {
    this.connections++
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => {})
    let read = 0
    let rest = ''
    socket.on('data', (data: Buffer) => {
      read += data.length
      this.bytesRead += data.length
      const parts = (rest + data.toString('utf8')).split('\n')
      rest = parts.pop()!
      this.lines.push(...parts)
      if (this.current === 'drop' && read >= this.dropAfterBytes) socket.destroy()
    })
    // After the 'data' listener: a paused stream stays paused when one is added.
    if (this.current === 'stall') socket.pause()
  }
}
