import { describe, expect, test } from 'bun:test'
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib'
import fc from 'fast-check'
import { useTestApp } from '../../test/support/app-world'
import { type Choice, CODINGS, type Coding, MIN_COMPRESSED_BYTES, negotiate } from './compression'

const world = useTestApp({ coreData: true })

/** A list that can also be exported: its answers vary by Accept as well. */
const PAGE = '/api/v1/resources/tweets/all?limit=100'
const SMALL = '/api/v1/resources/hashtags/all'

const decoders: Record<Coding, (body: Uint8Array) => Uint8Array> = {
  br: brotliDecompressSync,
  gzip: gunzipSync,
  zstd: zstdDecompressSync,
}

/**
 * The bytes as sent. Without `decompress: false`, Bun's fetch names every coding itself and decodes
 * the answer; with it, it sends no Accept-Encoding of its own.
 */
async function raw(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(world.app.url + path, { headers, decompress: false })
  return { response, body: new Uint8Array(await response.arrayBuffer()) }
}

// --- a model of RFC 9110 §12.5.3, fed the header's elements as generated rather than parsed ----

/** One element of a generated header, and what it means (null: it does not parse, so it counts as absent). */
interface Element {
  text: string
  meaning: { coding: string; weight: number } | null
}

const SERVER_ORDER: Choice[] = [...CODINGS, 'identity']

function expectedChoice(elements: Element[] | null): Choice {
  if (elements === null) return 'identity'
  const weightOf = new Map<string, number>()
  for (const { meaning } of elements) {
    if (meaning === null) continue
    const before = weightOf.get(meaning.coding)
    weightOf.set(meaning.coding, before === undefined ? meaning.weight : Math.min(before, meaning.weight))
  }
  const star = weightOf.get('*')
  const candidates = SERVER_ORDER.map((choice, rank) => {
    const own = weightOf.get(choice)
    if (choice === 'identity') {
      // Acceptable by default, least preferred, unless refused by name or by a * that covers it.
      const weight = own ?? star
      return { choice, rank, weight: weight ?? 0, acceptable: weight === undefined || weight > 0 }
    }
    const weight = own ?? star ?? 0
    return { choice, rank, weight, acceptable: weight > 0 }
  })
  const acceptable = candidates.filter((c) => c.acceptable).sort((a, b) => b.weight - a.weight || a.rank - b.rank)
  return acceptable[0]?.choice ?? 'identity'
}

const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t')
const randomCase = (word: string) =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((upper) => [...word].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(''))

const NAMES = ['br', 'gzip', 'x-gzip', 'zstd', 'identity', '*', 'deflate', 'compress', 'exi', 'pack200-gzip', 'bro']
const name = fc.constantFrom(...NAMES).chain((word) => randomCase(word).map((text) => ({ text, word })))

/** A valid qvalue in thousandths, written in one of its spellings ("0.5", "0.50", "0.500"). */
const qvalue = fc.integer({ min: 0, max: 1000 }).chain((thousandths) => {
  const weight = thousandths / 1000
  const spellings =
    thousandths === 1000
      ? ['1', '1.', '1.0', '1.00', '1.000']
      : thousandths === 0
        ? ['0', '0.', '0.0', '0.000']
        : [String(weight), `0.${String(thousandths).padStart(3, '0')}`]
  return fc.constantFrom(...spellings).map((text) => ({ text, weight }))
})

const valid: fc.Arbitrary<Element> = fc
  .tuple(ows, name, ows, fc.option(fc.tuple(ows, fc.constantFrom('q', 'Q'), qvalue, ows)))
  .map(([before, { text, word }, after, weight]) => ({
    text: `${before}${text}${after}${weight === null ? '' : `;${weight[0]}${weight[1]}=${weight[2].text}${weight[3]}`}`,
    meaning: { coding: word === 'x-gzip' ? 'gzip' : word, weight: weight === null ? 1 : weight[2].weight },
  }))

/** A known name with a weight or parameter that does not parse: the element counts as absent. */
const badWeight: fc.Arbitrary<Element> = fc
  .tuple(
    name,
    fc.constantFrom(
      ';q=2',
      ';q=1.5',
      ';q=0.0001',
      ';q=1.001',
      ';q=-0',
      ';q=.5',
      ';q=abc',
      ';q=',
      ';q=0.5x',
      ';q=1e0',
      ';q',
      ';',
      ';level=1',
      '; q = 0.5',
      ';q=0.5;q=1',
      ';q="1"',
    ),
  )
  .map(([{ text }, tail]) => ({ text: `${text}${tail}`, meaning: null }))

/** Printable garbage whose name part is no token (it starts with a separator), so it counts as absent. */
const garbage: fc.Arbitrary<Element> = fc
  .tuple(
    fc.constantFrom('"', '@', '(', ')', '/', '[', ']', '?', '=', '{', '}', '\\', ':', '<', '>'),
    fc.string({ unit: fc.constantFrom(...'abcgzipbr;q=0.1 *-_"@'.split('')), maxLength: 12 }),
  )
  .map(([separator, rest]) => ({ text: `${separator}${rest}`, meaning: null }))

const empty: fc.Arbitrary<Element> = ows.map((text) => ({ text, meaning: null }))

