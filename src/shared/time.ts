/**
 * MySQL DATETIME as mysql2 returns it with dateStrings, in UTC → ISO 8601 UTC with milliseconds.
 * The binary protocol drops a zero fraction ('2026-11-27 14:03:11'), so the fraction is padded.
 */
export function toIsoUtc(datetime: string): string {
  const [seconds, fraction = ''] = datetime.split('.')
  return `${seconds!.replace(' ', 'T')}.${fraction.padEnd(3, '0').slice(0, 3)}Z`
}

/**
 * ISO 8601 UTC ('2026-11-27T14:03:11.000Z', the fraction optional and of any length, as the page
 * schema admits) → MySQL DATETIME(3) literal. Plain string work: it runs for every stored tweet.
 */
export function toMysqlUtc(iso: string): string {
  const [seconds, fraction = ''] = iso.slice(0, -1).split('.')
  return `${seconds!.replace('T', ' ')}.${fraction.padEnd(3, '0').slice(0, 3)}`
}
