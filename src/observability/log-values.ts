/**
 * What may be written of a value: secrets masked, sizes bounded. Log objects are walked before pino
 * turns them into a line, and only string values are changed — never keys, numbers, booleans or
 * the line itself — so a line stays valid JSON whatever a secret is (`false`, `message`, a quote).
 * pino's own `redact` option does not fit: it removes values at known paths, while a secret turns
 * up inside any string (an X API error body echoing the token, a connection URL in an error).
 *
 * A secret is masked in the forms its echoes take: raw, JSON-escaped (a JSON body quoted inside a
 * string), percent-encoded (encodeURIComponent, and form encoding with `+`), percent-decoded (X
 * bearer tokens hold `%2F` and `%3D`; a server may echo them decoded), and these combined. A form
 * shorter than MIN_SECRET_LENGTH is not masked: masking two characters would mask most of the line.
 * Base64 and other re-encodings are not recognised.
 */

export const MIN_SECRET_LENGTH = 3

export interface ValueLimits {
  /** Longest string kept, in UTF-16 code units; longer ones are cut, with a marker saying how much. */
  stringLength: number
  /** Items kept of an array; the rest are replaced by one item counting them. */
  arrayItems: number
  /** Objects and arrays nested deeper than this are replaced by a marker. */
  depth: number
  /**
   * Characters of strings and keys in one log object; past it, what is left of each object and array
   * is replaced by a count, so that a line stays below about this size whatever it holds.
   */
  total: number
}

export const DEFAULT_LIMITS: ValueLimits = { stringLength: 8 * 1024, arrayItems: 50, depth: 10, total: 64 * 1024 }

export interface LogValues {
  /** A log object made safe to write: the same object when nothing had to change, else a changed copy. */
  value(value: unknown): unknown
  /** A text made safe to write (a message, a line printed for people). */
  text(text: string): string
}

const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1)

const attempt = (transform: (text: string) => string, text: string): string | null => {
  try {
    return transform(text)
  } catch {
    return null
  }
}

/** Every form of a secret worth masking, longest first. */
function secretForms(secrets: string[]): string[] {
  const forms = new Set<string>()
  for (const secret of secrets) {
    const decoded = attempt(decodeURIComponent, secret)
    const formDecoded = attempt(decodeURIComponent, secret.replaceAll('+', ' '))
    for (const text of [secret, decoded, formDecoded]) {
      if (text === null) continue
      forms.add(text)
      forms.add(jsonEscaped(text))
      // Some JSON writers (PHP's json_encode) escape '/': the decoded form of a token holds some.
      forms.add(jsonEscaped(text).replaceAll('/', '\\/'))
      const encoded = attempt(encodeURIComponent, text)
      if (encoded !== null) forms.add(encoded)
      forms.add(new URLSearchParams({ v: text }).toString().slice(2))
      // Base64 as a whole (an echoed Authorization: Basic header, a debugging dump), padded or not.
      const base64 = Buffer.from(text, 'utf8').toString('base64')
      forms.add(base64)
      forms.add(base64.replace(/=+$/, ''))
      forms.add(Buffer.from(text, 'utf8').toString('base64url'))
    }
  }
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)
}

/**
 * Whether a secret could show through `mask`: inside it, around it, or spanning its edge and the
 * text next to it ("D]x" after "[REDACTED]" followed by "x").
 */
function showsThrough(form: string, mask: string): boolean {
  if (form.includes(mask) || mask.includes(form)) return true
  for (let k = 1; k < Math.min(form.length, mask.length); k++) {
    if (form.endsWith(mask.slice(0, k)) || form.startsWith(mask.slice(-k))) return true
  }
  return false
}

/** "[REDACTED]", unless a secret could show through it: then a run of a character no secret holds. */
function chooseMask(forms: string[]): string {
  if (forms.every((form) => !showsThrough(form, '[REDACTED]'))) return '[REDACTED]'
  for (let code = 0x2a; ; code++) {
    const c = String.fromCharCode(code)
    if (forms.every((form) => !form.includes(c))) return c.repeat(3)
  }
}

/**
 * Replaces every occurrence of every form, overlapping ones included, by one mask per run of
 * masked text: what is left between masks holds no form, and no form spans a mask (chooseMask).
 */
