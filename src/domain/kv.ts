/**
 * The key-value state machine. Commands are applied in log order; a put whose MID was applied
 * already (a forwarded copy of a put that also survived in another log) changes nothing, so every
 * client put takes effect at most once.
 *
 * Keys and MIDs are whatever clients send, `__proto__` and `constructor` included: the tables have
 * no prototype and are read with `Object.hasOwn` only.
 */
import { produce, type Draft } from 'immer'
import type { Command } from './wire'

export interface KvStore {
  readonly values: Readonly<Record<string, string>>
  readonly appliedMids: Readonly<Record<string, true>>
}

/** A table with no prototype, so that any string is an ordinary key. */
export const emptyTable = <V>(): Record<string, V> => Object.create(null) as Record<string, V>

export const emptyKv: KvStore = { values: emptyTable(), appliedMids: emptyTable() }

export const hasApplied = (kv: KvStore, mid: string): boolean => Object.hasOwn(kv.appliedMids, mid)

/** Whether applying `command` to `kv` changes it (false for no-ops and repeated MIDs). */
export const takesEffect = (kv: KvStore, command: Command): boolean =>
  command.op === 'put' && !hasApplied(kv, command.MID)

/** Applies `command` to a draft of the store; true when it took effect. */
export const applyToDraft = (kv: Draft<KvStore>, command: Command): boolean => {
  if (command.op !== 'put' || !takesEffect(kv, command)) return false
  kv.values[command.key] = command.value
  kv.appliedMids[command.MID] = true
  return true
}

export const applyCommand = (kv: KvStore, command: Command): KvStore =>
  produce(kv, (draft) => {
    applyToDraft(draft, command)
  })

export const read = (kv: KvStore, key: string): string | undefined =>
  Object.hasOwn(kv.values, key) ? kv.values[key] : undefined
