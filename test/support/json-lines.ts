/** Parses a stream of JSON log lines. */
export const jsonLines = (text: string): Record<string, any>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
