/**
 * How the explorer's state key treats every field of what it hashes: a replica's state and what it
 * holds, and the messages in flight. Each table is typed by the record it describes, so a field
 * added to `ReplicaState`, `Progress` or a message does not compile until someone decides here
 * whether the key keeps its value, makes it a time relative to now, or leaves it out.
 *
 * Leaving a field out merges states that differ in it, so only fields that cannot change what a
 * replica does are left out: its own ID's companions that never change (`peers`, `settings`), and the
 * random generator's state, whose draws only spread election timeouts (the explorer fires timers
 * in any order, whatever their deadlines).
 */
import type { Command, Entry, Message, PutCommand } from '../domain/wire'
import type { Progress } from '../domain/progress'
import type { CompactionPoint, IncomingSnapshot, LeaderDuties, OwnPut, PendingChange, PendingRead, PersistentState, ReadIndexMark, ReplicaState, Transfer } from '../domain/state'
import type { Configuration } from '../domain/membership'

/** Keep the value; a time relative to now; a list of times, each relative to now; leave it out. */
export type FieldPolicy = 'value' | 'time' | 'times' | 'ignore'

type Policies<T> = { readonly [K in keyof Required<T>]: FieldPolicy }

/** Every field of any message type (a union's keys, distributed over its members). */
type MessageField = Message extends infer M ? (M extends unknown ? keyof M : never) : never

const replicaState: Policies<ReplicaState> = {
  id: 'value',
  peers: 'ignore',
  // `peers` follows `configuration`; the first configuration never changes, but it is what a
  // replica falls back to, so it is kept like the rest.
  initialConfiguration: 'value',
  configuration: 'value',
  settings: 'ignore',
  persistent: 'value',
  role: 'value',
  leader: 'value',
  commitIndex: 'value',
  lastApplied: 'value',
  kv: 'value',
  compactionPoint: 'value',
  incomingSnapshot: 'value',
  lastLeaderContact: 'time',
  votesGranted: 'value',
  voteRetriesDone: 'value',
  progress: 'value',
  leaderSince: 'time',
  tickDueAt: 'time',
  duties: 'value',
  held: 'value',
  pendingReads: 'value',
  ownPuts: 'value',
  recoveredUpTo: 'value',
  leaderRecoveredUpTo: 'value',
  lastRedirect: 'value',
  unreachableLeader: 'value',
  random: 'ignore',
}

const persistentState: Policies<PersistentState> = {
  currentTerm: 'value',
  votedFor: 'value',
  log: 'value',
  snapshot: 'value',
  snapshotConfiguration: 'value',
}

const configurationFields: Policies<Configuration> = { voters: 'value', learners: 'value', addresses: 'value' }

const duties: Policies<LeaderDuties> = { transfer: 'value', pendingChange: 'value', readBarrier: 'value' }

const transfer: Policies<Transfer> = { target: 'value', deadline: 'time', timeoutNowSent: 'value', client: 'value', MID: 'value' }

const pendingChange: Policies<PendingChange> = { index: 'value', client: 'value', MID: 'value' }

const compactionPoint: Policies<CompactionPoint> = { index: 'value', kv: 'value' }

const incomingSnapshot: Policies<IncomingSnapshot> = {
  lastIncludedIndex: 'value',
  lastIncludedTerm: 'value',
  term: 'value',
  chunks: 'value',
  received: 'value',
}

const progress: Policies<Progress> = {
  mode: 'value',
  nextIndex: 'value',
  matchIndex: 'value',
  ackedSentAt: 'time',
  lastSentAt: 'time',
  inFlight: 'times',
  probeFrom: 'value',
  rewoundAt: 'time',
  entriesWaiting: 'value',
  // The delivery estimate that sizes the fan-out (progress.ts) is made of these two.
  answered: 'value',
  lost: 'value',
  snapshotOffset: 'value',
  snapshotSentUpTo: 'value',
  snapshotSentAt: 'time',
}

const ownPut: Policies<OwnPut> = { put: 'value', index: 'value', forwardedAt: 'time' }

const pendingRead: Policies<PendingRead> = { request: 'value', readIndex: 'value' }

const readIndexMark: Policies<ReadIndexMark> = { since: 'time', index: 'value' }

const redirect: Policies<ReplicaState['lastRedirect'][string]> = { leader: 'value', at: 'time' }

const entry: Policies<Entry> = { term: 'value', command: 'value' }

type CommandField = Command extends infer C ? (C extends unknown ? keyof C : never) : never
const command: { readonly [K in CommandField | keyof PutCommand]: FieldPolicy } = {
  op: 'value',
  key: 'value',
  value: 'value',
  expected: 'value',
  client: 'value',
  MID: 'value',
  voters: 'value',
  learners: 'value',
  addresses: 'value',
}

const message: { readonly [K in MessageField]: FieldPolicy } = {
  src: 'value',
  dst: 'value',
  leader: 'value',
  type: 'value',
  MID: 'value',
  key: 'value',
  value: 'value',
  expected: 'value',
  term: 'value',
  lastLogIndex: 'value',
  lastLogTerm: 'value',
  pre: 'value',
  granted: 'value',
  prevLogIndex: 'value',
  prevLogTerm: 'value',
  entries: 'value',
  leaderCommit: 'value',
  recoveredUpTo: 'value',
  sentAt: 'time',
  success: 'value',
  matchIndex: 'value',
  conflictIndex: 'value',
  conflictTerm: 'value',
  puts: 'value',
  lastIncludedIndex: 'value',
  lastIncludedTerm: 'value',
  offset: 'value',
  data: 'value',
  done: 'value',
  nextOffset: 'value',
  installed: 'value',
  transfer: 'value',
  configuration: 'value',
  action: 'value',
  member: 'value',
  voters: 'value',
  learners: 'value',
  reason: 'value',
  addresses: 'value',
  retry: 'value',
}

/** Every table, by what it describes. */
export const FIELD_POLICIES: Readonly<Record<string, Readonly<Record<string, FieldPolicy>>>> = {
  replicaState,
  persistentState,
  compactionPoint,
  configurationFields,
  duties,
  transfer,
  pendingChange,
  incomingSnapshot,
  progress,
  ownPut,
  pendingRead,
  readIndexMark,
  redirect,
  entry,
  command,
  message,
}

/**
 * The key treats a field by its name, wherever it appears; so one name must mean one policy in
 * every table. Throws when two tables disagree.
 */
const policyByName = (): ReadonlyMap<string, FieldPolicy> => {
  const byName = new Map<string, { policy: FieldPolicy; table: string }>()
  for (const [table, fields] of Object.entries(FIELD_POLICIES)) {
    for (const [name, policy] of Object.entries(fields)) {
      const seen = byName.get(name)
      if (seen !== undefined && seen.policy !== policy) {
        throw new Error(`state key: field ${name} is '${seen.policy}' in ${seen.table} but '${policy}' in ${table}`)
      }
      byName.set(name, { policy, table })
    }
  }
  return new Map([...byName].map(([name, { policy }]) => [name, policy]))
}

const POLICIES = policyByName()
const named = (policy: FieldPolicy): ReadonlySet<string> =>
  new Set([...POLICIES].filter(([, p]) => p === policy).map(([name]) => name))

export const TIME_FIELDS = named('time')
export const TIME_LIST_FIELDS = named('times')
export const IGNORED_FIELDS = named('ignore')
