/** Seeded randomness for the data generators: the same seed always gives the same data. */

/** mulberry32: a small, fast 32-bit PRNG, good enough for test data (not for secrets). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!

/** Picks a value with probability proportional to its weight. */
export function weighted<T>(random: () => number, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0)
  let roll = random() * total
  for (const [value, weight] of choices) {
    roll -= weight
    if (roll < 0) return value
  }
  return choices[choices.length - 1]![0]
}

/** Index 0..n-1 drawn with probability ∝ 1/(i+1)^s: a few values take most draws. */
export function zipf(random: () => number, n: number, s: number): () => number {
  const cumulative = new Float64Array(n)
  let total = 0
  for (let i = 0; i < n; i++) total += 1 / (i + 1) ** s
  let sum = 0
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** s / total
    cumulative[i] = sum
  }
  return () => {
    const roll = random()
    let low = 0
    let high = n - 1
    while (low < high) {
      const mid = (low + high) >> 1
      if (cumulative[mid]! < roll) low = mid + 1
      else high = mid
    }
    return low
  }
}

/**
 * A heavy-tailed count from 0 up (Lomax: a Pareto shifted to start at 0): P(X ≥ x) = (1 + x)^-alpha.
 * Most draws are 0 or 1, one in a hundred is above 100^(1/alpha) - 1; the smaller alpha, the heavier the tail.
 */
export const pareto = (random: () => number, alpha: number): number => (1 - random()) ** (-1 / alpha) - 1

/** x rounded down or up at random, in proportion to its fraction: the expected value stays x. */
export const roundRandomly = (random: () => number, x: number): number => Math.floor(x + random())
