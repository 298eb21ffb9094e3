/**
 * Negotiations of request headers, remembered: clients send the same few Accept and
 * Accept-Encoding headers again and again, and a cached answer is served in microseconds, less than
 * a parse of the header costs. Only headers of sane length are kept, a bounded number of them,
 * forgotten all at once when full: what a client sends can never grow the memory.
 */

const REMEMBERED_MAX = 256
const REMEMBERED_LENGTH = 256

/** `negotiate`, answering a header seen before from memory. */
export function remembering<T>(negotiate: (header: string) => T): (header: string) => T {
  const remembered = new Map<string, T>()
  return (header) => {
    const known = remembered.get(header)
    if (known !== undefined) return known
    const choice = negotiate(header)
    if (header.length <= REMEMBERED_LENGTH) {
      if (remembered.size >= REMEMBERED_MAX) remembered.clear()
      remembered.set(header, choice)
    }
    return choice
  }
}
