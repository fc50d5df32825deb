/**
 * Known Raft bugs, injected by wrapping the real reducer (src/domain stays untouched), so that the
 * tests can show that the simulation and the explorer find each one. Each mutant changes exactly
 * the rule it is named after and leaves the rest of `step` as it is.
 */
import { produce } from 'immer'
import * as O from 'fp-ts/Option'
import { send, type Effect } from '../effects/effect'
import { applyCommand, read, takesEffect } from '../domain/kv'
import { emptyLog, lastIndex, lastTerm } from '../domain/log'
import { quorumValue } from '../domain/quorum'
import { defaultTiming, type PersistentState } from '../domain/state'
import type { Entry, NodeId } from '../domain/wire'
import type { SimOptions } from './cluster'
import { realStep, type Stepper } from './stepper'

export interface Mutant {
  readonly description: string
  readonly step: Stepper
  /** Settings under which the bug can show (never ones that change what the bug is). */
  readonly options: Partial<SimOptions>
}

/**
 * §5.4.2 / Figure 8: the leader commits whatever a majority stores, entries of earlier terms
 * included, instead of only entries of its own term. (With one entry per AppendEntries, followers'
 * match indexes pass through earlier-term entries before reaching the leader's no-op.)
 */
const commitPreviousTermByCounting: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  if (after.role !== 'leader') return [after, effects]
  const matched = [lastIndex(after.persistent.log), ...after.peers.map((peer) => after.progress[peer]?.matchIndex ?? 0)]
  const counted = quorumValue(matched)
  if (counted <= after.commitIndex) return [after, effects]
  const extra: Effect[] = []
  const next = produce(after, (s) => {
    s.commitIndex = counted
    // The reducer's own apply rule: apply in order, the leader answers each put it applies first.
    while (s.lastApplied < s.commitIndex) {
      s.lastApplied += 1
      const command = s.persistent.log[s.lastApplied]!.command
      if (command.op !== 'put') continue
      const firstTime = takesEffect(s.kv, command)
      s.kv = applyCommand(s.kv, command)
      delete s.ownPuts[command.MID]
      if (firstTime) extra.push(send({ src: s.id, dst: command.client, leader: s.id, type: 'ok', MID: command.MID }))
    }
  })
  return [next, [...effects, ...extra]]
}

/** §5.4.1: a voter grants (pre-)votes without checking that the candidate's log is at least as up-to-date. */
const voteWithoutUpToDateCheck: Stepper = (state, event) => {
  if (event.kind !== 'received' || event.message.type !== 'vote') return realStep(state, event)
  const m = event.message
  const log = state.persistent.log
  const asIfUpToDate = {
    ...m,
    lastLogTerm: Math.max(m.lastLogTerm, lastTerm(log)),
    lastLogIndex: Math.max(m.lastLogIndex, lastIndex(log)),
  }
  return realStep(state, { ...event, message: asIfUpToDate })
}

/**
 * Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower". The leader adopts the newer term but stays leader.
 */
const noStepDownOnHigherTerm: Stepper = (state, event) => {
  if (state.role !== 'leader' || event.kind !== 'received') return realStep(state, event)
  const m = event.message
  if (m.type !== 'append' && m.type !== 'appendReply' && m.type !== 'voteReply') return realStep(state, event)
  if (m.term <= state.persistent.currentTerm || (m.type === 'voteReply' && m.pre)) return realStep(state, event)
  const next = produce(state, (s) => {
    s.persistent.currentTerm = m.term
    s.persistent.votedFor = O.none
  })
  return [next, []]
}

/** A leader answers gets from its own state machine at once, without making sure it still leads (no lease). */
const getFromDeposedLeader: Stepper = (state, event) => {
  if (state.role !== 'leader' || event.kind !== 'received' || event.message.type !== 'get') return realStep(state, event)
  const m = event.message
  const value = read(state.kv, m.key) ?? ''
  return [state, [send({ src: state.id, dst: m.src, leader: state.id, type: 'ok', MID: m.MID, value })]]
}

/**
 * The prefix of Figure 8, for three replicas: 0000 led term 2 and appended its no-op, never
 * replicated; 0001 led term 3 (0002 voted for it) and appended its own no-op, never
 * replicated; 0002 holds nothing. Whoever leads next may copy 0000's term-2 entry to 0002; a
 * leader that then counts it as committed loses it when 0001 wins term 5.
 */
export const figure8Prefix = (): PersistentState[] => {
  const noop = (term: number): Entry => ({ term, command: { op: 'noop' } })
  return [
    { currentTerm: 2, votedFor: O.some('0000' as NodeId), log: [...emptyLog, noop(2)] },
    { currentTerm: 3, votedFor: O.some('0001' as NodeId), log: [...emptyLog, noop(3)] },
    { currentTerm: 3, votedFor: O.some('0001' as NodeId), log: emptyLog },
  ]
}

export const mutants = {
  'commit-previous-term': {
    description: 'commits an entry of a previous term by counting replicas',
    step: commitPreviousTermByCounting,
    options: {
      timing: { ...defaultTiming, maxEntriesPerAppend: 1 },
      replicas: 3,
      initialPersistent: figure8Prefix(),
      faults: { crashes: true, partitions: false, meanIntervalMs: 250 },
      requestIntervalMs: 300,
    },
  },
  'vote-without-up-to-date-check': {
    description: 'grants votes without the up-to-date check',
    step: voteWithoutUpToDateCheck,
    options: {},
  },
  'no-step-down': {
    description: 'a leader that sees a higher term adopts it but does not step down',
    step: noStepDownOnHigherTerm,
    options: {},
  },
  'get-from-deposed-leader': {
    description: 'a leader answers gets without the lease, so a deposed leader answers stale values',
    step: getFromDeposedLeader,
    options: {
      timing: { ...defaultTiming, electionTimeoutMinMs: 1_000, electionTimeoutMaxMs: 4_000 },
      faults: { crashes: false, partitions: true, meanIntervalMs: 800 },
      getFraction: 0.8,
    },
  },
} satisfies Record<string, Mutant>

export type MutantName = keyof typeof mutants

