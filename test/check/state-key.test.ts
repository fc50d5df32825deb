/**
 * The explorer's state key (issue 9): every field has a declared treatment (./state-key), and states
 * that can behave differently get different keys, while states that differ only in when they are
 * observed get the same one.
 */
import { describe, expect, it } from 'vitest'
import { FIELD_POLICIES, IGNORED_FIELDS, TIME_FIELDS, TIME_LIST_FIELDS } from '../../src/check/state-key'
import { WorldKeys } from '../../src/check/world-key'
import { freshProgress } from '../../src/domain/progress'
import { defaultSettings } from '../../src/domain/config'
import { initialState, type ReplicaState } from '../../src/domain/state'
import type { NodeId } from '../../src/domain/wire'

const formOf = () => {
  const keys = new WorldKeys(defaultSettings)
  return (value: object, now: number): number => keys.formId(value, now)
}

const ids = ['0000', '0001', '0002'] as NodeId[]
const leader = (changes: Partial<ReplicaState>): ReplicaState => ({
  ...initialState({ id: ids[0]!, peers: ids, seed: 1 }),
  role: 'leader',
  progress: { '0001': freshProgress(2), '0002': freshProgress(2) },
  ...changes,
})

describe("the explorer's state key", () => {
  it('leaves out only what cannot change behaviour: the peers, the settings, the random generator', () => {
    expect([...IGNORED_FIELDS].sort()).toEqual(['peers', 'random', 'settings'])
    expect([...TIME_LIST_FIELDS]).toEqual(['inFlight'])
    for (const time of ['lastLeaderContact', 'leaderSince', 'tickDueAt', 'ackedSentAt', 'lastSentAt', 'forwardedAt', 'at', 'sentAt']) {
      expect(TIME_FIELDS.has(time), time).toBe(true)
    }
    expect(Object.keys(FIELD_POLICIES.replicaState!)).toContain('voteRetriesDone')
  })

  it('gives different keys to states that differ only in the delivery estimate behind the fan-out', () => {
    const form = formOf()
    const lossy = { ...freshProgress(2), answered: 5, lost: 10 }
    const clean = { ...freshProgress(2), answered: 15, lost: 0 }
    const a = leader({ progress: { '0001': lossy, '0002': lossy } })
    const b = leader({ progress: { '0001': clean, '0002': clean } })
    expect(form(a, 1000)).not.toBe(form(b, 1000))
  })

  it('makes the tick and unanswered sends relative to now: the same situation later has the same key', () => {
    const form = formOf()
    const at = (now: number) =>
      leader({
        tickDueAt: now + 250,
        leaderSince: now - 100,
        progress: {
          '0001': { ...freshProgress(2), inFlight: [now - 20, now - 10], lastSentAt: now - 10 },
          '0002': { ...freshProgress(2), inFlight: [now - 5], lastSentAt: now - 5 },
        },
      })
    expect(form(at(5000), 5000)).toBe(form(at(7000), 7000))
    // The same absolute times seen at another moment are another situation.
    expect(form(at(5000), 5000)).not.toBe(form(at(5000), 5030))
  })
})
