/**
 * The key-value state machine. Commands are applied in log order; a put whose MID was applied
 * already (a forwarded copy of a put that also survived in another log) changes nothing, so every
 * client put takes effect at most once.
 */
import type { Command } from './wire'

export interface KvStore {
  readonly values: Readonly<Record<string, string>>
  readonly appliedMids: Readonly<Record<string, true>>
}

export const emptyKv: KvStore = { values: {}, appliedMids: {} }

/** Whether applying `command` to `kv` changes it (false for no-ops and repeated MIDs). */
export const takesEffect = (kv: KvStore, command: Command): boolean =>
  command.op === 'put' && kv.appliedMids[command.MID] === undefined

export const applyCommand = (kv: KvStore, command: Command): KvStore =>
  command.op === 'put' && takesEffect(kv, command)
    ? {
        values: { ...kv.values, [command.key]: command.value },
        appliedMids: { ...kv.appliedMids, [command.MID]: true },
      }
    : kv

export const read = (kv: KvStore, key: string): string | undefined => kv.values[key]
