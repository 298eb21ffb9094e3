/** Strings in code-point order, as MySQL sorts utf8mb4_bin columns (JavaScript's < compares UTF-16 units). */
export const byCodePoints = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))
