/**
 * A replica run in virtual time: the one core every in-memory driver of the reducer builds on (the
 * domain tests' cluster, check:sim, the explorer, the playground, and the start-up warm-up's
 * timers). The driver owns the clock, the network and the faults; this owns what a replica is
 * between two events (its state, none while it is down; what it stored, which a restart recovers;
 * when each of its timers fires) and what one step does to it: the reducer's effects carried out
 * in order by the one interpreter (perform.ts), persists into what it stored, timers into
 * deadlines, sends and log lines handed to the driver.
 */
import { afterWrites } from '../domain/durability'
import type { Effect, TimerName } from '../domain/effect'
import { timerFired, type Event } from '../domain/events'
import { emptyPersistent, initialState, type PersistentState, type ReplicaConfig, type ReplicaState } from '../domain/state'
import type { Stepper } from '../domain/step'
import type { Message, NodeId } from '../domain/wire'
import { earliestTimer, noTimers, perform, withDeadline, withoutDeadline, type TimerDeadlines } from './perform'

export interface VirtualReplica {
  readonly id: NodeId
  /** Undefined while it is down (not booted yet, or crashed). */
  state: ReplicaState | undefined
  /** What it stored, all it keeps through a crash; undefined until its first write. */
  stored: PersistentState | undefined
  /** When each of its timers that is set fires. */
  timers: TimerDeadlines
}

export const virtualReplica = (id: NodeId, stored?: PersistentState): VirtualReplica => ({ id, state: undefined, stored, timers: noTimers })

/** What the driver does with a step's sends, timers and log lines. */
export interface StepOutputs {
  readonly send: (message: Message) => void
  /** Told after the deadline is set (a driver with an agenda schedules the firing). */
  readonly timerSet?: (timer: TimerName, at: number) => void
  readonly log?: (text: string) => void
}

/** Boots it, or boots it again after a crash, from what it stored: the state a process starts with (the started event is the driver's to hand). */
export const bootReplica = (replica: VirtualReplica, config: Omit<ReplicaConfig, 'id'>): ReplicaState => {
  replica.state = initialState({ ...config, id: replica.id }, replica.stored)
  return replica.state
}

/**
 * The replica after a step of the reducer returned `after` and `effects`, at `now`: it keeps
 * `after`, and the effects are carried out in order (all of them, or the first ones that a crash
 * in the middle of the step let through).
 */
export const carryOut = (replica: VirtualReplica, after: ReplicaState, effects: readonly Effect[], now: number, outputs: StepOutputs): void => {
  replica.state = after
  perform(effects, {
    persist: (hardState, log, snapshot) => {
      replica.stored = afterWrites(replica.stored ?? emptyPersistent, hardState, log, snapshot)
    },
    send: outputs.send,
    setTimer: (timer, afterMs) => {
      const at = now + afterMs
      replica.timers = withDeadline(replica.timers, timer, at)
      outputs.timerSet?.(timer, at)
    },
    cancelTimer: (timer) => {
      replica.timers = withoutDeadline(replica.timers, timer)
    },
    log: outputs.log ?? ignore,
  })
}

/** A step taken: what the replica was handed, its state before and after, and what it returned. */
export interface StepTaken {
  readonly event: Event
  readonly before: ReplicaState
  readonly after: ReplicaState
  readonly effects: readonly Effect[]
}

/** One step: `event` handed to the reducer (`step`) and every effect carried out (carryOut). */
export const stepVirtualReplica = (replica: VirtualReplica, step: Stepper, event: Event, outputs: StepOutputs): StepTaken => {
  const before = replica.state
  if (before === undefined) throw new Error(`${replica.id} is down: it cannot step`)
  const [after, effects] = step(before, event)
  carryOut(replica, after, effects, event.now, outputs)
  return { event, before, after, effects }
}

/** Its timer fires at `now`: the deadline is cleared, then the reducer is handed the event. */
export const fireTimer = (replica: VirtualReplica, step: Stepper, timer: TimerName, now: number, outputs: StepOutputs): StepTaken => {
  replica.timers = withoutDeadline(replica.timers, timer)
  return stepVirtualReplica(replica, step, timerFired(now, timer), outputs)
}

/** It crashes: its state and its timers are gone; what it stored stays. */
export const crashReplica = (replica: VirtualReplica): void => {
  replica.state = undefined
  replica.timers = noTimers
}

/** The earliest timer among `items` (ties: the first item, then the first of TIMER_NAMES). */
export const earliestTimerAmong = <T>(items: readonly T[], timersOf: (item: T) => TimerDeadlines): { readonly item: T; readonly timer: TimerName; readonly at: number } | undefined => {
  let earliest: { item: T; timer: TimerName; at: number } | undefined
  for (const item of items) {
    const due = earliestTimer(timersOf(item))
    if (due !== undefined && (earliest === undefined || due.at < earliest.at)) earliest = { item, ...due }
  }
  return earliest
}

const ignore = (): void => undefined
