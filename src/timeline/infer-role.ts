/**
 * kvsim sees only datagrams, so a replica's role and term are inferred from what it sends:
 *
 * - every datagram's `leader` field is the sender's idea of the leader: naming itself means it
 *   leads, naming anyone else (or FFFF) means it does not;
 * - `append` (AppendEntries) comes from a leader, in its term;
 * - `vote` with `pre` is a pre-vote for the term after the sender's; without, a candidacy in `term`;
 * - a reply's `term` is the sender's current term, except a granted pre-vote's, which is the
 *   term asked about; a granted real vote means the sender follows in that term;
 * - a higher term than known means the sender moved on to it (as a follower unless it says more).
 *
 * Unknown types and fields are ignored: the inference only ever refines what is drawn.
 */
import { BROADCAST } from '../domain/wire'
import type { LaneRole } from './model'

export interface RoleGuess {
  readonly role: LaneRole
  readonly term: number | null
}


export function inferRole(previous: RoleGuess, message: Readonly<Record<string, unknown>>): RoleGuess {
  const src = message['src']
  const type = message['type']
  const leader = message['leader']
  const term = typeof message['term'] === 'number' && Number.isInteger(message['term']) ? (message['term'] as number) : null
  const known = previous.term
  const higher = term !== null && (known === null || term > known)
  const claimsLead = typeof leader === 'string' && leader === src && leader !== BROADCAST

  switch (type) {
    case 'append':
      if (term !== null) return { role: 'leader', term }
      break
    case 'vote':
      if (term === null) break
      if (message['pre'] === true) return { role: 'preCandidate', term: Math.max(term - 1, known ?? 0) }
      return { role: 'candidate', term }
    case 'voteReply': {
      if (term === null) break
      const granted = message['granted'] === true
      if (message['pre'] === true) {
        if (granted) break // the term asked about, not the sender's
        if (higher) return { role: 'follower', term }
        break
      }
      if (granted) return { role: 'follower', term }
      if (higher) return { role: 'follower', term }
      break
    }
    case 'appendReply':
      if (term === null) break
      if (higher) return { role: 'follower', term }
      if (message['success'] === true && previous.role !== 'leader') return { role: 'follower', term }
      break
    default:
      if (higher) return { role: claimsLead ? 'leader' : 'follower', term }
  }
  // What the leader field says about the sender.
  if (claimsLead && previous.role !== 'leader') return { role: 'leader', term: known }
  if (!claimsLead && previous.role === 'leader' && typeof leader === 'string') return { role: 'follower', term: known }
  if (previous.role === 'starting') return { role: 'follower', term: known }
  return previous
}
