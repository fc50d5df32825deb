/**
 * Immutable tables keyed by strings that clients choose (MIDs) or that name replicas and clients.
 * A table has no prototype, so that any string, `__proto__` and `constructor` included, is an
 * ordinary key; a change makes a new table and leaves the old one as it was.
 */
export type Table<V> = Readonly<Record<string, V>>

/** A new, empty, mutable table: for code that builds one and then hands it out as a `Table`. */
export const newTable = <V>(): Record<string, V> => Object.create(null) as Record<string, V>

export const emptyTable = <V>(): Table<V> => newTable<V>()

const copyOf = <V>(table: Table<V>): Record<string, V> => Object.assign(newTable<V>(), table)

/** The table with `key` bound to `value`. */
export const withEntry = <V>(table: Table<V>, key: string, value: V): Table<V> => {
  const copy = copyOf(table)
  copy[key] = value
  return copy
}

/** The table without `key`; the same table when it has no such key. */
export const withoutEntry = <V>(table: Table<V>, key: string): Table<V> => {
  if (!Object.hasOwn(table, key)) return table
  const copy = copyOf(table)
  delete copy[key]
  return copy
}
