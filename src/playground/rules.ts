/**
 * Which rule of the paper a step applied, for the page's explanation of a step. A small table keyed
 * by what the step was handed (event and message kind) and by what visibly changed (role, term,
 * commit and apply marks, a persist effect), each row quoting the rule the handler in src/domain
 * cites at that place and naming the file. It describes steps; it decides nothing, and no Raft
 * logic is repeated here: everything it reads is the step's event, the states before and after,
 * and the effects `step` returned.
 */
import type { StepRecord } from './cluster-view'

export interface Rule {
  /** Where in the paper (or Ongaro's thesis). */
  readonly cite: string
  /** The rule, as the paper or the code's comment says it. */
  readonly text: string
  /** The file of src/domain that applies it. */
  readonly source: string
}

const R = (cite: string, text: string, source: string): Rule => ({ cite, text, source })

/** Rows by what the step was handed: the event kind, or the received message's type. */
const BY_EVENT: Readonly<Record<string, readonly Rule[]>> = {
  started: [R('§5.2', 'Servers start up as followers; election timeouts are chosen randomly from a fixed interval.', 'election.ts')],
  'timer:election': [
    R('§5.2', 'If a follower receives no communication over the election timeout, it begins an election.', 'election.ts'),
    R('thesis §9.6', 'Pre-vote: before disturbing anyone, ask whether a majority would vote for us in the next term.', 'election.ts'),
  ],
  'timer:heartbeat': [
    R('§5.2', 'Leaders send periodic heartbeats (AppendEntries that carry no log entries) to all followers.', 'replication.ts'),
    R('thesis §6.2', 'Check-quorum: a leader that has not heard from a majority for an election timeout steps down.', 'leader.ts'),
  ],
  'timer:voteRetry': [R('§5.2', 'A candidate asks again the peers whose vote did not come (RequestVote RPCs are retried).', 'election.ts')],
  vote: [
    R('Figure 2', 'RequestVote receiver: reply false if term < currentTerm; grant if votedFor is null or candidateId, and the log is up to date.', 'election.ts'),
    R('§5.2', 'Each server will vote for at most one candidate in a given term, on a first-come-first-served basis.', 'election.ts'),
    R('§5.4.1', 'The voter denies its vote if its own log is more up-to-date than that of the candidate.', 'election.ts'),
  ],
  voteReply: [R('§5.2', 'A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term.', 'candidate.ts')],
  append: [
    R('Figure 2', 'AppendEntries receiver: reply false if term < currentTerm, or if the log has no entry at prevLogIndex whose term matches prevLogTerm.', 'replication.ts'),
  ],
  appendReply: [R('§5.3', 'After a rejection, the leader decrements nextIndex and retries the AppendEntries (here it skips a whole conflicting term at once).', 'replication.ts')],
  snapshot: [R('Figure 13', 'InstallSnapshot receiver: write data into the snapshot at the given offset; when done, discard the log it covers and reset the state machine.', 'snapshot.ts')],
  snapshotReply: [R('§7', 'The leader must occasionally send snapshots to followers that lag behind.', 'snapshot.ts')],
  forward: [R('raftkv', 'A put that a deposed leader appended and lost to truncation is handed to the current leader, so that it is applied once.', 'client-requests.ts')],
  put: [R('§5.3', 'The leader appends the command to its log as a new entry, then issues AppendEntries in parallel to each of the other servers.', 'client-requests.ts')],
  get: [R('thesis §6.4.1', 'A leader answers a read from its state machine while it holds a lease: a majority acknowledged it within the minimum election timeout.', 'reads.ts')],
}

/** Rows by what changed in the step. */
const TERM_RULE = R('Figure 2', 'If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower.', 'step.ts')
const BECAME_CANDIDATE = R('§5.2', 'To begin an election, a follower increments its current term and transitions to candidate state; it votes for itself.', 'election.ts')
const BECAME_LEADER = R('§5.2, §8', 'A candidate with a majority becomes leader; it appends a no-op entry of its term so that it can commit earlier entries.', 'leader.ts')
const STEPPED_DOWN = R('§5.2', 'If a candidate or leader discovers a current leader or a newer term, it returns to follower state.', 'election.ts')
const COMMITTED = R('Figure 2, §5.4.2', 'If there exists an N > commitIndex such that a majority of matchIndex[i] ≥ N and log[N].term == currentTerm: set commitIndex = N. Only entries of the current term are committed by counting.', 'replication.ts')
const FOLLOWER_COMMIT = R('Figure 2', 'If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry).', 'replication.ts')
const APPLIED = R('Figure 2', 'If commitIndex > lastApplied: increment lastApplied, apply log[lastApplied] to state machine.', 'apply.ts')
const PERSISTED = R('Figure 2', 'Persistent state (currentTerm, votedFor, log[]) is updated on stable storage before responding to RPCs: the persist effect comes first.', 'durability.ts')
const MERGED = R('Figure 2', 'If an existing entry conflicts with a new one (same index, different terms), delete it and all that follow it; append any new entries not already in the log.', 'log.ts')
const COMPACTED = R('§7', 'Each server takes snapshots independently, covering just the committed entries in its log.', 'snapshot.ts')

/** The rules a step applied, most specific first. */
export const rulesFor = (record: StepRecord): Rule[] => {
  const { event, before, after, effects } = record
  const rules: Rule[] = []
  const key = event.kind === 'received' ? event.message.type : event.kind === 'timerFired' ? `timer:${event.timer}` : event.kind
  const termBefore = before.persistent.currentTerm
  const termAfter = after.persistent.currentTerm
  if (event.kind === 'received' && 'term' in event.message && event.message.term > termBefore && termAfter === event.message.term && !(event.message.type === 'voteReply' && event.message.pre)) {
    rules.push(TERM_RULE)
  }
  rules.push(...(BY_EVENT[key] ?? []))
  if (event.kind === 'received' && event.message.type === 'append' && event.message.entries.length > 0) rules.push(MERGED)
  if (after.role === 'candidate' && (before.role !== 'candidate' || termAfter > termBefore)) rules.push(BECAME_CANDIDATE)
  if (after.role === 'leader' && before.role !== 'leader') rules.push(BECAME_LEADER)
  if (after.role === 'follower' && (before.role === 'leader' || before.role === 'candidate' || before.role === 'preCandidate')) rules.push(STEPPED_DOWN)
  if (after.commitIndex > before.commitIndex) rules.push(after.role === 'leader' ? COMMITTED : FOLLOWER_COMMIT)
  if (after.lastApplied > before.lastApplied) rules.push(APPLIED)
  if (after.persistent.log.snapshotIndex > before.persistent.log.snapshotIndex && event.kind !== 'received') rules.push(COMPACTED)
  if (effects.some((e) => e.kind === 'persist')) rules.push(PERSISTED)
  return rules
}
