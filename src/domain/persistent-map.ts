/**
 * A persistent map from strings to values: a hash array mapped trie (Bagwell, "Ideal Hash
 * Trees", 2001). `set` returns a new map that shares all but one path of nodes with the old one, so
 * a put costs a few small arrays copied instead of the whole table; the old map stays valid.
 *
 * Keys are compared with `===` only and never become property names, so `__proto__`,
 * `constructor` and the like are ordinary keys. The map and its nodes are immutable class
 * instances: a replica state holding one is copied by reference.
 */

/** Each level of the trie consumes this many bits of the key's hash. */
const BITS = 5
const MASK = (1 << BITS) - 1

/** A key, its value, and the key's hash (kept to split leaves without hashing again). */
class Leaf<V> {
  constructor(
    readonly hash: number,
    readonly key: string,
    readonly value: V,
  ) {}
}

/**
 * An inner node: bit i of `bitmap` is set when the slot for hash chunk i is occupied, and `slots`
 * holds the occupied slots in chunk order (a slot's position is the count of set bits below it).
 */
class Branch<V> {
  constructor(
    readonly bitmap: number,
    readonly slots: readonly Slot<V>[],
  ) {}
}

/** Leaves whose keys have the same full 32-bit hash, in insertion order. */
class Collision<V> {
  constructor(
    readonly hash: number,
    readonly leaves: readonly Leaf<V>[],
  ) {}
}

type Slot<V> = Leaf<V> | Branch<V> | Collision<V>

/** FNV-1a over the string's UTF-16 code units: 32 bits, well spread for short keys. */
export const hashString = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The number of set bits (the slot position below a bit). */
const popcount = (x: number): number => {
  x -= (x >>> 1) & 0x55555555
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333)
  x = (x + (x >>> 4)) & 0x0f0f0f0f
  return Math.imul(x, 0x01010101) >>> 24
}

/** The hash's chunk for the level at `shift`: its slot number there. */
const chunkAt = (hash: number, shift: number): number => (hash >>> shift) & MASK

/** The slot's bit in a bitmap (bit 31 makes the number negative: compare chunks, not bits). */
const bitAt = (hash: number, shift: number): number => 1 << chunkAt(hash, shift)

const lookup = <V>(root: Branch<V>, hash: number, key: string): Leaf<V> | undefined => {
  let node: Branch<V> = root
  let shift = 0
  for (;;) {
    const bit = bitAt(hash, shift)
    if ((node.bitmap & bit) === 0) return undefined
    const slot: Slot<V> = node.slots[popcount(node.bitmap & (bit - 1))]!
    if (slot instanceof Leaf) return slot.key === key ? slot : undefined
    if (slot instanceof Collision) return slot.leaves.find((leaf) => leaf.key === key)
    node = slot
    shift += BITS
  }
}

const replaced = <T>(items: readonly T[], at: number, item: T): T[] => {
  const copy = items.slice()
  copy[at] = item
  return copy
}

const inserted = <T>(items: readonly T[], at: number, item: T): T[] => {
  const copy = items.slice(0, at)
  copy.push(item)
  for (let i = at; i < items.length; i++) copy.push(items[i]!)
  return copy
}

/**
 * A subtrie at `shift` holding `existing` (a leaf or a collision) and the new leaf, whose hashes
 * differ from each other or are equal in full (then they form a collision). Hashes that differ
 * differ in some chunk at a shift of 30 or less, so the recursion ends before the bits run out.
 */
const split = <V>(existing: Leaf<V> | Collision<V>, leaf: Leaf<V>, shift: number): Slot<V> => {
  if (existing.hash === leaf.hash) {
    return new Collision(leaf.hash, existing instanceof Collision ? [...existing.leaves, leaf] : [existing, leaf])
  }
  const a = chunkAt(existing.hash, shift)
  const b = chunkAt(leaf.hash, shift)
  if (a === b) return new Branch(1 << a, [split(existing, leaf, shift + BITS)])
  return new Branch((1 << a) | (1 << b), a < b ? [existing, leaf] : [leaf, existing])
}

