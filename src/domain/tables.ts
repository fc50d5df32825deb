/**
 * Small tables keyed by strings that clients choose. A table has no prototype, so that any string,
 * `__proto__` and `constructor` included, is an ordinary key. (A table that grows with the
 * requests, such as a leader's own puts, is a persistent map instead: ./persistent-map.)
 */

/** A new, empty, mutable table: for code that builds one and then hands it out read-only. */
export const newTable = <V>(): Record<string, V> => Object.create(null) as Record<string, V>
