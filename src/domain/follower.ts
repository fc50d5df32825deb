/** The follower's step function: it answers leaders and redirects (or holds) clients. */
import { campaign } from './candidate'
import { onRequestAsFollower } from './client-requests'
import type { StepContext } from './context'
import { onAppendEntries } from './replication'
import { onInstallSnapshot } from './snapshot'
import type { ReplicaState } from './state'
import { shouldCampaignNow } from './transfer'
import type { RaftOrClientMessage } from './messages'

export const stepFollower = (s: ReplicaState, ctx: StepContext, m: RaftOrClientMessage): ReplicaState => {
  switch (m.type) {
    case 'append':
      return onAppendEntries(s, ctx, m)
    case 'snapshot':
      return onInstallSnapshot(s, ctx, m)
    case 'get':
    case 'put':
    case 'delete':
    case 'cas':
      return onRequestAsFollower(s, ctx, m)
    case 'timeoutNow':
      // Thesis §3.10: "the same effect as the target server's election timer firing", without the pre-vote.
      return shouldCampaignNow(s, m) ? campaign(s, ctx, true) : s
    default:
      // Replies to a campaign or a leadership we no longer have, and puts forwarded to a leader we are not.
      return s
  }
}
