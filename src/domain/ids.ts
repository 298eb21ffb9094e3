const MAX_UINT64 = 18446744073709551615n

/**
 * Decimal digits of an unsigned 64-bit integer: X ids (tweets and users) and the BIGINT UNSIGNED
 * columns that hold them. Ids stay strings end to end and never pass through a JS number.
 */
export const isUint64 = (value: string): boolean => /^[0-9]{1,20}$/.test(value) && BigInt(value) <= MAX_UINT64
