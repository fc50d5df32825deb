/**
 * What each effect means, said once for every driver of the reducer: the replica's runtime (real
 * sockets and clocks), the checkers and the test clusters (virtual time), and the start-up warm-up.
 * A driver supplies the four actions; `perform` carries out a step's effects in order with them.
 * Timers in virtual time are data here too: a deadline per named timer, where setting a timer that
 * is already set moves it.
 */
import { BROADCAST, type Message, type NodeId } from '../domain/wire'
import type { Effect, HardState, LogWrite, SnapshotWrite, TimerName } from '../domain/effect'

export interface EffectHandlers {
  /**
   * Stores what a step changed of the persistent state, the snapshot before the log write;
   * returns once it is durable.
   */
  readonly persist: (hardState: HardState | undefined, log: LogWrite | undefined, snapshot: SnapshotWrite | undefined) => void
  readonly send: (message: Message) => void
  /** Sets `timer` to fire `afterMs` from now; a timer already set moves. */
  readonly setTimer: (timer: TimerName, afterMs: number) => void
  readonly cancelTimer: (timer: TimerName) => void
  readonly log: (text: string) => void
}

/** Carries out `effects`, in order. */
export const perform = (effects: readonly Effect[], handlers: EffectHandlers): void => {
  for (const effect of effects) {
    switch (effect.kind) {
      case 'persist':
        handlers.persist(effect.hardState, effect.log, effect.snapshot)
        break
      case 'send':
        handlers.send(effect.message)
        break
      case 'setTimer':
        handlers.setTimer(effect.timer, effect.afterMs)
        break
      case 'cancelTimer':
        handlers.cancelTimer(effect.timer)
        break
      case 'log':
        handlers.log(effect.text)
        break
    }
  }
}

/**
 * The replicas a datagram from a replica goes to: every other replica for a broadcast (`FFFF`),
 * the one named by `dst`, or none when `dst` is not a replica (a client, say). A hello goes to the
 * simulator only.
 */
export const recipients = (message: Message, replicas: readonly NodeId[]): readonly NodeId[] => {
  if (message.type === 'hello') return []
  if (message.dst === BROADCAST) return replicas.filter((id) => id !== message.src)
  return replicas.includes(message.dst) ? [message.dst] : []
}

/** Every timer a replica has. */
export const TIMER_NAMES: readonly TimerName[] = ['election', 'heartbeat', 'voteRetry']

/** A replica's timers in virtual time: when each one that is set will fire. */
export type TimerDeadlines = Readonly<Partial<Record<TimerName, number>>>

export const noTimers: TimerDeadlines = {}

/** `timer` set to fire at `at`, wherever it was set before. */
export const withDeadline = (deadlines: TimerDeadlines, timer: TimerName, at: number): TimerDeadlines => ({ ...deadlines, [timer]: at })

/** `timer` not set (cancelled, or fired). */
export const withoutDeadline = (deadlines: TimerDeadlines, timer: TimerName): TimerDeadlines => {
  if (deadlines[timer] === undefined) return deadlines
  const { [timer]: _gone, ...rest } = deadlines
  return rest
}

/** The deadlines after a step's timer effects at `now` (other effects change nothing here). */
export const withTimerEffects = (deadlines: TimerDeadlines, effects: readonly Effect[], now: number): TimerDeadlines => {
  let next = deadlines
  for (const effect of effects) {
    if (effect.kind === 'setTimer') next = withDeadline(next, effect.timer, now + effect.afterMs)
    else if (effect.kind === 'cancelTimer') next = withoutDeadline(next, effect.timer)
  }
  return next
}

/** The earliest set timer and when it fires; ties go to the first in TIMER_NAMES. */
export const earliestTimer = (deadlines: TimerDeadlines): { readonly timer: TimerName; readonly at: number } | undefined => {
  let earliest: { timer: TimerName; at: number } | undefined
  for (const timer of TIMER_NAMES) {
    const at = deadlines[timer]
    if (at !== undefined && (earliest === undefined || at < earliest.at)) earliest = { timer, at }
  }
  return earliest
}
