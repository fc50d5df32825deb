/**
 * The linearizability search over one register (one key's operations), after Wing & Gong and
 * Lowe ("Testing for linearizability", 2017): repeatedly pick an operation that may take effect
 * next (one invoked before every other pending operation's completion), apply it to the register,
 * and backtrack on a dead end. A state already explored, identified by (set of linearized
 * operations, register value), is never explored twice; the set is a bitset from the first
 * operation not yet linearized, and the value a small number, so the keys stay short.
 *
 * Three rules keep the search narrow without changing its verdict:
 *
 * - A get that reads the register's current value changes nothing, so taking it at once is never
 *   worse (Lowe's "immediate" linearization of reads): it is then the only option.
 * - A put that never completed may take effect at any time after its invocation, or never. In any
 *   linearization, such a put is either followed at once by a get that reads its value, or its
 *   value is never read and it can be left out. So it is taken only just before a ready get that
 *   reads it ("just in time", as Lowe's and Horn's checkers treat pending operations), and the
 *   caller leaves out pending puts whose value no get reads.
 * - When every put writes its own value (the workloads do), a value once overwritten never comes
 *   back: a read of value v pins it between v's put and the next put. So a put may not overwrite
 *   the current value while a get that reads it is still to be placed.
 */
import type { Operation } from './linearizability'

export type SearchResult = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/** Whether `operations` (one key's, sorted by invocation; gets all completed) can be linearized on one register. */
export const searchRegister = (operations: readonly Operation[]): SearchResult => {
  const count = operations.length
  const sequenced = operations.every((op) => op.invokedSeq !== undefined && (op.completedAt === undefined || op.completedSeq !== undefined))
  const invocation = operations.map((op) => (sequenced ? op.invokedSeq! : op.invokedAt))
  const completion = operations.map((op) =>
    op.completedAt === undefined ? Number.POSITIVE_INFINITY : sequenced ? op.completedSeq! : op.completedAt,
  )
  const completed = operations.map((op) => op.completedAt !== undefined)
  const isPut = operations.map((op) => op.kind === 'put')
  const mustComplete = completed.filter(Boolean).length
  // When every operation completes no earlier than it was invoked (always, in a real history),
  // an operation invoked after the earliest completion seen so far cannot complete earlier, nor
  // can any later one: the scans below stop there instead of running to the end of the history.
  const ordered = operations.every((_, i) => completion[i]! >= invocation[i]!)
  // The register only ever holds a put's value (or nothing, 0): each distinct value gets a number.
  const valueIds = new Map<string | undefined, number>([[undefined, 0]])
  for (const op of operations) if (op.kind === 'put' && !valueIds.has(op.value)) valueIds.set(op.value, valueIds.size)
  // A get of a value no put wrote gets a number of its own: it matches no register value.
  const valueOf = operations.map((op) => {
    let id = valueIds.get(op.value)
    if (id === undefined) valueIds.set(op.value, (id = valueIds.size))
    return id
  })
  const written = operations.filter((op) => op.kind === 'put').map((op) => op.value)
  const uniqueWrites = !written.includes(undefined) && new Set(written).size === written.length
  /** Gets not yet linearized, by the value they read. */
  const readersLeft = new Int32Array(valueIds.size)
  for (let i = 0; i < count; i++) if (!isPut[i]) readersLeft[valueOf[i]!]!++

  const linearized = new Uint8Array(count)
  const explored = new Set<string>()
  let linearizedCompleted = 0
  let linearizedCount = 0
  /** The first operation not linearized: every one before it is. */
  let lo = 0
  let deepest = 0

  /** The set of linearized operations (lo, then the bits from lo to the last one set) and the register. */
  const stateKey = (value: number): string => {
    let bits = ''
    let ones = linearizedCount - lo
    for (let i = lo; ones > 0; i += 16) {
      let word = 0
      for (let j = i; j < Math.min(i + 16, count); j++) {
        if (linearized[j]) {
          word |= 1 << (j - i)
          ones--
        }
      }
      bits += String.fromCharCode(word)
    }
    return `${lo}:${bits.length}:${bits}${value}`
  }

  /** Indices of the operations that may take effect next: invoked before every other pending one's completion. */
  const candidates = (): number[] => {
    let earliestCompletion = Number.POSITIVE_INFINITY
    for (let i = lo; i < count; i++) {
      if (ordered && invocation[i]! > earliestCompletion) break
      if (!linearized[i] && completion[i]! < earliestCompletion) earliestCompletion = completion[i]!
    }
    const result: number[] = []
    for (let i = lo; i < count; i++) {
      if (invocation[i]! > earliestCompletion) break // sorted by invocation
      if (!linearized[i]) result.push(i)
    }
    return result
  }

  /** What may be taken next with the register holding `value`, by the three rules above. */
  const options = (value: number): number[] => {
    const next = candidates()
    const freeRead = next.find((i) => !isPut[i] && valueOf[i] === value)
    if (freeRead !== undefined) return [freeRead]
    if (uniqueWrites && readersLeft[value]! > 0) return []
    return next.filter((i) => isPut[i] && (completed[i] || next.some((j) => !isPut[j] && valueOf[j] === valueOf[i])))
  }

  const mark = (i: number, on: boolean): void => {
    linearized[i] = on ? 1 : 0
    linearizedCount += on ? 1 : -1
    if (completed[i]) linearizedCompleted += on ? 1 : -1
    if (!isPut[i]) readersLeft[valueOf[i]!]! += on ? -1 : 1
    if (on) while (lo < count && linearized[lo]) lo++
    else if (i < lo) lo = i
  }

  /**
   * The depth-first search, with its own stack (a history of thousands of operations on one key
   * would overflow the call stack): a frame is a state entered with the register holding `value`,
   * the operations it may take next, and the one taken now (undone when its subtree fails).
   */
  interface Frame {
    readonly value: number
    choices: number[] | undefined
    next: number
    taken: number
  }
  const search = (): boolean => {
    const stack: Frame[] = [{ value: 0, choices: undefined, next: 0, taken: -1 }]
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!
      if (frame.choices === undefined) {
        if (linearizedCompleted === mustComplete) return true
        deepest = Math.max(deepest, linearizedCompleted)
        const key = stateKey(frame.value)
        if (explored.has(key)) {
          stack.pop()
          continue
        }
        explored.add(key)
        frame.choices = options(frame.value)
      }
      if (frame.taken >= 0) {
        mark(frame.taken, false)
        frame.taken = -1
      }
      if (frame.next >= frame.choices.length) {
        stack.pop()
        continue
      }
      const i = frame.choices[frame.next++]!
      mark(i, true)
      frame.taken = i
      stack.push({ value: isPut[i] ? valueOf[i]! : frame.value, choices: undefined, next: 0, taken: -1 })
    }
    return false
  }

  if (search()) return { ok: true }
  return {
    ok: false,
    reason:
      `no linearization exists: at most ${deepest} of ${mustComplete} completed operations ` +
      `can be ordered consistently with their real-time order and a single register`,
  }
}
