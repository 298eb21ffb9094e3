import { promisify } from 'node:util'
import { brotliCompress, constants, gzip, zstdCompress } from 'node:zlib'
import { remembering } from './remembered'

/**
 * Content codings of answers: which one a request gets (Accept-Encoding, RFC 9110 §12.5.3) and the
 * compression itself. The response cache keeps one compressed variant per coding and data version.
 */

/** The codings offered, in the order preferred when a client weighs several alike: smallest first. */
export const CODINGS = ['br', 'zstd', 'gzip'] as const
export type Coding = (typeof CODINGS)[number]
export type Choice = Coding | 'identity'

/**
 * Below this many bytes an answer is sent plain: the coding's framing and the client's decoding
 * cost more than the few hundred bytes saved, and a 1 KB answer fits a TCP segment anyway.
 */
export const MIN_COMPRESSED_BYTES = 1024

// A coding name is an RFC 9110 token, compared without case.
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i
// qvalue (§12.4.2): 0 to 1 with at most three decimals; "q" without case, as every ABNF literal.
const WEIGHT = /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i
const OWS = /^[ \t]+|[ \t]+$/g
/** Below every weight a client can write (0.001): identity when the header does not name it. */
const IMPLICIT_IDENTITY = 0.0001

/**
 * The weight of each coding named in an Accept-Encoding value (lowercase names; x-gzip is gzip,
 * §8.4.1.3). An element that does not parse (a name that is no token, a weight that is no qvalue,
 * any parameter other than one q) is left out, as if absent: a hostile or broken header never
 * throws and never makes a refused coding acceptable. A coding named twice takes its lowest weight,
 * so a refusal (q=0) anywhere in the header holds; RFC 9110 leaves duplicates undefined.
 */
export function weights(header: string): Map<string, number> {
  const named = new Map<string, number>()
  for (const element of header.split(',')) {
    const [rawName, ...parameters] = element.split(';')
    const name = rawName!.replace(OWS, '').toLowerCase()
    if (!TOKEN.test(name) || parameters.length > 1) continue
    let weight = 1
    if (parameters.length === 1) {
      const match = WEIGHT.exec(parameters[0]!.replace(OWS, ''))
      if (match === null) continue
      weight = Number(match[1])
    }
    const coding = name === 'x-gzip' ? 'gzip' : name
    named.set(coding, Math.min(weight, named.get(coding) ?? 1))
  }
  return named
}

/**
 * The coding of the answer for a request with this Accept-Encoding (null: no such header).
 * - No header: plain. Any coding would be acceptable (§12.5.3), but a client that names none
 *   (curl, scripts) is better served with what it can read without asking.
 * - A coding is acceptable when named with a weight above 0, or covered by a `*` above 0 without
 *   being named; identity is acceptable unless refused by `identity;q=0`, or by `*;q=0` without an
 *   entry of its own. An empty value, or one of nothing but garbage, leaves identity alone.
 * - The highest weight wins; ties go to the order of CODINGS, then identity.
 * - When nothing is acceptable, not even identity, the answer is plain: §12.1 lets a server
 *   disregard the header rather than answer 406, and a plain answer is readable by every client.
 */
export function negotiate(header: string | null): Choice {
  if (header === null) return 'identity'
  const named = weights(header)
  const any = named.get('*')
  let best: Choice = 'identity'
  let bestWeight = named.get('identity') ?? any ?? IMPLICIT_IDENTITY
  for (const coding of CODINGS) {
    const weight = named.get(coding) ?? any ?? 0
    // Strictly higher than identity's, or equal to a positive one: a tie with identity compresses.
    if (weight > 0 && (weight > bestWeight || (best === 'identity' && weight === bestWeight))) {
      best = coding
      bestWeight = weight
    }
  }
  return best
}

const rememberedNegotiate = remembering(negotiate)

/** negotiate(), remembered for the headers already seen. */
export function chosenCoding(header: string | null): Choice {
  return header === null ? 'identity' : rememberedNegotiate(header)
}

/*
 * Levels. A variant is compressed once per data version and key and then served many times, so a
 * level may cost more than a per-request one would; but each first request of a version waits for
 * it, and with the cache off every request pays it. Measured on a 100-tweet page (26 KB):
 * - br 5: 3.3 KB in about 0.4 ms; 4 is 9% larger, 6-9 gain under 2% for more time, 11 gains 12%
 *   but takes about 30 ms (a first request would wait for it).
 * - gzip 6 (zlib's default): 3.9 KB in about 0.1 ms; 9 gains under 0.1% at twice the time, 1 is 65% larger.
 * - zstd 3 (zstd's default): 3.6 KB in about 0.05 ms; higher levels gain a few percent at 3x the time.
 * Compression runs on the thread pool (the async zlib calls), not on the event loop: a large page
 * (1,000 tweets) takes several ms, during which other requests are served.
 */
const brotli = promisify(brotliCompress)
const zstd = promisify(zstdCompress)
const gzipped = promisify(gzip)
const compressors: Record<Coding, (body: Uint8Array) => Promise<Uint8Array>> = {
  br: (body) =>
    brotli(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 5,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
      },
    }),
  zstd: (body) => zstd(body, { params: { [constants.ZSTD_c_compressionLevel]: 3 } }),
  gzip: (body) => gzipped(body, { level: 6 }),
}

export const compress = (coding: Coding, body: Uint8Array): Promise<Uint8Array> => compressors[coding](body)