function masker(forms: string[]): (text: string) => string {
  if (forms.length === 0) return (text) => text
  const mask = chooseMask(forms)
  // One pass over the text to find out that it holds no secret, the common case, instead of one per form.
  const anyForm = new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'))
  const shortest = forms.at(-1)!.length
  return (text) => {
    if (text.length < shortest || !anyForm.test(text)) return text
    const ranges: [number, number][] = []
    for (const form of forms) {
      for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) ranges.push([at, at + form.length])
    }
    ranges.sort((a, b) => a[0] - b[0])
    let out = ''
    let kept = 0
    let end = -1
    for (const [start, stop] of ranges) {
      if (start > end) {
        if (end !== -1) out += mask
        out += text.slice(kept, start)
      }
      end = Math.max(end, stop)
      kept = end
    }
    return `${out}${mask}${text.slice(kept)}`
  }
}

/** Cut to at most `length` code units, marker included, so that cutting again changes nothing. */
function cut(text: string, length: number): string {
  if (text.length <= length) return text
  const marker = `…[${text.length} characters, cut]`
  return text.slice(0, Math.max(0, length - marker.length)) + marker
}

const TOO_DEEP = '[nested too deep]'
const CIRCULAR = '[Circular]'
/** Key of the field that counts an object's fields left out for want of room. */
export const LEFT_OUT_KEY = '…'

/** One walk over one log object: the room left, and the objects it is inside of (to see cycles). */
interface Walk {
  room: number
  readonly ancestors: object[]
  readonly limits: ValueLimits
  readonly text: (raw: string, room: number) => string
}

function walk(state: Walk, v: unknown): unknown {
  if (typeof v === 'string') {
    const out = state.text(v, state.room)
    state.room -= out.length + 3
    return out
  }
  if (typeof v !== 'object' || v === null) {
    state.room -= 8
    return v
  }
  // Dates, URLs, Buffers: what JSON.stringify would write of them.
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return walk(state, (v as { toJSON(): unknown }).toJSON())
  const { ancestors } = state
  if (ancestors.includes(v)) return CIRCULAR
  if (ancestors.length >= state.limits.depth) return TOO_DEEP
  ancestors.push(v)
  const out = Array.isArray(v) ? walkArray(state, v) : walkObject(state, v as Record<string, unknown>)
  ancestors.pop()
  return out
}

function walkArray(state: Walk, items: unknown[]): unknown[] {
  let copy: unknown[] | null = null
  const kept = Math.min(items.length, state.limits.arrayItems)
  let i = 0
  for (; i < kept && state.room > 0; i++) {
    const item = walk(state, items[i])
    if (copy === null && item !== items[i]) copy = items.slice(0, i)
    copy?.push(item)
  }
  if (i === items.length) return copy ?? items
  copy ??= items.slice(0, i)
  copy.push(`[${items.length - i} more items]`)
  return copy
}

function walkObject(state: Walk, object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null
  let seen = 0
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue
    if (state.room <= 0) {
      copy ??= copyOf(object, seen)
      copy[LEFT_OUT_KEY] = `[${Object.keys(object).length - seen} more fields]`
      return copy
    }
    state.room -= key.length + 4
    const original = object[key]
    const field = walk(state, original)
    if (copy === null && field !== original) copy = copyOf(object, seen)
    if (copy !== null) copy[key] = field
    seen++
  }
  return copy ?? object
}

/** The first `count` own fields of an object, in a copy without a prototype: a key `__proto__` (JSON.parse makes such keys) stays a field. */
function copyOf(object: Record<string, unknown>, count: number): Record<string, unknown> {
  const copy: Record<string, unknown> = Object.create(null)
  let copied = 0
  for (const key in object) {
    if (copied === count) break
    if (!Object.hasOwn(object, key)) continue
    copy[key] = object[key]
    copied++
  }
  return copy
}

export function createLogValues(secrets: string[], limits: ValueLimits = DEFAULT_LIMITS): LogValues {
  const mask = masker(secretForms(secrets))
  const text = (raw: string, room: number) => cut(mask(raw), Math.min(room, limits.stringLength))
  return {
    value: (value) => walk({ room: limits.total, ancestors: [], limits, text }, value),
    text: (raw) => text(raw, limits.stringLength),
  }
}
