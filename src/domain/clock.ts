/**
 * The wall clock, in milliseconds since the epoch. Whatever decides by the date (which posts are
 * young, which since_id has aged, when a row was written) reads it through this type, handed down
 * from the composition root, so that a test can pin it to any instant.
 */
export type Clock = () => number

export const systemClock: Clock = () => Date.now()
