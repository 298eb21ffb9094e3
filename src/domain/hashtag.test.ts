import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { normalizeHashtag } from './hashtag'

/**
 * One rule for every entry (configuration, collected posts, query parameters, paths): a hashtag is
 * the same whatever Unicode normal form it is written in, and whatever case, as Unicode's lowercase
 * mapping reads it (ß and SS stay two spellings, as they are two lowercase strings).
 */
describe('normalizeHashtag', () => {
  test('a hashtag written in any Unicode normal form and any case is one hashtag, in NFC and lower case', () => {
    const letters = fc.constantFrom(
      'a',
      'E',
      'é',
      'É',
      'e\u0301',
      'ñ',
      'N\u0303',
      'Å',
      'ω',
      'Ω',
      'ü',
      'u\u0308',
      '_',
      '7',
      'ß',
      'ἀ',
      'ﬁ',
      'İ',
      '한',
      '가',
    )
    fc.assert(
      fc.property(fc.array(letters, { minLength: 1, maxLength: 30 }), fc.constantFrom('', '#', '%23'), (parts, prefix) => {
        const tag = parts.join('')
        const upper = tag.toUpperCase().toLowerCase() === tag.toLowerCase()
        const forms = ['NFC', 'NFD'].flatMap((form) => [
          tag.normalize(form),
          tag.normalize(form).toLowerCase(),
          ...(upper ? [tag.normalize(form).toUpperCase()] : []),
        ])
        const normalized = forms.map((form) => normalizeHashtag(prefix + form))
        expect(new Set(normalized).size).toBe(1)
        const [one] = normalized
        expect(one).not.toBeNull()
        expect(one).toBe(one!.normalize('NFC'))
        expect(one).toBe(one!.toLowerCase())
      }),
      { numRuns: 500 },
    )
  })

  test('café in NFD is café in NFC; 100 letters fit whatever the form, as the column counts characters', () => {
    expect(normalizeHashtag('#Cafe\u0301')).toBe('caf\u00e9')
    expect(normalizeHashtag('e\u0301'.repeat(100))).toBe('\u00e9'.repeat(100))
    expect(normalizeHashtag('\u00e9'.repeat(101))).toBeNull()
  })
})
