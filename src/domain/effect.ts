/**
 * Effects: everything a replica wants done, as data. The domain returns them; the runtime (or a
 * test, or the model checker) interprets them. This union is closed: nothing else leaves `step`.
 */
import type * as O from 'fp-ts/Option'
import type { KvStore } from './kv'
import type { Configuration } from './membership'
import type { Entry, Message, NodeId } from './wire'

/** The replica's named timers. Setting a timer that is already set moves it. */
export type TimerName = 'election' | 'heartbeat' | 'voteRetry'

/** Figure 2's persistent state other than the log. */
export interface HardState {
  readonly currentTerm: number
  readonly votedFor: O.Option<NodeId>
}

/** The stored log from index `from` on is replaced by `entries` (none: a truncation). */
export interface LogWrite {
  readonly from: number
  readonly entries: readonly Entry[]
}

/**
 * §7: a snapshot replaces the stored one, and the stored log entries up to `index` are dropped
 * (the ones after it stay). `state` is the state machine after applying every entry up to `index`
 * (immutable; a store on disk writes it as domain/kv's encodeSnapshot text).
 */
export interface SnapshotWrite {
  readonly index: number
  readonly term: number
  readonly state: KvStore
  /** Thesis §5.1: the latest configuration as of `index`, once one came from the log (undefined: the first one). */
  readonly configuration?: Configuration | undefined
}

export type Effect =
  /**
   * Figure 2: persistent state is "updated on stable storage before responding to RPCs". What a
   * step changed of it, to be stored (and synced) before any effect after it in the list is
   * carried out: `step` puts it first.
   */
  | {
      readonly kind: 'persist'
      readonly hardState: HardState | undefined
      /** Stored before the log write, which starts after it. */
      readonly snapshot: SnapshotWrite | undefined
      readonly log: LogWrite | undefined
    }
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
