/**
 * The key-value state machine. Commands are applied in log order; a put whose MID was applied
 * already (a forwarded copy of a put that also survived in another log) changes nothing, so every
 * client put takes effect at most once.
 *
 * Keys and MIDs are whatever clients send, `__proto__` and `constructor` included: both tables are
 * persistent maps (./persistent-map), which never use a key as a property name: applying a put
 * builds a new store sharing almost everything with the old one.
 */
import { PersistentMap } from './persistent-map'
import { newTable } from './tables'
import type { Command } from './wire'

export class KvStore {
  constructor(
    readonly values: PersistentMap<string>,
    readonly appliedMids: PersistentMap<true>,
  ) {
    Object.freeze(this)
  }
}

export const emptyKv: KvStore = new KvStore(PersistentMap.empty(), PersistentMap.empty())

export const hasApplied = (kv: KvStore, mid: string): boolean => kv.appliedMids.has(mid)

/** The store after `command`: the same store when it takes no effect (a no-op, or a MID applied before). */
export const applyCommand = (kv: KvStore, command: Command): KvStore =>
  command.op === 'put' && !hasApplied(kv, command.MID)
    ? new KvStore(kv.values.set(command.key, command.value), kv.appliedMids.set(command.MID, true))
    : kv

export const read = (kv: KvStore, key: string): string | undefined => kv.values.get(key)

/** Every key with its value, as a table with no prototype (for tests and reports). */
export const valuesOf = (kv: KvStore): Record<string, string> => {
  const table = newTable<string>()
  for (const [key, value] of kv.values.entries()) table[key] = value
  return table
}
