/**
 * MySQL DATETIME as mysql2 returns it with dateStrings, in UTC → ISO 8601 UTC with milliseconds.
 * A DATETIME(3) column comes as 'YYYY-MM-DD hh:mm:ss.sss' (23 characters), converted by two slices:
 * this runs for every tweet of every page. Other precisions are padded or cut to milliseconds.
 */
export function toIsoUtc(datetime: string): string {
  if (datetime.length === 23) return `${datetime.slice(0, 10)}T${datetime.slice(11)}Z`
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
