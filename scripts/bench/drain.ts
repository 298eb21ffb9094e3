/**
 * The export bench's client: GETs the URL (with the request headers given as "name: value"), reads
 * the body as fast as it arrives, counts its bytes and lines and throws it away, or writes it to the
 * file named by --save; prints one JSON summary. A process of its own, so that the bench's work
 * (sampling the service's memory) never slows the reading.
 *
 *   bun scripts/bench/drain.ts <url> [--save file] ["name: value"...]
 */
const [url, ...rest] = process.argv.slice(2)
const headers: Record<string, string> = {}
let save: string | undefined
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--save') save = rest[++i]
  else {
    const header = /^([^:]+):\s*(.*)$/.exec(rest[i]!)
    if (header !== null) headers[header[1]!] = header[2]!
  }
}

const NEWLINE = 10
const started = performance.now()
const response = await fetch(url!, { headers, decompress: false })
const writer = save === undefined ? undefined : Bun.file(save).writer()
let bytes = 0
let lines = 0
let firstByteMs: number | null = null
for await (const chunk of response.body!) {
  firstByteMs ??= performance.now() - started
  bytes += chunk.byteLength
  for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++
  writer?.write(chunk)
}
await writer?.end()
console.log(
  JSON.stringify({
    status: response.status,
    content_type: response.headers.get('content-type'),
    bytes,
    lines,
    first_byte_ms: firstByteMs,
    seconds: (performance.now() - started) / 1000,
  }),
)

export {}
