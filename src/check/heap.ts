/**
 * The simulation's agenda: a binary min-heap ordered by time, then by insertion order, so that
 * events due at the same moment run first-in first-out (and runs are reproducible).
 */
export interface Scheduled<T> {
  readonly at: number
  readonly seq: number
  readonly item: T
}

export class Agenda<T> {
  private readonly heap: Scheduled<T>[] = []
  private nextSeq = 0

  get size(): number {
    return this.heap.length
  }

  push(at: number, item: T): void {
    const entry = { at, seq: this.nextSeq++, item }
    const heap = this.heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      swap(heap, i, parent)
      i = parent
    }
  }

  peek(): Scheduled<T> | undefined {
    return this.heap[0]
  }

  pop(): Scheduled<T> | undefined {
    const heap = this.heap
    const top = heap[0]
    if (top === undefined) return undefined
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let smallest = i
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
        if (smallest === i) break
        swap(heap, i, smallest)
        i = smallest
      }
    }
    return top
  }
}

const before = <T>(a: Scheduled<T>, b: Scheduled<T>): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq)

const swap = <T>(heap: T[], i: number, j: number): void => {
  const t = heap[i]!
  heap[i] = heap[j]!
  heap[j] = t
}