const header: fc.Arbitrary<Element[] | null> = fc.option(
  fc
    .array(fc.oneof({ weight: 6, arbitrary: valid }, badWeight, garbage, empty), { maxLength: 8 })
    // Duplicates: an element repeated, with the same or another weight.
    .chain((elements) =>
      elements.length === 0
        ? fc.constant(elements)
        : fc
            .subarray(elements)
            .chain((again) => fc.shuffledSubarray([...elements, ...again], { minLength: elements.length + again.length })),
    ),
  { freq: 8 },
)

const render = (elements: Element[] | null) => (elements === null ? null : elements.map((e) => e.text).join(','))

describe('Accept-Encoding negotiation (RFC 9110 §12.5.3)', () => {
  test('when headers are generated (q-values, case, whitespace, duplicates, garbage), then the choice is the model’s', () => {
    fc.assert(
      fc.property(header, (elements) => {
        expect(negotiate(render(elements))).toBe(expectedChoice(elements))
      }),
      { numRuns: 5000 },
    )
  })

  test('the cases the rules name', () => {
    const cases: [string | null, Choice][] = [
      [null, 'identity'],
      ['', 'identity'],
      ['gzip', 'gzip'],
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip, zstd', 'zstd'],
      ['br;q=0.5, zstd', 'zstd'],
      ['BR;Q=1.0, GZip', 'br'],
      ['x-gzip', 'gzip'],
      ['*', 'br'],
      ['*;q=0', 'identity'],
      ['*;q=0, gzip;q=0.001', 'gzip'],
      ['identity;q=0', 'identity'],
      ['identity;q=0, gzip', 'gzip'],
      ['identity, gzip;q=0.5', 'identity'],
      ['identity;q=0.5, gzip;q=0.5', 'gzip'],
      ['gzip;q=0, br;q=0', 'identity'],
      ['gzip;q=0.8, gzip;q=0', 'identity'],
      ['br;q=0, *', 'zstd'],
      ['deflate, compress', 'identity'],
      ['gzip;q=2', 'identity'],
      [',,, ,\t,', 'identity'],
      ['"gzip"', 'identity'],
    ]
    expect(cases.map(([value]) => [value, negotiate(value)])).toEqual(cases)
  })

  test('when the header is any string at all, then negotiation answers without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        expect(SERVER_ORDER).toContain(negotiate(value))
      }),
      { numRuns: 2000 },
    )
    expect(negotiate(`${'gzip;q=0.5,'.repeat(20_000)}br`)).toBe('br')
  })
})

describe('compressed answers', () => {
  test('when a client accepts a coding, then the page comes in it, and decodes to the plain bytes', async () => {
    const plain = await raw(PAGE)
    expect(plain.response.headers.get('content-encoding')).toBeNull()
    expect(plain.body.byteLength).toBeGreaterThan(MIN_COMPRESSED_BYTES)
    expect(plain.response.headers.get('content-length')).toBe(String(plain.body.byteLength))
    expect(plain.response.headers.get('vary')).toBe('Accept, Accept-Encoding')
    for (const coding of CODINGS) {
      const { response, body } = await raw(PAGE, { 'accept-encoding': coding })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-encoding')).toBe(coding)
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(response.headers.get('content-length')).toBe(String(body.byteLength))
      expect(response.headers.get('vary')).toBe('Accept, Accept-Encoding')
      expect(body.byteLength).toBeLessThan(plain.body.byteLength / 2)
      expect(Buffer.from(decoders[coding](body)).equals(Buffer.from(plain.body))).toBe(true)
    }
  })

  test('when headers are generated, then the app answers in the model’s choice, and every answer decodes to the plain bytes', async () => {
    const plain = Buffer.from((await raw(PAGE)).body)
    await fc.assert(
      fc.asyncProperty(header, async (elements) => {
        const value = render(elements)
        const { response, body } = await raw(PAGE, value === null ? {} : { 'accept-encoding': value })
        const expected = expectedChoice(elements)
        expect(response.headers.get('content-encoding') ?? 'identity').toBe(expected)
        expect(response.headers.get('vary')).toBe('Accept, Accept-Encoding')
        const decoded = expected === 'identity' ? body : decoders[expected](body)
        expect(Buffer.from(decoded).equals(plain)).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  test('when an answer is under 1 KB, then it is sent plain, with Vary all the same', async () => {
    const { response, body } = await raw(SMALL, { 'accept-encoding': 'br, gzip, zstd' })
    expect(body.byteLength).toBeLessThan(MIN_COMPRESSED_BYTES)
    expect(response.headers.get('content-encoding')).toBeNull()
    expect(response.headers.get('content-length')).toBe(String(body.byteLength))
    expect(response.headers.get('vary')).toBe('Accept-Encoding')
    const etag = response.headers.get('etag')!
    expect((await raw(SMALL)).response.headers.get('etag')).toBe(etag)
  })

  test('when Bun’s own fetch asks (it names every coding and decodes), then the JSON reads as ever', async () => {
    const response = await fetch(world.app.url + PAGE)
    expect(response.headers.get('content-encoding')).toBe('br')
    expect(((await response.json()) as { data: unknown[] }).data.length).toBeGreaterThan(10)
  })
})
