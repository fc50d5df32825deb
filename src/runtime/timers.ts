/**
 * The replica's named timers on Node's clock. Setting a timer that is already set moves it.
 *
 * A follower moves its election timer later on every AppendEntries; clearing and creating a Node
 * timer each time would put timer-list work on every datagram's path. Instead each name keeps a
 * deadline and at most one Node timer: moving the deadline later only records it, and when the Node
 * timer fires before the deadline it is armed again for the rest. Moving it earlier re-arms at once.
 */
import type { TimerName } from '../domain/effect'

/** Node's timers fire at millisecond granularity; a deadline this close counts as reached. */
const EARLY_FIRING_MS = 1

interface Slot {
  deadline: number
  handle: NodeJS.Timeout | undefined
  /** When the Node timer, if any, will fire. */
  armedFor: number
}

export class NamedTimers {
  private readonly slots = new Map<TimerName, Slot>()

  constructor(
    private readonly now: () => number,
    private readonly onFire: (timer: TimerName) => void,
  ) {}

  /** Sets `timer` to fire `afterMs` from now, whether or not it was set. */
  set(timer: TimerName, afterMs: number): void {
    const deadline = this.now() + afterMs
    const slot = this.slots.get(timer)
    if (slot === undefined) {
      const fresh: Slot = { deadline, handle: undefined, armedFor: deadline }
      this.slots.set(timer, fresh)
      this.arm(timer, fresh, afterMs)
      return
    }
    slot.deadline = deadline
    // A Node timer that fires no later than the new deadline will find it and arm again.
    if (slot.handle !== undefined && slot.armedFor <= deadline) return
    if (slot.handle !== undefined) clearTimeout(slot.handle)
    this.arm(timer, slot, afterMs)
  }

  cancel(timer: TimerName): void {
    const slot = this.slots.get(timer)
    if (slot === undefined) return
    if (slot.handle !== undefined) clearTimeout(slot.handle)
    this.slots.delete(timer)
  }

  /** Cancels every timer. */
  stop(): void {
    for (const timer of [...this.slots.keys()]) this.cancel(timer)
  }

  /** Whether `timer` is set (for tests). */
  isSet(timer: TimerName): boolean {
    return this.slots.has(timer)
  }

  private arm(timer: TimerName, slot: Slot, afterMs: number): void {
    slot.armedFor = this.now() + afterMs
    slot.handle = setTimeout(() => this.expire(timer, slot), Math.max(0, afterMs))
  }

  private expire(timer: TimerName, slot: Slot): void {
    slot.handle = undefined
    if (this.slots.get(timer) !== slot) return
    const remaining = slot.deadline - this.now()
    if (remaining > EARLY_FIRING_MS) {
      this.arm(timer, slot, remaining)
      return
    }
    this.slots.delete(timer)
    this.onFire(timer)
  }
}
