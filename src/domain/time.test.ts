import { describe, expect, test } from 'bun:test'
import { toIsoUtc, toMysqlUtc } from './time'

describe('time conversions', () => {
  test('ISO 8601 UTC to a MySQL DATETIME(3) literal, whatever the fraction', () => {
    expect(toMysqlUtc('2026-11-27T14:03:11.123Z')).toBe('2026-11-27 14:03:11.123')
    expect(toMysqlUtc('2026-11-27T14:03:11Z')).toBe('2026-11-27 14:03:11.000')
    expect(toMysqlUtc('2026-11-27T14:03:11.5Z')).toBe('2026-11-27 14:03:11.500')
    expect(toMysqlUtc('2026-11-27T14:03:11.123456Z')).toBe('2026-11-27 14:03:11.123')
  })

  test('MySQL DATETIME strings back to ISO 8601 UTC with milliseconds', () => {
    expect(toIsoUtc('2026-11-27 14:03:11.123')).toBe('2026-11-27T14:03:11.123Z')
    expect(toIsoUtc('2026-11-27 14:03:11')).toBe('2026-11-27T14:03:11.000Z')
    expect(toIsoUtc('2026-11-27 14:03:11.5')).toBe('2026-11-27T14:03:11.500Z')
    expect(toIsoUtc('2026-11-27 14:03:11.123456')).toBe('2026-11-27T14:03:11.123Z')
  })
})
