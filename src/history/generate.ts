/**
 * Histories of one register with known answers, for the checker's tests and its benchmark: a
 * sequential register executed at distinct linearization points, each operation's interval drawn
 * around its point (linearizable by construction), and mutations that each make such a history
 * non-linearizable whatever else it holds.
 */
import type { Operation } from './operation'

/** What the generator draws from (check/rng.ts's Rng is one). */
export interface RandomSource {
  /** An integer in [min, max], both included. */
  between(min: number, max: number): number
  chance(probability: number): boolean
}

export interface RegisterHistoryShape {
  readonly operations: number
  /** The chance that an operation is a put (else a get). */
  readonly putFraction: number
  /** How far an interval's ends lie from its linearization point at most; points are 10 apart. */
  readonly spread: number
  /** The chance that a put never completes (it took effect: gets may read it). */
  readonly pendingPutFraction?: number
  /** The chance that a get never completes (the checker ignores it). */
  readonly pendingGetFraction?: number
  /** The chance, per operation, of a put besides it that never completed and never took effect. */
  readonly phantomPutFraction?: number
}

export const POINT_SPACING = 10
const KEY = 'k'

/**
 * A linearizable history of one key, in the order of its linearization (phantom puts, which never
 * took effect, where they were invoked). Each put writes a value of its own.
 */
export const sequentialHistory = (random: RandomSource, shape: RegisterHistoryShape): Operation[] => {
  const history: Operation[] = []
  let register: string | undefined
  for (let i = 0; i < shape.operations; i++) {
    const point = (i + 1) * POINT_SPACING
    const invokedAt = point - random.between(0, shape.spread)
    const completedAt = point + random.between(0, shape.spread)
    const id = `op${history.length}`
    if (random.chance(shape.phantomPutFraction ?? 0)) {
      history.push({ id, client: 'phantom', key: KEY, kind: 'put', value: `never-${i}`, invokedAt, completedAt: undefined })
      continue
    }
    if (random.chance(shape.putFraction)) {
      register = `v${i}`
      const pending = random.chance(shape.pendingPutFraction ?? 0)
      history.push({ id, client: 'writer', key: KEY, kind: 'put', value: register, invokedAt, completedAt: pending ? undefined : completedAt })
    } else {
      const pending = random.chance(shape.pendingGetFraction ?? 0)
      history.push({
        id, client: 'reader', key: KEY, kind: 'get', value: pending ? undefined : register, invokedAt, completedAt: pending ? undefined : completedAt,
      })
    }
  }
  return history
}

const completedPuts = (history: readonly Operation[]): Operation[] =>
  history.filter((op) => op.kind === 'put' && op.completedAt !== undefined && op.client !== 'phantom')

const pick = <T>(random: RandomSource, items: readonly T[]): T | undefined =>
  items.length === 0 ? undefined : items[random.between(0, items.length - 1)]

/** A completed get of a put's value, moved to complete before that put was invoked. */
export const readMovedBeforeItsWrite = (random: RandomSource, history: readonly Operation[]): Operation[] | undefined => {
  const reads = history.filter((op) => op.kind === 'get' && op.completedAt !== undefined && op.value !== undefined)
  const read = pick(random, reads)
  if (read === undefined) return undefined
  const write = history.find((op) => op.kind === 'put' && op.value === read.value)!
  const completedAt = write.invokedAt - 1 - random.between(0, POINT_SPACING)
  const moved = { ...read, invokedAt: completedAt - random.between(0, POINT_SPACING), completedAt }
  return history.map((op) => (op === read ? moved : op))
}

/**
 * A get invoked after a put completed, reading the value of an earlier put that completed before
 * that put was invoked: the earlier value was overwritten for good.
 */
export const staleReadAfterNewerWrite = (random: RandomSource, history: readonly Operation[]): Operation[] | undefined => {
  const puts = completedPuts(history)
  const pairs: Array<readonly [Operation, Operation]> = []
  for (const newer of puts) {
    const older = pick(random, puts.filter((op) => op.completedAt! < newer.invokedAt))
    if (older !== undefined) pairs.push([older, newer])
  }
  const pair = pick(random, pairs)
  if (pair === undefined) return undefined
  const [older, newer] = pair
  const invokedAt = newer.completedAt! + 1 + random.between(0, POINT_SPACING)
  const stale: Operation = { id: 'stale', client: 'stale-reader', key: older.key, kind: 'get', value: older.value, invokedAt, completedAt: invokedAt + random.between(0, POINT_SPACING) }
  return [...history, stale]
}

/**
 * A completed put lost: a get invoked after it completed reads the value it overwrote (in the
 * order of linearization), whose put completed before it was invoked, or the initial empty value.
 */
export const lostWriteReadLater = (random: RandomSource, history: readonly Operation[]): Operation[] | undefined => {
  const effective = history.filter((op) => op.kind === 'put' && op.client !== 'phantom')
  const candidates = effective.flatMap((put, i) => {
    if (put.completedAt === undefined) return []
    const before = effective[i - 1]
    if (before === undefined) return [[put, undefined] as const]
    return before.completedAt !== undefined && before.completedAt < put.invokedAt ? [[put, before.value] as const] : []
  })
  const chosen = pick(random, candidates)
  if (chosen === undefined) return undefined
  const [lost, previous] = chosen
  const invokedAt = lost.completedAt! + 1 + random.between(0, POINT_SPACING)
  const read: Operation = { id: 'after-lost', client: 'late-reader', key: lost.key, kind: 'get', value: previous, invokedAt, completedAt: invokedAt + random.between(0, POINT_SPACING) }
  return [...history, read]
}

/** The most puts in flight at one instant (invoked, not yet completed; one never completed stays in flight). */
export const maxPutsInFlight = (history: readonly Operation[]): number => {
  const edges: Array<readonly [number, number]> = []
  for (const op of history) {
    if (op.kind !== 'put') continue
    edges.push([op.invokedAt, 1])
    if (op.completedAt !== undefined) edges.push([op.completedAt, -1])
  }
  // At one instant, completions first: a put that completed then and one invoked then are concurrent
  // by the checker's rule, but counting them apart keeps the figure a floor.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let inFlight = 0
  let most = 0
  for (const [, change] of edges) most = Math.max(most, (inFlight += change))
  return most
}
