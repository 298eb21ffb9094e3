/** Samples of a metric in Prometheus exposition text, as [labels, value]. */
export function samples(text: string, name: string): [Record<string, string>, number][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)!
      const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
      return [labels, Number(match[2])]
    })
}
