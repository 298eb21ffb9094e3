import { afterEach, describe, expect, test } from 'bun:test'
import { freePort } from '../../scripts/lib/service-process'
import { FakeLogstash } from '../../test/support/logstash-listeners'
import { LogstashStream } from './logstash-stream'

/** Real TCP listeners standing in for Logstash: well-behaved, absent, not reading, dropping connections. */

const streams: LogstashStream[] = []
const listeners: FakeLogstash[] = []

afterEach(async () => {
  for (const stream of streams.splice(0)) await stream.close(0)
  for (const listener of listeners.splice(0)) await listener.close()
})

async function listen(port: number, behaviour: 'read' | 'stall' | 'drop', dropAfterBytes?: number): Promise<FakeLogstash> {
  const listener = await FakeLogstash.start(port, behaviour, { dropAfterBytes })
  listeners.push(listener)
  return listener
}

function stream(port: number, maxQueuedLines = 1_000, extra: Partial<ConstructorParameters<typeof LogstashStream>[0]> = {}) {
  const counts = { dropped: 0, ups: 0, downs: 0 }
  const s = new LogstashStream({
    host: '127.0.0.1',
    port,
    maxQueuedLines,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    onDrop: (n) => {
      counts.dropped += n
    },
    onConnection: (up) => {
      if (up) counts.ups++
      else counts.downs++
    },
    ...extra,
  })
  streams.push(s)
  return { s, counts }
}

async function until(condition: () => boolean, timeoutMs = 5_000) {
  const end = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await Bun.sleep(10)
  }
}

const line = (i: number) => JSON.stringify({ '@timestamp': new Date().toISOString(), message: `line ${i}`, pad: 'x'.repeat(400) })

describe('shipping to Logstash', () => {
  test('when Logstash reads, then every line arrives once, in order', async () => {
    const port = await freePort()
    const listener = await listen(port, 'read')
    const { s, counts } = stream(port)
    for (let i = 0; i < 500; i++) s.write(`${line(i)}\n`)
    await until(() => listener.lines.length === 500)
    expect(listener.lines.map((l) => JSON.parse(l).message)).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`))
    expect(counts).toEqual({ dropped: 0, ups: 1, downs: 0 })
  })

  test('when nothing listens, then writes never block or throw, the oldest lines are dropped and counted, and the rest is sent once it is back', async () => {
    const port = await freePort()
    const { s, counts } = stream(port, 1_000)
    const started = performance.now()
    for (let i = 0; i < 20_000; i++) s.write(line(i))
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(s.queued).toBe(1_000)
    expect(counts.dropped).toBe(19_000)
    const listener = await listen(port, 'read')
    await until(() => listener.lines.length === 1_000)
    expect(JSON.parse(listener.lines[0]!).message).toBe('line 19000')
    expect(JSON.parse(listener.lines.at(-1)!).message).toBe('line 19999')
  })

  test('when Logstash accepts and never reads, then memory stays bounded and the lines beyond the queue are counted as dropped', async () => {
    const port = await freePort()
    await listen(port, 'stall')
    const { s, counts } = stream(port, 2_000, { stallTimeoutMs: 300 })
    await until(() => s.isConnected)
    // Heap retained after a full collection: the test's own garbage (200 MB of lines) does not count.
    Bun.gc(true)
    const before = process.memoryUsage().heapUsed
    // ~200 MB of log lines against a peer that takes none.
    for (let i = 0; i < 400_000; i++) {
      s.write(line(i))
      if (i % 20_000 === 0) await Bun.sleep(1)
    }
    Bun.gc(true)
    const growth = process.memoryUsage().heapUsed - before
    expect(s.queued).toBeLessThanOrEqual(2_000)
    // Every line is accounted for: in the socket's buffers (bounded by the kernel), queued, or dropped and counted.
    expect(s.sent + s.queued + counts.dropped).toBe(400_000)
    expect(s.sent).toBeLessThan(50_000)
    // The queue holds at most 2,000 lines of ~500 bytes.
    expect(growth).toBeLessThan(16 * 1024 * 1024)
    // A socket that never drains is replaced.
    await until(() => counts.downs >= 1)
  })

  test('when Logstash drops the connection mid-stream, then the stream reconnects and shipping resumes', async () => {
    const port = await freePort()
    // The first connection is destroyed by its first bytes; the listener reads once it is back.
    const listener = await listen(port, 'drop', 1)
    const { s, counts } = stream(port)
    s.write(line(0))
    await until(() => counts.downs === 1)
    listener.behaviour = 'read'
    await until(() => s.isConnected)
    for (let i = 1; i <= 100; i++) s.write(line(i))
    await until(() => listener.lines.some((l) => JSON.parse(l).message === 'line 100'))
    expect(counts.ups).toBe(2)
    expect(listener.connections).toBe(2)
  })
})
