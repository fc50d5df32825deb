/**
 * io-ts codecs for every datagram a replica sends or receives: the simulator's client protocol
 * (`../shared/protocol.md`) and our own Raft RPCs, which travel the same way.
 *
 * Decoding is the only door from the network into the domain: whatever fails here is logged and
 * dropped by the caller, never thrown on.
 */
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'

/** A replica or client ID: four upper-case hex digits. `FFFF` is broadcast / unknown. */
export interface NodeIdBrand {
  readonly NodeId: unique symbol
}
export const NodeId = t.brand(
  t.string,
  (s): s is t.Branded<string, NodeIdBrand> => /^[0-9A-F]{4}$/.test(s),
  'NodeId',
)
export type NodeId = t.TypeOf<typeof NodeId>

export const BROADCAST = 'FFFF' as NodeId
export const UNKNOWN_LEADER = 'FFFF' as NodeId

/** Parses an ID from argv or a test; `undefined` when it is not in canonical form. */
export const parseNodeId = (s: string): NodeId | undefined => (NodeId.is(s) ? s : undefined)

const Envelope = {
  src: NodeId,
  dst: NodeId,
  leader: NodeId,
}

// ---- client protocol -------------------------------------------------------------------------

export const Hello = t.type({ ...Envelope, type: t.literal('hello') })
export const GetRequest = t.type({ ...Envelope, type: t.literal('get'), MID: t.string, key: t.string })
export const PutRequest = t.type({
  ...Envelope,
  type: t.literal('put'),
  MID: t.string,
  key: t.string,
  value: t.string,
})
export const OkReply = t.intersection([
  t.type({ ...Envelope, type: t.literal('ok'), MID: t.string }),
  t.partial({ value: t.string }),
])
/** The real cluster's delete (not in the course's protocol). */
export const DeleteRequest = t.type({ ...Envelope, type: t.literal('delete'), MID: t.string, key: t.string })
/**
 * The real cluster's compare-and-set (not in the course's protocol): write `value` only if the
 * key's value is `expected` (null: only if it has none). Answered ok when it wrote, fail when not.
 */
export const CasRequest = t.type({
  ...Envelope,
  type: t.literal('cas'),
  MID: t.string,
  key: t.string,
  expected: t.union([t.string, t.null]),
  value: t.string,
})
export const RedirectReply = t.type({ ...Envelope, type: t.literal('redirect'), MID: t.string })
export const FailReply = t.type({ ...Envelope, type: t.literal('fail'), MID: t.string })

export type Hello = t.TypeOf<typeof Hello>
export type GetRequest = t.TypeOf<typeof GetRequest>
export type PutRequest = t.TypeOf<typeof PutRequest>
export type DeleteRequest = t.TypeOf<typeof DeleteRequest>
export type CasRequest = t.TypeOf<typeof CasRequest>
/** The requests that go into the log. */
export type WriteRequest = PutRequest | DeleteRequest | CasRequest
export type ClientRequest = GetRequest | WriteRequest
export type OkReply = t.TypeOf<typeof OkReply>
export type RedirectReply = t.TypeOf<typeof RedirectReply>
export type FailReply = t.TypeOf<typeof FailReply>
export type ClientReply = OkReply | RedirectReply | FailReply

// ---- the replicated log ----------------------------------------------------------------------

const Index = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'Index')
const Term = Index

/** A client's put, as it travels in the log: who asked, under which MID, and what to write. */
export const PutCommand = t.type({
  op: t.literal('put'),
  key: t.string,
  value: t.string,
  client: NodeId,
  MID: t.string,
})
export const DeleteCommand = t.type({ op: t.literal('delete'), key: t.string, client: NodeId, MID: t.string })
export const CasCommand = t.type({
  op: t.literal('cas'),
  key: t.string,
  expected: t.union([t.string, t.null]),
  value: t.string,
  client: NodeId,
  MID: t.string,
})
/** A client's write as it travels in the log: applied at most once per MID (kv.ts). */
export const WriteCommand = t.union([PutCommand, DeleteCommand, CasCommand])
/** §8: a leader appends a no-op at the start of its term so that it can commit earlier entries. */
export const NoopCommand = t.type({ op: t.literal('noop') })
/**
 * Thesis §4.1: "Cluster configurations are stored and communicated using special entries in the
 * replicated log." The whole configuration after the change: who votes, and who only learns.
 */
