/**
 * The key-value state machine. Commands are applied in log order; a write (put, or the real
 * cluster's delete and compare-and-set) whose MID was applied already (a forwarded copy of a write
 * that also survived in another log, or a client's retry) changes nothing, so every client write
 * takes effect at most once.
 *
 * The MIDs remembered for that are bounded, so that a long-lived store does not grow with every
 * request it ever served: they are kept in two generations of `MID_GENERATION` puts each, the
 * current one and the one before; when the current one is full it becomes the older one and the
 * oldest is forgotten. A MID is remembered for at least `MID_GENERATION` later puts, far longer
 * than a client retries (the protocol's clients retry for seconds; at the course's rates that
 * many puts take hours). The rotation depends only on the sequence of applied puts, so every
 * replica remembers the same MIDs at the same index.
 *
 * Keys and MIDs are whatever clients send, `__proto__` and `constructor` included: both tables are
 * persistent maps (./persistent-map), which never use a key as a property name: applying a put
 * builds a new store sharing almost everything with the old one.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { pipe } from 'fp-ts/function'
import { PersistentMap } from './persistent-map'
import { newTable } from './tables'
import { isWrite, type Command } from './wire'

/** How many puts' MIDs one generation holds. */
export const MID_GENERATION = 50_000

export class KvStore {
  constructor(
    readonly values: PersistentMap<string>,
    /** MIDs of the puts applied in the current generation. */
    readonly recentMids: PersistentMap<true>,
    /** MIDs of the generation before. */
    readonly olderMids: PersistentMap<true>,
  ) {
    Object.freeze(this)
  }
}

export const emptyKv: KvStore = new KvStore(PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty())

// The older generation is empty until the first MID_GENERATION puts: one lookup, not two, until then.
export const hasApplied = (kv: KvStore, mid: string): boolean =>
  kv.recentMids.has(mid) || (kv.olderMids.size > 0 && kv.olderMids.has(mid))

/**
 * The store after `command`: the same store when it takes no effect (a no-op, a MID applied
 * before, or a compare-and-set whose comparison fails). A put, a delete and a compare-and-set that
 * writes remember their MID; a compare-and-set that fails does not, since it changed nothing: a
 * retry of it is compared afresh.
 */
export const applyCommand = (kv: KvStore, command: Command): KvStore => {
  if (!isWrite(command) || hasApplied(kv, command.MID)) return kv
  let values: PersistentMap<string>
  switch (command.op) {
    case 'put':
      values = kv.values.set(command.key, command.value)
      break
    case 'delete':
      values = kv.values.delete(command.key)
      break
    case 'cas':
      if ((kv.values.get(command.key) ?? null) !== command.expected) return kv
      values = kv.values.set(command.key, command.value)
      break
  }
  return kv.recentMids.size >= MID_GENERATION
    ? new KvStore(values, PersistentMap.empty<true>().set(command.MID, true), kv.recentMids)
    : new KvStore(values, kv.recentMids.set(command.MID, true), kv.olderMids)
}

export const read = (kv: KvStore, key: string): string | undefined => kv.values.get(key)

/** Every key with its value, as a table with no prototype (for tests and reports). */
export const valuesOf = (kv: KvStore): Record<string, string> => {
  const table = newTable<string>()
  for (const [key, value] of kv.values.entries()) table[key] = value
  return table
}

/** The MIDs the store remembers, oldest generation first (for tests and checkers). */
export const midsOf = (kv: KvStore): { readonly recent: string[]; readonly older: string[] } => ({
  recent: kv.recentMids.sortedKeys(),
  older: kv.olderMids.sortedKeys(),
})

// ---- snapshots (§7) --------------------------------------------------------------------------

/** A snapshot of the state machine as text: what is stored and what InstallSnapshot carries. */
const SnapshotData = t.type({
  values: t.array(t.tuple([t.string, t.string])),
  recentMids: t.array(t.string),
  olderMids: t.array(t.string),
})

/**
 * The store as text, sorted so that equal stores give equal text. The order of MIDs within a
 * generation does not matter: only the generations' sizes decide when they rotate.
 */
export const encodeSnapshot = (kv: KvStore): string => {
  const known = encoded.get(kv)
  if (known !== undefined) return known
  // JSON.stringify({ values, recentMids, olderMids }), written out: the older generation's part is
  // the same from one snapshot to the next until the generations rotate.
  const text = `{"values":${JSON.stringify(kv.values.toJSON())},"recentMids":${JSON.stringify(kv.recentMids.sortedKeys())},"olderMids":${midsText(kv.olderMids)}}`
  encoded.set(kv, text)
  return text
}

/**
 * Stores are immutable, so a store's text never changes: it is computed once (a leader sends its
 * snapshot in many pieces, to several followers, and stores it too). So is a generation of MIDs'.
 */
const encoded = new WeakMap<KvStore, string>()
const encodedMids = new WeakMap<PersistentMap<true>, string>()

const midsText = (mids: PersistentMap<true>): string => {
  const known = encodedMids.get(mids)
  if (known !== undefined) return known
  const text = JSON.stringify(mids.sortedKeys())
  encodedMids.set(mids, text)
  return text
}

const tableOf = (mids: readonly string[]): PersistentMap<true> =>
  mids.reduce((table, mid) => table.set(mid, true), PersistentMap.empty<true>())

/** The store a snapshot's text describes; Left with the reason when the text is not one. */
export const decodeSnapshot = (text: string): E.Either<string, KvStore> =>
  pipe(
    E.tryCatch(
      () => JSON.parse(text) as unknown,
      () => 'snapshot is not JSON',
    ),
    E.chain((json) => (SnapshotData.is(json) ? E.right(json) : E.left('snapshot has the wrong shape'))),
    E.map(
      (data) =>
        new KvStore(
          data.values.reduce((values, [key, value]) => values.set(key, value), PersistentMap.empty<string>()),
          tableOf(data.recentMids),
          tableOf(data.olderMids),
        ),
    ),
  )
