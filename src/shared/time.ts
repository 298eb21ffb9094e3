/**
 * MySQL DATETIME as mysql2 returns it with dateStrings, in UTC → ISO 8601 UTC with milliseconds.
 * The binary protocol drops a zero fraction ('2026-11-27 14:03:11'), so the fraction is padded.
 */
export function toIsoUtc(datetime: string): string {
  const [seconds, fraction = ''] = datetime.split('.')
  return `${seconds!.replace(' ', 'T')}.${fraction.padEnd(3, '0').slice(0, 3)}Z`
}

/** ISO 8601 (any offset) → MySQL DATETIME(3) literal in UTC. */
export const toMysqlUtc = (iso: string | Date): string => new Date(iso).toISOString().replace('T', ' ').replace('Z', '')