/**
 * Where a member is reached, as the real cluster's operator gave it (`host:port` text, peers' and
 * clients'): opaque to Raft, carried in the configuration so that every replica learns a new
 * member's addresses from the log, the one place the cluster's membership is decided.
 */
export const MemberAddresses = t.type({ peer: t.string, client: t.string })
export const ConfigurationData = t.intersection([
  t.type({ voters: t.array(NodeId), learners: t.array(NodeId) }),
  t.partial({ addresses: t.record(t.string, MemberAddresses) }),
])
export const ConfigCommand = t.intersection([t.type({ op: t.literal('config') }), ConfigurationData])
export const Command = t.union([PutCommand, DeleteCommand, CasCommand, NoopCommand, ConfigCommand])
export const Entry = t.type({ term: Term, command: Command })

export type PutCommand = t.TypeOf<typeof PutCommand>
export type DeleteCommand = t.TypeOf<typeof DeleteCommand>
export type CasCommand = t.TypeOf<typeof CasCommand>
export type WriteCommand = t.TypeOf<typeof WriteCommand>
export type ConfigCommand = t.TypeOf<typeof ConfigCommand>
export type ConfigurationData = t.TypeOf<typeof ConfigurationData>
export type MemberAddresses = t.TypeOf<typeof MemberAddresses>
export type Command = t.TypeOf<typeof Command>

/** Whether a log command is a client's write (not a no-op, nor a configuration). */
export const isWrite = (command: Command): command is WriteCommand =>
  command.op === 'put' || command.op === 'delete' || command.op === 'cas'
export type Entry = t.TypeOf<typeof Entry>

// ---- Raft RPCs (Figure 2, plus pre-vote §9.6 of the thesis and forwarding of lost puts) -------

/**
 * RequestVote; with `pre`, the pre-vote round that does not bump anyone's term; with `transfer`,
 * a campaign its leader asked for (thesis §3.10, TimeoutNow), which voters grant inside the lease.
 */
export const RequestVote = t.intersection([
  t.type({
    ...Envelope,
    type: t.literal('vote'),
    term: Term,
    lastLogIndex: Index,
    lastLogTerm: Term,
    pre: t.boolean,
  }),
  t.partial({ transfer: t.literal(true) }),
])
export const RequestVoteReply = t.type({
  ...Envelope,
  type: t.literal('voteReply'),
  term: Term,
  granted: t.boolean,
  pre: t.boolean,
})
/**
 * AppendEntries. `sentAt` is the leader's clock at sending; the reply echoes it (read lease).
 * `recoveredUpTo`, sent when above 0: the puts up to that index came from the log the leader
 * recovered at start-up, and it does not answer them (client-requests.ts, writeApplied); a follower
 * that took one of them in its current life answers it.
 */
export const AppendEntries = t.intersection([
  t.type({
    ...Envelope,
    type: t.literal('append'),
    term: Term,
    prevLogIndex: Index,
    prevLogTerm: Term,
    entries: t.array(Entry),
    leaderCommit: Index,
    sentAt: t.number,
  }),
  t.partial({ recoveredUpTo: Index }),
])
/**
 * AppendEntries reply. On success `matchIndex` is the last index known to match the leader's log.
 * On a failed consistency check `conflictIndex`/`conflictTerm` let the leader skip a whole term at
 * a time (§5.3, the optimization the paper sketches).
 */
