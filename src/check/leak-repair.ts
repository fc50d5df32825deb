/**
 * A workaround, off unless asked for, for a reducer bug that the simulation found: `step` builds
 * some messages from parts of its immer draft (the entries of an AppendEntries, read from the
 * draft log; the puts of a Forward, read from the draft's ownPuts). Immer revokes those proxies
 * when `produce` returns, so the messages cannot be read or encoded afterwards.
 *
 * The wrapper rebuilds those parts from the state `step` returned, so that the rest of the checks
 * can run on a reducer that still has the bug. It changes nothing for a reducer without it.
 */
import type { Effect } from '../effects/effect'
import type { ReplicaState } from '../domain/state'
import type { Event } from '../domain/events'
import type { Stepper } from './stepper'

const readable = (read: () => unknown): boolean => {
  try {
    read()
    return true
  } catch {
    return false
  }
}

const repair = (sender: ReplicaState, event: Event, effect: Effect): Effect => {
  if (effect.kind !== 'send') return effect
  const m = effect.message
  if (m.type === 'append' && !readable(() => m.entries.map((e) => e.term))) {
    const entries = sender.persistent.log.slice(m.prevLogIndex + 1, m.prevLogIndex + 1 + m.entries.length)
    return { ...effect, message: { ...m, entries } }
  }
  if (m.type === 'forward' && !readable(() => m.puts.map((p) => p.MID))) {
    const puts = Object.values(sender.ownPuts)
      .filter((own) => own.forwardedAt === event.now)
      .map((own) => own.put)
    return { ...effect, message: { ...m, puts } }
  }
  return effect
}

export const repairLeakedDrafts =
  (step: Stepper): Stepper =>
  (state, event) => {
    const [after, effects] = step(state, event)
    return [after, effects.map((effect) => repair(after, event, effect))]
  }
