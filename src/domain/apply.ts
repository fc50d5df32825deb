/**
 * Figure 2, all servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine". The leader that applies a put answers it. Usually it is the
 * leader that committed it; a new leader also answers the earlier terms' puts it learns are
 * committed only in office, because their leader may have died before answering. When that leader
 * had answered, the client sees a duplicate ok, which the protocol counts but allows; a put left
 * unanswered would be a failure.
 */
import { replyOk } from './clients'
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
    ownPuts = ownPuts.delete(command.MID)
    // applyCommand returns the same store for a MID applied before: answered then already.
    if (kv !== before && s.role === 'leader') replyOk(s, ctx, command.client, command.MID)
  }
  return { ...s, lastApplied: s.commitIndex, kv, ownPuts }
}