export const AppendEntriesReply = t.type({
  ...Envelope,
  type: t.literal('appendReply'),
  term: Term,
  success: t.boolean,
  matchIndex: Index,
  conflictIndex: Index,
  conflictTerm: Term,
  sentAt: t.number,
})
/** Writes that a deposed leader had appended but lost to truncation, handed to the current leader. */
export const Forward = t.type({
  ...Envelope,
  type: t.literal('forward'),
  puts: t.array(WriteCommand),
})

/**
 * Figure 13, InstallSnapshot: one piece of the leader's snapshot, the state machine up to
 * `lastIncludedIndex` as text, from character `offset` on. `sentAt` as in AppendEntries. Thesis
 * §5.1: the snapshot also holds "the latest configuration as of the last included index"; absent
 * while that is still the cluster's first configuration (no configuration entry yet).
 * `recoveredUpTo` on the last piece, as in AppendEntries: a follower's own puts that the snapshot
 * shows applied are answered by the follower if they lie within it (settleOwnPutsInSnapshot).
 */
export const InstallSnapshot = t.intersection([
  t.type({
    ...Envelope,
    type: t.literal('snapshot'),
    term: Term,
    lastIncludedIndex: Index,
    lastIncludedTerm: Term,
    offset: Index,
    data: t.string,
    done: t.boolean,
    sentAt: t.number,
  }),
  t.partial({ configuration: ConfigurationData, recoveredUpTo: Index }),
])
/**
 * InstallSnapshot reply: how much of the snapshot ending at `lastIncludedIndex` the follower has
 * (`nextOffset`, the offset of the piece it expects next), or that it has installed it. `offset` is
 * the answered piece's: past `nextOffset`, the follower missed a piece before it.
 */
export const InstallSnapshotReply = t.type({
  ...Envelope,
  type: t.literal('snapshotReply'),
  term: Term,
  lastIncludedIndex: Index,
  offset: Index,
  nextOffset: Index,
  installed: t.boolean,
  sentAt: t.number,
})

/**
 * Thesis §3.10: "The prior leader sends a TimeoutNow request to the target server. This request has
 * the same effect as the target server's election timer firing".
 */
export const TimeoutNow = t.type({ ...Envelope, type: t.literal('timeoutNow'), term: Term })

// ---- administration (thesis ch. 4, §3.10): not part of the course's protocol -----------------

/**
 * An operator's request, sent like a client's: list the configuration, add a learner, promote a
 * learner to voter, remove a member, or hand leadership to a voter. `member` names the replica
 * (every action but `list`). The real cluster's front end adds `addresses`: every member's it knows,
 * the new one's included, which the change's configuration entry then carries.
 */
export const AdminAction = t.union([
  t.literal('list'),
  t.literal('add'),
  t.literal('promote'),
  t.literal('remove'),
  t.literal('transfer'),
])
export const AdminRequest = t.intersection([
  t.type({ ...Envelope, type: t.literal('admin'), MID: t.string, action: AdminAction }),
  t.partial({ member: NodeId, addresses: t.record(t.string, MemberAddresses) }),
])
/** An admin request done (a change once committed): the configuration as the leader sees it then. */
export const AdminReply = t.type({
  ...Envelope,
  type: t.literal('adminReply'),
  MID: t.string,
  voters: t.array(NodeId),
  learners: t.array(NodeId),
  /** The members' addresses, where the configuration has them. */
  addresses: t.record(t.string, MemberAddresses),
})
/**
 * A request this replica will not carry out, and why (a removed replica, an invalid change); with
 * `retry`, a later attempt (or another replica) may succeed: a change must wait, no leader is known.
 */
export const Refused = t.intersection([
  t.type({ ...Envelope, type: t.literal('refused'), MID: t.string, reason: t.string }),
  t.partial({ retry: t.literal(true) }),
])

