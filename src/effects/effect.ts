/**
 * Effects: everything a replica wants done, as data. The domain returns them; the runtime (or a
 * test, or the model checker) interprets them. This union is closed: nothing else leaves `step`.
 */
import type { Message } from '../domain/wire'

/** The replica's named timers. Setting a timer that is already set moves it. */
export type TimerName = 'election' | 'heartbeat' | 'voteRetry'

export type Effect =
  | { readonly kind: 'send'; readonly message: Message }
  | { readonly kind: 'setTimer'; readonly timer: TimerName; readonly afterMs: number }
  | { readonly kind: 'cancelTimer'; readonly timer: TimerName }
  | { readonly kind: 'log'; readonly text: string }

export const send = (message: Message): Effect => ({ kind: 'send', message })
export const setTimer = (timer: TimerName, afterMs: number): Effect => ({ kind: 'setTimer', timer, afterMs })
export const cancelTimer = (timer: TimerName): Effect => ({ kind: 'cancelTimer', timer })
export const log = (text: string): Effect => ({ kind: 'log', text })

/** The sends among a list of effects, in order: what most tests look at. */
export const sentMessages = (effects: readonly Effect[]): Message[] =>
  effects.flatMap((effect) => (effect.kind === 'send' ? [effect.message] : []))
