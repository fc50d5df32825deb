/**
 * What the page calls what it shows: a replica's role, term and vote, a client's name, a message's
 * token and its words, how a flight ended. All read from the states and the flights, never decided.
 */
import { formatMessage } from '../../check/trace'
import type { EndedFlight, Replica } from '../cluster-view'
import type { Message, NodeId } from '../../domain/wire'
import { page } from './state'

export const ROLE_TEXT: Record<string, string> = { follower: 'follower', preCandidate: 'pre-candidate', candidate: 'candidate', leader: 'leader' }
export const roleOf = (r: Replica): string => r.state?.role ?? 'down'
export const termOf = (r: Replica): number => (r.state ?? { persistent: r.stored }).persistent.currentTerm
export const voteOf = (r: Replica): string => {
  const vote = (r.state?.persistent ?? r.stored).votedFor
  return vote._tag === 'Some' ? vote.value : '—'
}
export const clientName = (index: number): string => String.fromCharCode(65 + index)
export const clientLabel = (id: NodeId): string => {
  const index = page.cluster.clientIds.indexOf(id)
  return index < 0 ? id : `client ${clientName(index)}`
}
export const nodeName = (id: NodeId): string => (page.cluster.ids.includes(id) ? id : clientLabel(id))

/** The newest leader, by term. */
export const currentLeader = (): Replica | undefined => {
  let best: Replica | undefined
  for (const r of page.cluster.replicas) if (r.state?.role === 'leader' && (best === undefined || termOf(r) > termOf(best))) best = r
  return best
}


export const KIND_CLASS: Record<Message['type'], string> = {
  vote: 'vote', voteReply: 'vote', append: 'append', appendReply: 'append', snapshot: 'snapshot', snapshotReply: 'snapshot',
  forward: 'forward', get: 'client', put: 'client', delete: 'client', cas: 'client', ok: 'client', redirect: 'client', fail: 'client', hello: 'client',
  timeoutNow: 'vote', admin: 'client', adminReply: 'client', refused: 'client',
}

/** A message's token text: its kind, term and entries in a few characters. */
export const shortLabel = (m: Message): string => {
  switch (m.type) {
    case 'vote':
      return `${m.pre ? 'PreVote' : 'Vote'} t${m.term}`
    case 'voteReply':
      return `${m.granted ? '✓' : '✗'} ${m.pre ? 'pre' : 'vote'} t${m.term}`
    case 'append':
      return `AE t${m.term}${m.entries.length > 0 ? ` +${m.entries.length}` : ''}`
    case 'appendReply':
      return `${m.success ? '✓' : '✗'} AE t${m.term}`
    case 'snapshot':
      return `Snap t${m.term}`
    case 'snapshotReply':
      return `✓ Snap t${m.term}`
    case 'forward':
      return `Fwd ${m.puts.length}`
    case 'put':
      return `put ${m.key}`
    case 'get':
      return `get ${m.key}`
    case 'delete':
      return `del ${m.key}`
    case 'cas':
      return `cas ${m.key}`
    case 'ok':
      return m.value === undefined ? 'ok' : `ok ${m.value === '' ? '∅' : m.value}`
    case 'redirect':
      return `→ ${m.leader}`
    case 'fail':
      return 'fail'
    case 'hello':
      return 'hello'
    case 'timeoutNow':
      return `TimeoutNow t${m.term}`
    case 'admin':
      return `${m.action}${m.member === undefined ? '' : ` ${m.member}`}`
    case 'adminReply':
      return 'done'
    case 'refused':
      return 'refused'
  }
}

/** A message in words, for the lists. */
export const describeMessage = (m: Message): string => {
  switch (m.type) {
    case 'vote':
      return `${m.pre ? 'pre-vote' : 'RequestVote'} term ${m.term}, last log ${m.lastLogIndex}/${m.lastLogTerm}`
    case 'voteReply':
      return `${m.pre ? 'pre-vote' : 'vote'} ${m.granted ? 'granted' : 'refused'}, term ${m.term}`
    case 'append':
      return `AppendEntries term ${m.term}, prev ${m.prevLogIndex}/${m.prevLogTerm}, ${m.entries.length === 0 ? 'no entries (heartbeat)' : `${m.entries.length} entr${m.entries.length === 1 ? 'y' : 'ies'} [${m.entries.map(entryText).join(', ')}]`}, commit ${m.leaderCommit}`
    case 'appendReply':
      return `AppendEntries ${m.success ? `ok, match ${m.matchIndex}` : `rejected, conflict at ${m.conflictIndex} (term ${m.conflictTerm})`}, term ${m.term}`
    default:
      return formatMessage(m).replace(/^\S+ \S+ \(leader [0-9A-F]+\) ?/, `${m.type} `)
  }
}

export const entryText = (e: { term: number; command: { op: string; key?: string; value?: string } }): string =>
  e.command.op === 'put' ? `${e.command.key}=${e.command.value}` : e.command.op === 'noop' ? 'no-op' : `${e.command.op} ${e.command.key}`


export const fateText = (e: EndedFlight): string =>
  e.fate === 'partition' ? `${shortLabel(e.flight.message)} from ${e.flight.from} did not cross the cut link to ${e.flight.to}`
    : e.fate === 'down' ? `${shortLabel(e.flight.message)} reached ${e.flight.to} while it was down`
      : e.fate === 'dropped' ? `${shortLabel(e.flight.message)} dropped by you`
        : e.fate === 'lost' ? `${shortLabel(e.flight.message)} from ${e.flight.from} lost by the network` : 'delivered'
