/**
 * Small immutable tables keyed by strings that name replicas and clients, or that clients choose.
 * A table has no prototype, so that any string, `__proto__` and `constructor` included, is an
 * ordinary key. (A table that grows with the requests, such as a leader's own puts, is a
 * persistent map instead: ./persistent-map.)
 */
export type Table<V> = Readonly<Record<string, V>>

/** A new, empty, mutable table: for code that builds one and then hands it out as a `Table`. */
export const newTable = <V>(): Record<string, V> => Object.create(null) as Record<string, V>

export const emptyTable = <V>(): Table<V> => newTable<V>()
