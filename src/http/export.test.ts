import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parseCsv } from '../../test/support/csv'
import {
  CONTENT_TYPES,
  contentDisposition,
  csvField,
  csvRecord,
  type ExportPlan,
  exportFilename,
  exportResponse,
  ndjsonLine,
  negotiate,
  openExport,
  type Representation,
  representationOf,
} from './export'

/** Strings rich in what CSV must quote, beside any code point. */
const csvText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', ',', '\r', '\n', ' ', 'a', 'é', '😀', '\t', ';') }),
)

describe('CSV (RFC 4180)', () => {
  test('when any records are encoded, then the parser reads back the same fields, through UTF-8 bytes too', () => {
    fc.assert(
      fc.property(fc.array(fc.array(csvText, { minLength: 1, maxLength: 6 }), { maxLength: 8 }), (records) => {
        const text = records.map((record) => csvRecord(record, 'raw')).join('')
        expect(parseCsv(text)).toEqual(records)
        const bytes = new TextEncoder().encode(text)
        expect(parseCsv(new TextDecoder('utf-8', { fatal: true }).decode(bytes))).toEqual(records)
      }),
      { numRuns: 2000 },
    )
  })

  test('when a field holds no quote, comma, CR or LF, then it is written as it is; otherwise quoted with quotes doubled', () => {
    fc.assert(
      fc.property(csvText, (value) => {
        const special = /[",\r\n]/.test(value)
        expect(csvField(value, 'raw')).toBe(special ? `"${value.replaceAll('"', '""')}"` : value)
      }),
      { numRuns: 2000 },
    )
  })

  test('when a text may start a formula (=, +, -, @, TAB, CR), then a safe field reads back after an apostrophe, any other as it is; raw never changes', () => {
    const formulaText = fc
      .tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', 'a', ' ', "'", '"'), csvText)
      .map(([a, b]) => a + b)
    fc.assert(
      fc.property(fc.array(fc.oneof(csvText, formulaText), { minLength: 1, maxLength: 6 }), (record) => {
        const [safe] = parseCsv(csvRecord(record, 'safe'))
        expect(safe).toEqual(record.map((field) => (/^[=+\-@\t\r]/.test(field) ? `'${field}` : field)))
        expect(parseCsv(csvRecord(record, 'raw'))).toEqual([record])
        // Safe by default: an export nobody configured is safe to open.
        expect(csvRecord(record)).toBe(csvRecord(record, 'safe'))
      }),
      { numRuns: 2000 },
    )
  })

  test('when fields are given, then each case is written as RFC 4180 says', () => {
    expect(csvRecord(['a', 'b c', ' lead', 'trail '])).toBe('a,b c, lead,trail \r\n')
    expect(csvRecord(['say "hi"', 'a,b', 'line\nbreak', 'cr\rhere', 'crlf\r\n'])).toBe(
      '"say ""hi""","a,b","line\nbreak","cr\rhere","crlf\r\n"\r\n',
    )
    expect(csvRecord([null, undefined, '', 0, 42])).toBe(',,,0,42\r\n')
    expect(csvRecord(['=1+1', '@x', '-2'], 'raw')).toBe('=1+1,@x,-2\r\n')
    expect(csvRecord(['=1+1', '@x', '-2', '+SUM(A1)', '\tTAB', '\rCR', 'ok=1'])).toBe(
      "'=1+1,'@x,'-2,'+SUM(A1),'\tTAB,\"'\rCR\",ok=1\r\n",
    )
    // Numbers are never text a spreadsheet runs: a negative number stays a number.
    expect(csvRecord([-2, 0])).toBe('-2,0\r\n')
  })
})

describe('NDJSON', () => {
  test('when any JSON value is written, then it is one line ending in \\n that parses back to the value', () => {
    fc.assert(
      fc.property(fc.json(), (json) => {
        const value = JSON.parse(json)
        const line = ndjsonLine(value)
        expect(line.endsWith('\n')).toBe(true)
        expect(line.slice(0, -1)).not.toMatch(/[\r\n]/)
        expect(JSON.parse(line)).toEqual(value)
      }),
      { numRuns: 1000 },
    )
    expect(ndjsonLine({ text: 'a\nb\r\nc' })).toBe('{"text":"a\\nb\\r\\nc"}\n')
  })
})

describe('negotiation', () => {
  const cases: [string | null, Representation][] = [
    [null, 'json'],
    ['', 'json'],
    ['*/*', 'json'],
    ['application/json', 'json'],
    ['text/csv', 'csv'],
    ['TEXT/CSV', 'csv'],
    ['application/x-ndjson', 'ndjson'],
    ['text/csv;charset=utf-8;header=present', 'csv'],
    ['text/*', 'csv'],
    ['application/*', 'json'],
    // Browsers: JSON, as before exports existed.
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'json'],
    ['text/csv;q=0.5, application/x-ndjson', 'ndjson'],
    ['text/csv, application/json;q=0.9', 'csv'],
    ['application/json;q=0.9, text/csv', 'csv'],
    ['application/json, text/csv', 'json'],
    ['text/csv, application/x-ndjson', 'csv'],
    // The most specific range decides: */* at 1 does not lift a refused text/csv.
    ['text/csv;q=0, */*', 'json'],
    ['*/*;q=0.1, text/csv', 'csv'],
    ['text/*;q=0.2, text/csv;q=0.9, application/json;q=0.5', 'csv'],
    ['text/*, text/csv;q=0', 'json'],
    ['application/json;q=0, text/csv;q=0.1', 'csv'],
    // A refusal holds when the range is named twice.
    ['text/csv, text/csv;q=0', 'json'],
    // Nothing offered is acceptable: JSON rather than 406.
    ['text/html', 'json'],
    ['application/xml, image/png', 'json'],
    ['application/json;q=0', 'json'],
    ['*/*;q=0', 'json'],
    // Broken elements are left out, as if absent.
    ['text/csv;q=2', 'json'],
    ['text/csv;q=abc, application/x-ndjson;q=0.5', 'ndjson'],
    ['csv', 'json'],
    ['*/csv', 'json'],
    ['text/csv;q=0.5;ext=1', 'csv'],
    [',,;;,', 'json'],
  ]
  test.each(cases)('when Accept is %p, then the answer is %p', (accept, expected) => {
    expect(negotiate(accept)).toBe(expected)
    expect(representationOf(undefined, accept)).toBe(expected)
  })

  test('when format is given, then it wins over any Accept header', () => {
    fc.assert(
      fc.property(fc.constantFrom<Representation>('json', 'csv', 'ndjson'), fc.option(fc.string()), (format, accept) => {
        expect(representationOf(format, accept)).toBe(format)
      }),
    )
    expect(representationOf('json', 'text/csv')).toBe('json')
    expect(representationOf('csv', 'application/x-ndjson')).toBe('csv')
  })

  test('when headers are made of any media ranges, weights and garbage, then negotiation never throws and answers as the model says', () => {
    const range = fc.constantFrom(
      'text/csv',
      'application/x-ndjson',
      'application/json',
      'text/*',
      'application/*',
      '*/*',
      'text/html',
      'image/png',
    )
    const weight = fc.oneof(
      fc.constant(''),
      fc.constantFrom('0', '0.001', '0.5', '1', '1.000').map((q) => `;q=${q}`),
      fc.constantFrom(';q=2', ';q=', ';level=1', ' ; Q=0.3'),
    )
    const element = fc.tuple(range, weight).map(([r, w]) => r + w)
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            element,
            fc.string({ maxLength: 8 }).filter((s) => !s.includes(',')),
          ),
          { maxLength: 6 },
        ),
        (elements) => {
          const header = elements.join(', ')
          const chosen = negotiate(header)
          expect(['json', 'csv', 'ndjson']).toContain(chosen)
          // Model: what the weight of each offered type is, from the well-formed elements alone.
          const parsed = elements.flatMap((e) => {
            const m = /^\s*([a-z*]+)\/([a-z*-]+)\s*(?:;\s*q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?))?\s*$/i.exec(e)
            if (m !== null)
              return [{ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), q: m[3] === undefined ? 1 : Number(m[3]) }]
            const other = /^\s*([a-z*]+)\/([a-z*-]+)\s*;\s*level=1\s*$/i.exec(e)
            return other === null ? [] : [{ type: other[1]!.toLowerCase(), subtype: other[2]!.toLowerCase(), q: 1 }]
          })
          const weightOf = (mediaType: string) => {
            const [type, subtype] = mediaType.split('/')
            for (const [t, s] of [
              [type, subtype],
              [type, '*'],
              ['*', '*'],
            ]) {
              const named = parsed.filter((p) => p.type === t && p.subtype === s)
              if (named.length > 0) return Math.min(...named.map((p) => p.q))
            }
            return 0
          }
          const weights = {
            json: weightOf('application/json'),
            csv: weightOf('text/csv'),
            ndjson: weightOf('application/x-ndjson'),
          }
          const top = Math.max(weights.json, weights.csv, weights.ndjson)
          const expected: Representation =
            top === 0 ? 'json' : weights.json === top ? 'json' : weights.csv === top ? 'csv' : 'ndjson'
          expect({ header, chosen }).toEqual({ header, chosen: expected })
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('Content-Disposition', () => {
  test('when the name is ASCII, then filename alone carries it', () => {
    expect(contentDisposition('tweets-all.csv')).toBe('attachment; filename="tweets-all.csv"')
    expect(exportFilename('tweets', [], 'csv')).toBe('tweets-all.csv')
    expect(exportFilename('tweets', ['devops', 'en'], 'ndjson')).toBe('tweets-devops-en.ndjson')
  })

  test('when the name has other letters, then filename has an ASCII fallback and filename* the UTF-8 name', () => {
    expect(contentDisposition('tweets-café.csv')).toBe(
      `attachment; filename="tweets-cafe.csv"; filename*=UTF-8''tweets-caf%C3%A9.csv`,
    )
    expect(contentDisposition('tweets-日本.csv')).toBe(
      `attachment; filename="tweets-__.csv"; filename*=UTF-8''tweets-%E6%97%A5%E6%9C%AC.csv`,
    )
  })

  test('when any name is given, then the fallback is a safe ASCII token and filename* decodes to the name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (name) => {
        const header = contentDisposition(name)
        const match = /^attachment; filename="([A-Za-z0-9._+-]*)"(?:; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]*))?$/.exec(
          header,
        )
        expect({ name, header, match: match !== null }).toEqual({ name, header, match: true })
        const [, fallback, encoded] = match!
        if (encoded === undefined) expect(fallback).toBe(name)
        else expect(decodeURIComponent(encoded)).toBe(name)
        expect(fallback!.length).toBeGreaterThan(0)
      }),
      { numRuns: 2000 },
    )
  })
})

