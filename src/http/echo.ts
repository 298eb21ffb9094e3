/**
 * Text a client sent, as the service repeats it in a problem body or a log field. Whatever its
 * length on the wire (a 16 KB path, a 2 KB user agent), what is repeated is bounded: a client cannot
 * make an answer or a log line as large as it likes, nor flood Logstash with its own bytes.
 */

/** Long enough for any legitimate path, query string or user agent this API sees (under 300). */
export const ECHO_MAX = 300

/** At most `max` characters of `text`, the cut marked with one ellipsis (never inside a surrogate pair). */
export function echo(text: string, max = ECHO_MAX): string {
  if (text.length <= max) return text
  const cut = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max
  return `${text.slice(0, cut)}…`
}

/** A value quoted inside a sentence: short, since the sentence says what was wrong with it. */
export const quote = (value: unknown): string =>
  JSON.stringify(echo(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)), 40))
