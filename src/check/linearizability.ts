/**
 * A linearizability checker for a key-value history, one register per key (initial value undefined).
 *
 * Each key is checked on its own (linearizability is compositional). Per key it runs a Wing & Gong
 * style depth-first search: repeatedly pick an operation that may take effect next (one invoked
 * before every other pending operation's completion), apply it to the register, and backtrack on a
 * dead end. States already explored, identified by (set of linearized operations, register value),
 * are remembered and never explored twice.
 *
 * Rules of the history:
 * - a put that never completed may take effect at any time after its invocation, or never;
 * - a get that never completed is ignored;
 * - a completed get must return the register's value at its linearization point.
 */

export interface Operation {
  id: string
  client: string
  key: string
  kind: 'get' | 'put'
  value: string | undefined
  invokedAt: number
  completedAt: number | undefined
  /**
   * Where a simulation in virtual time knows the order of events at one instant (a reply handled,
   * then a request sent at the same `now`), the positions of the invocation and the completion in
   * that order. Real-time order then compares these, so that equal times are not taken for
   * concurrency; without them it compares the times.
   */
  invokedSeq?: number
  completedSeq?: number
}

export type LinearizabilityResult =
  | { ok: true }
  | { ok: false; key: string; operations: Operation[]; reason: string }

export function checkLinearizable(history: readonly Operation[]): LinearizabilityResult {
  for (const [key, operations] of groupByKey(history)) {
    const result = checkKey(operations)
    if (!result.ok) {
      return { ok: false, key, operations, reason: result.reason }
    }
  }
  return { ok: true }
}

function groupByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>()
  for (const operation of history) {
    if (operation.kind === 'get' && operation.completedAt === undefined) continue
    const list = byKey.get(operation.key)
    if (list) list.push(operation)
    else byKey.set(operation.key, [operation])
  }
  for (const list of byKey.values()) list.sort((a, b) => a.invokedAt - b.invokedAt || (a.invokedSeq ?? 0) - (b.invokedSeq ?? 0))
  return byKey
}

/** The search over one key's operations, sorted by invocation time. */
function checkKey(operations: readonly Operation[]): { ok: true } | { ok: false; reason: string } {
  const count = operations.length
  const sequenced = operations.every((op) => op.invokedSeq !== undefined && (op.completedAt === undefined || op.completedSeq !== undefined))
  const invocation = operations.map((op) => (sequenced ? op.invokedSeq! : op.invokedAt))
  const completion = operations.map((op) =>
    op.completedAt === undefined ? Number.POSITIVE_INFINITY : sequenced ? op.completedSeq! : op.completedAt,
  )
  const mustComplete = operations.filter((op) => op.completedAt !== undefined).length
  // When every operation completes no earlier than it was invoked (always, in a real history),
  // an operation invoked after the earliest completion seen so far cannot complete earlier, nor
  // can any later one: the scans below stop there instead of running to the end of the history.
  const ordered = operations.every((op, i) => completion[i]! >= op.invokedAt)
  // The register only ever holds a put's value (or nothing): each distinct value gets a number,
  // so that the explored-state keys stay short.
  const valueIds = new Map<string | undefined, number>([[undefined, 0]])
  for (const op of operations) if (op.kind === 'put' && !valueIds.has(op.value)) valueIds.set(op.value, valueIds.size)
  const linearized = new Uint8Array(count)
  const explored = new Set<string>()
  let linearizedCompleted = 0
  let linearizedCount = 0
  /** The first operation not linearized: every one before it is. */
  let lo = 0
  let deepest = 0

  /** The set of linearized operations (lo, then the bits from lo to the last one set) and the register. */
  const stateKey = (value: string | undefined): string => {
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
    return `${lo}:${bits.length}:${bits}${valueIds.get(value)!}`
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

  const mark = (i: number, on: boolean): void => {
    linearized[i] = on ? 1 : 0
    linearizedCount += on ? 1 : -1
    if (operations[i]!.completedAt !== undefined) linearizedCompleted += on ? 1 : -1
    if (on) while (lo < count && linearized[lo]) lo++
    else if (i < lo) lo = i
  }

  /**
   * The depth-first search, with its own stack (a history of thousands of operations on one key
   * would overflow the call stack): a frame is a state entered with the register holding `value`,
   * the operations it may take next, and the one taken now (undone when its subtree fails).
   */
  interface Frame {
    readonly value: string | undefined
    options: number[] | undefined
    next: number
    taken: number
  }
  const search = (): boolean => {
    const stack: Frame[] = [{ value: undefined, options: undefined, next: 0, taken: -1 }]
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!
      if (frame.options === undefined) {
        if (linearizedCompleted === mustComplete) return true
        deepest = Math.max(deepest, linearizedCompleted)
        const key = stateKey(frame.value)
        if (explored.has(key)) {
          stack.pop()
          continue
        }
        explored.add(key)
        const next = candidates()
        // A get that reads the current value changes nothing, so taking it now is never worse:
        // it is then the only option. Otherwise only puts can move the search on (a get whose
        // value differs from the register's cannot take effect here).
        const freeRead = next.find((i) => operations[i]!.kind === 'get' && operations[i]!.value === frame.value)
        frame.options = freeRead !== undefined ? [freeRead] : next.filter((i) => operations[i]!.kind === 'put')
      }
      if (frame.taken >= 0) {
        mark(frame.taken, false)
        frame.taken = -1
      }
      if (frame.next >= frame.options.length) {
        stack.pop()
        continue
      }
      const i = frame.options[frame.next++]!
      mark(i, true)
      frame.taken = i
      const op = operations[i]!
      stack.push({ value: op.kind === 'put' ? op.value : frame.value, options: undefined, next: 0, taken: -1 })
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

/** A one-line description of an operation, for reports. */
export function describeOperation(op: Operation, origin = 0): string {
  const time = (t: number | undefined): string => (t === undefined ? 'never' : `${(t - origin).toFixed(4)}s`)
  const value = op.value === undefined ? '(none)' : op.value
  return `${op.id} ${op.client} ${op.kind}(${op.key}) ${op.kind === 'put' ? 'wrote' : 'read'} ${value} ` +
    `invoked ${time(op.invokedAt)} completed ${time(op.completedAt)}`
}