/** Items keyed by descending ids, read as a keyset repository would: after a key, at most `size`. */
function source(count: number) {
  const items = Array.from({ length: count }, (_, i) => ({ id: String(1_000_000 - i) }))
  const reads: { after: string | null; size: number }[] = []
  const read = async (after: string | null, size: number) => {
    reads.push({ after, size })
    const start = after === null ? 0 : items.findIndex((item) => item.id === after) + 1
    return items.slice(start, start + size)
  }
  return { items, reads, read }
}

const plan = (read: ExportPlan<{ id: string }>['read'], overrides: Partial<ExportPlan<{ id: string }>> = {}) => ({
  read,
  keyOf: (item: { id: string }) => item.id,
  after: null,
  pageSize: 10,
  preamble: 'id\r\n',
  encode: (items: { id: string }[]) => items.map((item) => `${item.id}\r\n`).join(''),
  signal: new AbortController().signal,
  ...overrides,
})

async function chunksOf(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: string[] = []
  for await (const chunk of stream) chunks.push(new TextDecoder().decode(chunk))
  return chunks
}

describe('openExport', () => {
  test.each([0, 1, 9, 10, 11, 35, 40])(
    'when the selection holds %p items, then every item comes once, in order, one chunk per page',
    async (count) => {
      const { items, reads, read } = source(count)
      const chunks = await chunksOf(await openExport(plan(read)))
      expect(chunks.join('')).toBe(`id\r\n${items.map((item) => `${item.id}\r\n`).join('')}`)
      expect(chunks).toHaveLength(Math.max(1, Math.ceil(count / 10)))
      // A short page ends the export; a full last page costs one more (empty) read.
      expect(reads).toHaveLength(Math.floor(count / 10) + 1)
      expect(reads.every((r) => r.size === 10)).toBe(true)
    },
  )

  test('when it starts after a key, then the first read starts there', async () => {
    const { items, reads, read } = source(30)
    const chunks = await chunksOf(await openExport(plan(read, { after: items[14]!.id })))
    expect(reads[0]).toEqual({ after: items[14]!.id, size: 10 })
    expect(chunks.join('')).toBe(
      `id\r\n${items
        .slice(15)
        .map((item) => `${item.id}\r\n`)
        .join('')}`,
    )
  })

  test('when the consumer pulls slowly, then a page is read only after the one before was taken', async () => {
    const { reads, read } = source(100)
    const stream = await openExport(plan(read))
    // The first page is read before the answer starts, nothing more.
    expect(reads).toHaveLength(1)
    await Bun.sleep(20)
    expect(reads).toHaveLength(1)
    const reader = stream.getReader()
    for (let taken = 1; taken <= 5; taken++) {
      await reader.read()
      await Bun.sleep(5)
      expect(reads).toHaveLength(taken)
    }
    await reader.cancel()
  })

  test('when the request is aborted while a page is read, then that page is dropped and nothing more is read', async () => {
    const { read: inner } = source(100)
    const abort = new AbortController()
    let release: () => void = () => {}
    let reads = 0
    const read = async (after: string | null, size: number) => {
      reads++
      if (reads === 3) await new Promise<void>((resolve) => (release = resolve))
      return inner(after, size)
    }
    const reader = (await openExport(plan(read, { signal: abort.signal }))).getReader()
    await reader.read()
    await reader.read()
    const third = reader.read()
    await Bun.sleep(5)
    expect(reads).toBe(3)
    abort.abort()
    release()
    const result = await third.then(
      (r) => r,
      () => 'errored' as const,
    )
    expect(result === 'errored' || result.done === true).toBe(true)
    await Bun.sleep(20)
    expect(reads).toBe(3)
  })

  test('when the request is aborted between pages, then no page is read after it', async () => {
    const { reads, read } = source(100)
    const abort = new AbortController()
    const reader = (await openExport(plan(read, { signal: abort.signal }))).getReader()
    await reader.read()
    await reader.read()
    expect(reads).toHaveLength(2)
    abort.abort()
    await reader.read().catch(() => {})
    await Bun.sleep(20)
    expect(reads).toHaveLength(2)
  })

  test('when the consumer cancels, then no page is read after it', async () => {
    const { reads, read } = source(100)
    const reader = (await openExport(plan(read))).getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    await Bun.sleep(20)
    expect(reads).toHaveLength(2)
  })

  test('when a read fails after the first page, then onError is told once, the stream errors and nothing more is read', async () => {
    const { read: inner } = source(100)
    let reads = 0
    const failure = new Error('connection lost')
    const read = async (after: string | null, size: number) => {
      if (++reads === 3) throw failure
      return inner(after, size)
    }
    const told: [unknown, number][] = []
    const stream = await openExport(plan(read, { onError: (error, sent) => told.push([error, sent]) }))
    const received: string[] = []
    const outcome = await (async () => {
      try {
        for await (const chunk of stream) received.push(new TextDecoder().decode(chunk))
        return 'ended'
      } catch {
        return 'errored'
      }
    })()
    expect(outcome).toBe('errored')
    expect(received).toHaveLength(2)
    expect(told).toEqual([[failure, 20]])
    await Bun.sleep(20)
    expect(reads).toBe(3)
  })

  test('when a read fails and no onError is given, then the stream errors with the error itself', async () => {
    const failure = new Error('connection lost')
    let reads = 0
    const { read: inner } = source(100)
    const stream = await openExport(
      plan(async (after, size) => {
        if (++reads === 2) throw failure
        return inner(after, size)
      }),
    )
    const reader = stream.getReader()
    await reader.read()
    expect(reader.read()).rejects.toBe(failure)
  })

  test('when the first read fails, then opening fails (the route answers its usual problem) and nothing is streamed', async () => {
    const failure = new Error('database down')
    let told = 0
    const opened = openExport(
      plan(
        async () => {
          throw failure
        },
        { onError: () => told++ },
      ),
    )
    expect(opened).rejects.toBe(failure)
    await opened.catch(() => {})
    expect(told).toBe(0)
  })
})

describe('exportResponse', () => {
  test('when headers are already set, then the answer carries them and its own, Vary joined, and set is emptied', () => {
    const set = { headers: { 'x-request-id': 'r1', vary: 'Origin' } as Record<string, string | number> }
    const response = exportResponse(new ReadableStream(), 'csv', 'tweets-all.csv', set)
    expect(Object.fromEntries(response.headers)).toEqual({
      'x-request-id': 'r1',
      vary: 'Origin, Accept',
      'content-type': CONTENT_TYPES.csv,
      'content-disposition': 'attachment; filename="tweets-all.csv"',
      'cache-control': 'no-store',
    })
    expect(set.headers).toEqual({})
    const plain = exportResponse(new ReadableStream(), 'ndjson', 'tweets-all.ndjson', { headers: {} })
    expect(plain.headers.get('vary')).toBe('Accept')
    expect(plain.headers.get('content-type')).toBe('application/x-ndjson')
  })
})
