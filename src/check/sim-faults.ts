/**
 * check:sim's fault schedule: at each fault event, one of the faults the options allow, drawn from
 * the run's generator (crashes, a crash in the middle of the next step, restarts, partitions and
 * heals; with `membership`, an operator's change of the cluster, thesis ch. 4 and §3.10). The
 * simulation carries the chosen fault out.
 */
import { isMember, isVoter, type Configuration } from '../domain/membership'
import type { ReplicaState } from '../domain/state'
import type { AdminAction, AdminRequest, NodeId } from '../domain/wire'
import { operatorRequest } from './virtual-clients'
import type { Rng } from './rng'
import type { FaultOptions } from './sim-options'

/** What a fault can do to the simulation, and to which replicas (by position). */
export interface FaultTargets {
  /** Replicas up, and replicas down that stored something (a restart recovers it). */
  readonly up: readonly number[]
  readonly down: readonly number[]
  crash(replica: number): void
  /** It crashes in the middle of its next step. */
  crashInNextStep(replica: number): void
  crashLeader(): void
  restart(replica: number): void
  partition(aroundLeader: boolean): void
  healPartition(): void
  changeMembership(action: AdminAction): void
}

/** Draws one fault the options allow and carries it out (the replica it strikes is drawn then). */
export const injectOneFault = (rng: Rng, faults: FaultOptions, t: FaultTargets): void => {
  const choices: (() => void)[] = []
  if (faults.crashes && t.up.length > 1) {
    choices.push(() => t.crash(rng.pick(t.up)))
    choices.push(() => t.crashInNextStep(rng.pick(t.up)))
    choices.push(() => t.crashLeader())
  }
  if (faults.crashes && t.down.length > 0) {
    choices.push(() => t.restart(rng.pick(t.down)))
    choices.push(() => t.restart(rng.pick(t.down)))
  }
  if (faults.partitions) {
    choices.push(() => t.partition(false))
    choices.push(() => t.partition(true))
    choices.push(() => t.healPartition())
  }
  if (faults.membership === true) {
    choices.push(() => t.changeMembership('remove'))
    choices.push(() => t.changeMembership('add'))
    choices.push(() => t.changeMembership('promote'))
    choices.push(() => t.changeMembership('transfer'))
  }
  if (choices.length > 0) rng.pick(choices)()
}

/**
 * The operator asks the leader (as the leader's own configuration stands) for one change, its
 * `count`th: the request, or undefined when no replica can be named for `action`. The leader may
 * refuse (a change in progress, a learner not caught up): the operator does not insist.
 */
export const operatorAsks = (rng: Rng, leader: ReplicaState, ids: readonly NodeId[], action: AdminAction, count: number): AdminRequest | undefined => {
  const candidates = membershipCandidates(leader.configuration, leader.id, ids, action)
  if (candidates.length === 0) return undefined
  return operatorRequest(leader.id, `op-${count}`, action, rng.pick(candidates))
}

/**
 * Whom an operator may name for `action`, as the leader's own configuration `c` stands: remove a
 * member while at least two voters remain, add a non-member back as a learner, promote a learner,
 * or hand leadership to another voter.
 */
const membershipCandidates = (c: Configuration, leader: NodeId, ids: readonly NodeId[], action: AdminAction): NodeId[] =>
  ids.filter((id) => {
    switch (action) {
      case 'remove':
        return isMember(c, id) && (!isVoter(c, id) || c.voters.length > 2)
      case 'add':
        return !isMember(c, id)
      case 'promote':
        return c.learners.includes(id)
      case 'transfer':
        return isVoter(c, id) && id !== leader
      default:
        return false
    }
  })
