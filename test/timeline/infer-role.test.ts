import { describe, expect, it } from 'vitest'
import { inferRole, type RoleGuess } from '../../src/timeline/infer-role'

const follower1: RoleGuess = { role: 'follower', term: 1 }
const leader2: RoleGuess = { role: 'leader', term: 2 }
const from = (src: string, fields: Record<string, unknown>) => ({ src, dst: '0001', leader: 'FFFF', ...fields })

describe('a replica\'s role and term, inferred from what it sends', () => {
  it('AppendEntries comes from a leader, in its term', () => {
    expect(inferRole(follower1, from('0000', { type: 'append', leader: '0000', term: 3 }))).toEqual({ role: 'leader', term: 3 })
  })

  it('a pre-vote asks about the next term without taking it; a vote request is a candidacy in its term', () => {
    expect(inferRole(follower1, from('0000', { type: 'vote', term: 2, pre: true }))).toEqual({ role: 'preCandidate', term: 1 })
    expect(inferRole(follower1, from('0000', { type: 'vote', term: 2, pre: false }))).toEqual({ role: 'candidate', term: 2 })
  })

  it('a granted pre-vote carries the term asked about, not the sender\'s: nothing changes', () => {
    expect(inferRole(follower1, from('0000', { type: 'voteReply', term: 5, granted: true, pre: true }))).toEqual(follower1)
  })

  it('a granted vote means following in that term; a refusal with a higher term means moving on to it', () => {
    expect(inferRole({ role: 'preCandidate', term: 1 }, from('0000', { type: 'voteReply', term: 2, granted: true, pre: false }))).toEqual({ role: 'follower', term: 2 })
    expect(inferRole(follower1, from('0000', { type: 'voteReply', term: 4, granted: false, pre: true }))).toEqual({ role: 'follower', term: 4 })
  })

  it('a leader that refuses a stale AppendEntries in its own term stays leader; a candidate that accepts one follows', () => {
    expect(inferRole(leader2, from('0000', { type: 'appendReply', leader: '0000', term: 2, success: false }))).toEqual(leader2)
    expect(inferRole({ role: 'candidate', term: 2 }, from('0000', { type: 'appendReply', leader: '0002', term: 2, success: true }))).toEqual({ role: 'follower', term: 2 })
    expect(inferRole(leader2, from('0000', { type: 'appendReply', leader: '0003', term: 3, success: true }))).toEqual({ role: 'follower', term: 3 })
  })

  it('the leader field: a leader naming someone else has stepped down; a replica naming itself leads', () => {
    expect(inferRole(leader2, from('0000', { type: 'redirect', leader: '0004', MID: 'x' }))).toEqual({ role: 'follower', term: 2 })
    expect(inferRole(follower1, from('0000', { type: 'ok', leader: '0000', MID: 'x' }))).toEqual({ role: 'leader', term: 1 })
    expect(inferRole(follower1, from('0000', { type: 'ok', leader: '0003', MID: 'x' }))).toEqual(follower1)
  })

  it('a starting replica that sends anything is up; unknown types and malformed terms change nothing else', () => {
    expect(inferRole({ role: 'starting', term: null }, from('0000', { type: 'whatever' }))).toEqual({ role: 'follower', term: null })
    expect(inferRole(follower1, from('0000', { type: 'append', leader: '0000', term: 'seven' }))).toEqual({ role: 'leader', term: 1 })
    expect(inferRole(follower1, from('0000', { type: 'forward', puts: [] }))).toEqual(follower1)
  })
})
