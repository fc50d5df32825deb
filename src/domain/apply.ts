/**
 * Figure 2, all servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine". Who answers an applied write is client-requests.ts's (writeApplied).
 */
import { writeApplied } from './client-requests'
import type { StepContext } from './context'
import { applyCommand, hasApplied } from './kv'
import { entryAt } from './log'
import { type ReplicaState, withState } from './state'
import { isWrite } from './wire'

export const applyCommitted = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.lastApplied >= s.commitIndex) return s
  let kv = s.kv
  let ownPuts = s.ownPuts
  for (let index = s.lastApplied + 1; index <= s.commitIndex; index++) {
    const command = entryAt(s.persistent.log, index)!.command
    if (!isWrite(command)) continue
    const before = kv
    kv = applyCommand(before, command)
    // applyCommand returns the same store for a MID applied before, and for a compare-and-set whose
    // comparison failed (which is not remembered: its MID is not applied).
    const outcome = kv !== before ? 'applied' : command.op === 'cas' && !hasApplied(before, command.MID) ? 'refused' : 'applied before'
    ownPuts = writeApplied(s, ctx, ownPuts, command, index, outcome)
  }
  return withState(s, { lastApplied: s.commitIndex, kv, ownPuts })
}
