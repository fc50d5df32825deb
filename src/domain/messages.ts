/** The datagrams a replica acts on: Raft RPCs between replicas and requests from clients. */
import type { ClientRequest, Message, RaftMessage } from './wire'

export type RaftOrClientMessage = RaftMessage | ClientRequest

const RAFT_TYPES: ReadonlySet<string> = new Set(['vote', 'voteReply', 'append', 'appendReply', 'forward', 'snapshot', 'snapshotReply'])

export const isRaftMessage = (m: Message): m is RaftMessage => RAFT_TYPES.has(m.type)

export const isClientRequest = (m: Message): m is ClientRequest => m.type === 'get' || m.type === 'put'
