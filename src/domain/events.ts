/** What can happen to a replica. Every event carries `now`, the replica's clock in milliseconds. */
import type { TimerName } from './effect'
import type { Message } from './wire'

export type Event =
  | { readonly kind: 'started'; readonly now: number }
  | { readonly kind: 'received'; readonly now: number; readonly message: Message }
  | { readonly kind: 'timerFired'; readonly now: number; readonly timer: TimerName }

export const started = (now: number): Event => ({ kind: 'started', now })
export const received = (now: number, message: Message): Event => ({ kind: 'received', now, message })
export const timerFired = (now: number, timer: TimerName): Event => ({ kind: 'timerFired', now, timer })
