/**
 * A brute-force linearizability oracle for small histories, and small random histories to try it
 * on: every subset of the writes whose outcome is unknown (puts and cas never completed) and every
 * order of the operations that respects real time (a before b when a completed strictly before b
 * was invoked, the checker's rule). Failed operations and gets never completed are left out.
 */
import fc from 'fast-check'
import type { Operation } from '../../src/history/linearizability'

/** Whether one key's operations can be linearized on a register whose initial value is undefined. */
export const linearizableKey = (ops: readonly Operation[]): boolean => {
  const considered = ops.filter((op) => op.failed !== true && !(op.kind === 'get' && op.completedAt === undefined))
  const pending = considered.filter((op) => op.completedAt === undefined)
  const completed = considered.filter((op) => op.completedAt !== undefined)
  for (let subset = 0; subset < 1 << pending.length; subset++) {
    const chosen = [...completed, ...pending.filter((_, i) => subset & (1 << i))]
    const used = new Array<boolean>(chosen.length).fill(false)
    const order = (placed: number, register: string | undefined): boolean => {
      if (placed === chosen.length) return true
      for (let x = 0; x < chosen.length; x++) {
        if (used[x]) continue
        const op = chosen[x]!
        if (chosen.some((other, y) => !used[y] && y !== x && other.completedAt !== undefined && other.completedAt < op.invokedAt)) continue
        if (op.kind === 'get' && op.value !== register) continue
        if (op.kind === 'cas' && op.expected !== register) continue
        used[x] = true
        const ok = order(placed + 1, op.kind === 'get' ? register : op.value)
        used[x] = false
        if (ok) return true
      }
      return false
    }
    if (order(0, undefined)) return true
  }
  return false
}

/** Whether every key's operations can be linearized. */
export const oracle = (history: readonly Operation[]): boolean => {
  const keys = new Set(history.map((op) => op.key))
  return [...keys].every((key) => linearizableKey(history.filter((op) => op.key === key)))
}

/** Small histories over `keys`: unique values per put; a get reads nothing, some put's value (of any key), or a stray value. */
export const smallHistories = (keys: readonly string[], maxLength = 7): fc.Arbitrary<Operation[]> =>
  fc
    .array(
      fc.record({
        kind: fc.constantFrom<'get' | 'put'>('get', 'put'),
        key: fc.constantFrom(...keys),
        client: fc.constantFrom('C1', 'C2', 'C3'),
        invokedAt: fc.integer({ min: 0, max: 8 }),
        length: fc.integer({ min: 0, max: 4 }),
        completes: fc.integer({ min: 0, max: 4 }),
        reads: fc.integer({ min: -2, max: 7 }),
      }),
      { minLength: 1, maxLength },
    )
    .map((specs) =>
      specs.map(
        (s, i): Operation => ({
          id: `op${i}`,
          client: s.client,
          key: s.key,
          kind: s.kind,
          value: s.kind === 'put' ? `v${i}` : s.reads === -2 ? 'stray' : s.reads === -1 || s.reads >= specs.length ? undefined : `v${s.reads}`,
          invokedAt: s.invokedAt,
          completedAt: s.completes === 0 ? undefined : s.invokedAt + s.length,
        }),
      ),
    )