export type AdminAction = t.TypeOf<typeof AdminAction>
export type AdminRequest = t.TypeOf<typeof AdminRequest>
export type AdminReply = t.TypeOf<typeof AdminReply>
export type Refused = t.TypeOf<typeof Refused>
export type TimeoutNow = t.TypeOf<typeof TimeoutNow>
export type RequestVote = t.TypeOf<typeof RequestVote>
export type RequestVoteReply = t.TypeOf<typeof RequestVoteReply>
export type AppendEntries = t.TypeOf<typeof AppendEntries>
export type AppendEntriesReply = t.TypeOf<typeof AppendEntriesReply>
export type Forward = t.TypeOf<typeof Forward>
export type InstallSnapshot = t.TypeOf<typeof InstallSnapshot>
export type InstallSnapshotReply = t.TypeOf<typeof InstallSnapshotReply>
export type RaftMessage =
  | RequestVote
  | RequestVoteReply
  | AppendEntries
  | AppendEntriesReply
  | Forward
  | InstallSnapshot
  | InstallSnapshotReply
  | TimeoutNow

export const Message = t.union([
  Hello,
  GetRequest,
  PutRequest,
  DeleteRequest,
  CasRequest,
  OkReply,
  RedirectReply,
  FailReply,
  RequestVote,
  RequestVoteReply,
  AppendEntries,
  AppendEntriesReply,
  Forward,
  InstallSnapshot,
  InstallSnapshotReply,
  TimeoutNow,
  AdminRequest,
  AdminReply,
  Refused,
])
export type Message = t.TypeOf<typeof Message>

/** The codec for each `type`, so that a datagram is checked against its own kind only. */
const codecByType: Readonly<Record<Message['type'], t.Decoder<unknown, Message> & { readonly is: t.Is<Message> }>> = {
  hello: Hello,
  get: GetRequest,
  put: PutRequest,
  delete: DeleteRequest,
  cas: CasRequest,
  ok: OkReply,
  redirect: RedirectReply,
  fail: FailReply,
  vote: RequestVote,
  voteReply: RequestVoteReply,
  append: AppendEntries,
  appendReply: AppendEntriesReply,
  forward: Forward,
  snapshot: InstallSnapshot,
  snapshotReply: InstallSnapshotReply,
  timeoutNow: TimeoutNow,
  admin: AdminRequest,
  adminReply: AdminReply,
  refused: Refused,
}

/** Why a datagram was not accepted, in words fit for a log line. */
export type DecodeError = string

const describeErrors = (errors: t.Errors): string =>
  errors
    .slice(0, 3)
    .map((error) => {
      const path = error.context
        .map((entry) => entry.key)
        .filter((key) => key !== '')
        .join('.')
      return `${path || 'datagram'}: expected ${error.context[error.context.length - 1]?.type.name ?? 'something else'}`
    })
    .join('; ')

/**
 * Decodes one datagram's text. Never throws. Every codec here checks without transforming, so a
 * value its type guard accepts is what `decode` would return: the guard runs first (it allocates
 * nothing, and a datagram costs microseconds on a request's path), and `decode` only to say why a
 * datagram was refused.
 */
export const decodeMessage = (text: string): E.Either<DecodeError, Message> =>
  pipe(
    E.tryCatch(
      () => JSON.parse(text) as unknown,
      () => 'not JSON',
    ),
    E.chain((json) => {
      const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined
      const codec = typeof type === 'string' && Object.hasOwn(codecByType, type) ? codecByType[type as Message['type']] : undefined
      if (codec === undefined) return E.left(`unknown or missing type: ${text.slice(0, 120)}`)
      if (codec.is(json)) return E.right(json)
      return pipe(codec.decode(json), E.mapLeft(describeErrors))
    }),
  )

/**
 * The largest datagram a replica sends, in bytes (the protocol allows 65,507: IPv4's limit). The
 * runtime refuses to send a bigger one, and the checkers fail a run whose replica built one.
 */
export const MAX_DATAGRAM_BYTES = 60_000

export const encodeMessage = (message: Message): string => JSON.stringify(message)
