/** The datagrams a replica acts on: Raft RPCs between replicas and requests from clients (step.ts sorts them by type). */
import type { ClientRequest, RaftMessage } from './wire'

export type RaftOrClientMessage = RaftMessage | ClientRequest