/** The node with `leaf` set in it (the same node if it already held that key with that value). */
const insert = <V>(node: Branch<V>, leaf: Leaf<V>, shift: number, added: { count: number }): Branch<V> => {
  const bit = bitAt(leaf.hash, shift)
  const at = popcount(node.bitmap & (bit - 1))
  if ((node.bitmap & bit) === 0) {
    added.count++
    return new Branch(node.bitmap | bit, inserted(node.slots, at, leaf))
  }
  const slot = node.slots[at]!
  let next: Slot<V>
  if (slot instanceof Branch) {
    next = insert(slot, leaf, shift + BITS, added)
  } else if (slot instanceof Leaf && slot.key === leaf.key) {
    next = slot.value === leaf.value ? slot : leaf
  } else if (slot instanceof Collision && slot.hash === leaf.hash) {
    const i = slot.leaves.findIndex((l) => l.key === leaf.key)
    if (i >= 0 && slot.leaves[i]!.value === leaf.value) return node
    if (i < 0) added.count++
    next = new Collision(slot.hash, i < 0 ? [...slot.leaves, leaf] : replaced(slot.leaves, i, leaf))
  } else {
    added.count++
    next = split(slot, leaf, shift + BITS)
  }
  return next === slot ? node : new Branch(node.bitmap, replaced(node.slots, at, next))
}

const removed = <T>(items: readonly T[], at: number): T[] => {
  const copy = items.slice(0, at)
  for (let i = at + 1; i < items.length; i++) copy.push(items[i]!)
  return copy
}

/**
 * The node without `key`: the same node when it has no such key, undefined when nothing is left in
 * it. A branch left with one leaf keeps it where it is (a lookup finds it there all the same).
 */
const remove = <V>(node: Branch<V>, hash: number, key: string, shift: number): Branch<V> | undefined => {
  const bit = bitAt(hash, shift)
  if ((node.bitmap & bit) === 0) return node
  const at = popcount(node.bitmap & (bit - 1))
  const slot = node.slots[at]!
  let next: Slot<V> | undefined
  if (slot instanceof Leaf) {
    if (slot.key !== key) return node
    next = undefined
  } else if (slot instanceof Collision) {
    const i = slot.leaves.findIndex((leaf) => leaf.key === key)
    if (i < 0) return node
    const rest = removed(slot.leaves, i)
    next = rest.length === 1 ? rest[0] : new Collision(slot.hash, rest)
  } else {
    const child = remove(slot, hash, key, shift + BITS)
    if (child === slot) return node
    next = child
  }
  if (next !== undefined) return new Branch(node.bitmap, replaced(node.slots, at, next))
  const bitmap = node.bitmap & ~bit
  return bitmap === 0 ? undefined : new Branch(bitmap, removed(node.slots, at))
}

/** Every leaf under `slot`, in hash order, into `into`: a plain walk (generators nested per level cost a snapshot of many keys tens of ms). */
const collectLeaves = <V>(slot: Slot<V>, into: Leaf<V>[]): Leaf<V>[] => {
  if (slot instanceof Leaf) into.push(slot)
  else if (slot instanceof Collision) into.push(...slot.leaves)
  else for (const child of slot.slots) collectLeaves(child, into)
  return into
}

const byKey = <V>(a: Leaf<V>, b: Leaf<V>): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

export class PersistentMap<V> {
  private constructor(
    readonly size: number,
    /** Internal (public so that the type of a state holding a map stays structurally comparable). */
    readonly root: Branch<V>,
  ) {
    Object.freeze(this)
  }

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(0, new Branch<V>(0, []))
  }

  get(key: string): V | undefined {
    return lookup(this.root, hashString(key), key)?.value
  }

  has(key: string): boolean {
    return lookup(this.root, hashString(key), key) !== undefined
  }

  /** A map with `key` bound to `value`; this map if it already was. */
  set(key: string, value: V): PersistentMap<V> {
    const added = { count: 0 }
    const root = insert(this.root, new Leaf(hashString(key), key, value), 0, added)
    return root === this.root ? this : new PersistentMap(this.size + added.count, root)
  }

  /** A map without `key`; this map if it had no such key. */
  delete(key: string): PersistentMap<V> {
    const root = remove(this.root, hashString(key), key, 0)
    if (root === this.root) return this
    return new PersistentMap(this.size - 1, root ?? new Branch<V>(0, []))
  }

  /** The entries in hash order (deterministic, but neither sorted nor in insertion order). */
  entries(): [string, V][] {
    return collectLeaves(this.root, []).map((leaf) => [leaf.key, leaf.value])
  }

  /** The entries sorted by key: the same text for the same contents, however they were built. */
  toJSON(): [string, V][] {
    return collectLeaves(this.root, []).sort(byKey).map((leaf) => [leaf.key, leaf.value])
  }

  /** The keys sorted (by UTF-16 code units, as `toJSON` orders its entries). */
  sortedKeys(): string[] {
    return collectLeaves(this.root, []).map((leaf) => leaf.key).sort()
  }
}
