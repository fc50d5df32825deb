/**
 * Figure 2, all servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine". Who answers an applied put is client-requests.ts's (putApplied).
 */
import { putApplied } from './client-requests'
import type { StepContext } from './context'
import { applyCommand } from './kv'
import { entryAt } from './log'
import type { ReplicaState } from './state'

export const applyCommitted = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.lastApplied >= s.commitIndex) return s
  let kv = s.kv
  let ownPuts = s.ownPuts
  for (let index = s.lastApplied + 1; index <= s.commitIndex; index++) {
    const command = entryAt(s.persistent.log, index)!.command
    if (command.op !== 'put') continue
    const before = kv
    kv = applyCommand(before, command)
    // applyCommand returns the same store for a MID applied before.
    ownPuts = putApplied(s, ctx, ownPuts, command, index, kv !== before)
  }
  return { ...s, lastApplied: s.commitIndex, kv, ownPuts }
}
