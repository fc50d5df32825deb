/**
 * Figure 2, all servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine". The leader that applies a put answers it. Usually it is the
 * leader that committed it; a new leader also answers the earlier terms' puts it learns are
 * committed only in office, because their leader may have died before answering. When that leader
 * had answered, the client sees a duplicate ok, which the protocol counts but allows; a put left
 * unanswered would be a failure.
 */
import { castDraft } from 'immer'
import { replyOk } from './clients'
import type { StepContext } from './context'
import { applyCommand } from './kv'
import type { MutableState } from './state'

export const applyCommitted = (s: MutableState, ctx: StepContext): void => {
  while (s.lastApplied < s.commitIndex) {
    s.lastApplied += 1
    const command = s.persistent.log[s.lastApplied]!.command
    if (command.op !== 'put') continue
    const before = s.kv
    s.kv = castDraft(applyCommand(before, command))
    delete s.ownPuts[command.MID]
    // applyCommand returns the same store for a MID applied before: answered then already.
    if (s.kv !== before && s.role === 'leader') replyOk(s, ctx, command.client, command.MID)
  }
}
