import { describe, expect, test } from 'bun:test'
import { CapturedLog } from '../test/support/app'
import { keepMemoryNear } from './memory-target'
import { createLogger } from './observability/logger'

/** The memory target as the service runs it, with the resident size it reads made up by the test. */
describe('keeping resident memory near MEMORY_TARGET_MB', () => {
  const MB = 1024 * 1024

  test('when the resident size stays under the target, then nothing is collected', async () => {
    const target = keepMemoryNear(256 * MB, createLogger({ destination: new CapturedLog() }), () => 200 * MB)
    await Bun.sleep(300)
    target.stop()
    expect(target.collections).toBe(0)
  })

  test('when it goes over the target and a collection brings it back, then one collection runs and nothing is said', async () => {
    let rss = 300 * MB
    const log = new CapturedLog()
    const target = keepMemoryNear(256 * MB, createLogger({ destination: log }), () => {
      const now = rss
      // What the collection frees: the next reading is under the target.
      rss = 180 * MB
      return now
    })
    await Bun.sleep(300)
    target.stop()
    expect(target.collections).toBe(1)
    expect(log.lines).toEqual([])
  })

  test('when what is live stays over the target, then it collects on each check and says so once', async () => {
    const log = new CapturedLog()
    const target = keepMemoryNear(256 * MB, createLogger({ destination: log }), () => 400 * MB)
    await Bun.sleep(330)
    target.stop()
    expect(target.collections).toBeGreaterThanOrEqual(3)
    const said = (log.lines as any[]).filter((line) => line.event?.action === 'memory-over-target')
    expect(said).toHaveLength(1)
    expect(said[0].message).toContain('MEMORY_TARGET_MB (256 MB)')
  })
})
