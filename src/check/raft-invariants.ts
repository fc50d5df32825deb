/**
 * Figure 3 of the Raft paper ("Raft guarantees that each of these properties is true at all
 * times"), checked incrementally after every step of any replica, over all replicas (crashed and
 * deposed ones included, through what the checks remember of them) and all time:
 *
 * - Election Safety (§5.2): "at most one leader can be elected in a given term."
 * - Leader Append-Only (§5.3): "a leader never overwrites or deletes entries in its log; it only
 *   appends new entries."
 * - Log Matching (§5.3): "if two logs contain an entry with the same index and term, then the logs
 *   are identical in all entries up through the given index."
 * - Leader Completeness (§5.4): "if a log entry is committed in a given term, then that entry will
 *   be present in the logs of the leaders for all higher-numbered terms."
 * - State Machine Safety (§5.4.3): "if a server has applied a log entry at a given index to its
 *   state machine, no other server will ever apply a different log entry for the same index."
 *
 * "Committed" is the paper's, not a replica's commitIndex (§5.3): "A log entry is committed once the
 * leader that created the entry has replicated it on a majority of the servers ... This also
 * commits all preceding entries in the leader's log". An entry of term T is created by the leader
 * of T, and a replica stores it for that leader only while its own current term is T; so an entry
 * of term T at index i is committed, in term T, once a majority of replicas have each held it (with
 * their current term T) at some moment, and with it every entry before i (§5.4.2's indirect
 * commitment). Figure 8's entry of term 2, stored on a majority in term 4, is therefore not
 * committed by that alone.
 *
 * Besides Figure 3, two rules it rests on:
 * - Only committed entries are applied (§5.3: "The leader decides when it is safe to apply a log
 *   entry to the state machines; such an entry is called committed"): a replica's commitIndex
 *   covers only committed entries, and lastApplied never passes commitIndex (Figure 2).
 * - The store is the replay of the log it applied: a replica's value of each key it just wrote
 *   equals the value the applied entries give it.
 *
 * Thesis ch. 4, membership changes: "a majority" is of the voters of a configuration the term's
 * leader used (it counts with the latest configuration in its log, so a term can see several);
 * stored on a majority of the voters of any of them commits. Two rules of the thesis's
 * single-server changes are checked as such, since a bug in them shows in Figure 3 only in rare
 * interleavings:
 * - Configuration from the log (§4.1): "a server always uses the latest configuration in its log,
 *   regardless of whether the entry is committed" (else the snapshot's, else the first one);
 * - One configuration change at a time (§4.1, with the fix of 2015): a leader appends a
 *   configuration entry only when every configuration entry before it is committed, and so is an
 *   entry of its own term.
 *
 * §7: a replica's log no longer holds the entries its snapshot replaced. Those were applied, so
 * committed: the checks of entries start after a log's snapshot, what was applied at an index the
 * log no longer holds is taken from the global record, and a snapshot installed is checked through
 * the store it brings (the keys its entries wrote must hold what the applied log gives them).
 */
import { entryAt, lastIndex } from '../domain/log'
import type { ReplicaState } from '../domain/state'
import { InvariantHistory } from './invariant-history'
import { commitment, electionSafety } from './invariants-leaders'
import { leaderAppendOnly, logMatching } from './invariants-logs'
import { configurationFromLog } from './invariants-membership'
import { onlyCommittedApplied, stateMachineSafety, storeReplaysLog } from './invariants-state-machine'
import type { Violation } from './violation'

export class RaftInvariants {
  private history = new InvariantHistory()

  /** A copy that goes its own way (what the checks remember is copied only when one side first records something). */
  clone(): RaftInvariants {
    const copy = new RaftInvariants()
    copy.history = this.history.clone()
    return copy
  }

  /** What the checks remember, as text (see InvariantHistory.digest). */
  digest(): string {
    return this.history.digest()
  }

  /** 1 + the highest committed index (0 before anything is committed). */
  get committedLength(): number {
    return this.history.committed.length
  }

  /**
   * Checks one replica's step from `before` (undefined after a restart or at boot) to `after`.
   * The other replicas need not be passed: what the checks need of them, they remember.
   */
  observe(before: ReplicaState | undefined, after: ReplicaState): Violation | undefined {
    const h = this.history
    // Where the log stopped being the same entry objects as before the step: the log checks
    // start there (one scan of the shared prefix per step, not one per check).
    const old = before?.persistent.log
    const log = after.persistent.log
    let firstChange = Math.max(log.snapshotIndex, old?.snapshotIndex ?? 0) + 1
    if (old !== undefined && old !== log) {
      const shared = Math.min(lastIndex(old), lastIndex(log))
      while (firstChange <= shared && entryAt(old, firstChange) === entryAt(log, firstChange)) firstChange++
    }
    return (
      electionSafety(h, after) ??
      configurationFromLog(h, before, after, firstChange) ??
      leaderAppendOnly(before, after, firstChange) ??
      logMatching(h, before, after, firstChange) ??
      commitment(h, after) ??
      // Two replicas applying different entries at one index is reported as such, before the
      // commit rule that one of them must have broken to get there.
      stateMachineSafety(h, before, after) ??
      onlyCommittedApplied(h, before, after, firstChange) ??
      storeReplaysLog(h, before, after)
    )
  }
}
