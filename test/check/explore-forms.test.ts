/**
 * The explorer's canonical forms: two objects get the same number exactly when their canonical
 * JSON texts (ignored fields left out, times relative to now) are equal, whatever objects they
 * share and whatever was cached before.
 */
import { describe, expect, it } from 'vitest'
import { WorldKeys } from '../../src/check/world-key'
import { defaultSettings } from '../../src/domain/config'
import { initialState, type ReplicaState } from '../../src/domain/state'
import type { Entry, NodeId } from '../../src/domain/wire'

/** The explorer's formId, and the JSON text it stands for. */
const probe = () => {
  const keys = new WorldKeys(defaultSettings)
  return {
    id: (value: object, now: number): number => keys.formId(value, now),
    text: (value: object, now: number): string => JSON.stringify(value, keys.replacer(now)),
  }
}

const ids = ['0000', '0001', '0002'] as NodeId[]
const base = initialState({ id: ids[0]!, peers: ids, seed: 1 })
const entry = (term: number, n: number): Entry => ({ term, command: { op: 'put', MID: `M${n}`, key: `k${n}`, value: `v${n}` } })
const withLog = (s: ReplicaState, entries: Entry[]): ReplicaState =>
  ({ ...s, persistent: { ...s.persistent, log: { ...s.persistent.log, entries } } }) as ReplicaState

describe("the explorer's canonical forms", () => {
  it('give equal objects one number, and objects that differ anywhere, even deep down, different numbers', () => {
    const p = probe()
    const a = withLog(base, [entry(1, 1), entry(1, 2)])
    const sameContents = withLog({ ...base }, [entry(1, 1), entry(1, 2)])
    const deeper = withLog(base, [entry(1, 1), { ...entry(1, 2), command: { ...entry(1, 2).command, value: 'other' } as Entry['command'] }])
    expect(p.id(sameContents, 100)).toBe(p.id(a, 100))
    expect(p.id(deeper, 100)).not.toBe(p.id(a, 100))
    expect(p.id({ ...a, commitIndex: 1 }, 100)).not.toBe(p.id(a, 100))
  })

  it('leave the ignored fields out', () => {
    const p = probe()
    expect(p.id({ ...base, random: 12345 } as ReplicaState, 0)).toBe(p.id(base, 0))
  })

  it('take times relative to now: the same state at another time differs, a shifted one does not', () => {
    const p = probe()
    const heard = { ...base, lastLeaderContact: 900, leaderSince: 500 } as ReplicaState
    expect(p.id(heard, 1_000)).not.toBe(p.id(heard, 1_100))
    // Every time shifted by the same 100 ms (the leader's tick, due at 0 in `base`, included).
    const shifted = { ...base, lastLeaderContact: 1_000, leaderSince: 600, tickDueAt: base.tickDueAt + 100 } as ReplicaState
    expect(p.id(shifted, 1_100)).toBe(p.id(heard, 1_000))
    // A time older than the horizon reads as 'old' whatever its value.
    const horizon = defaultSettings.timing.electionTimeoutMaxMs + defaultSettings.timing.heartbeatMs
    expect(p.id({ ...base, lastLeaderContact: 0 } as ReplicaState, horizon + 1)).toBe(p.id({ ...base, lastLeaderContact: 5 } as ReplicaState, horizon + 6 + 1_000))
  })

  it('agree with the JSON texts on many states, whatever was cached first', () => {
    const p = probe()
    const states: ReplicaState[] = []
    for (let i = 0; i < 40; i++) {
      const log = Array.from({ length: i % 4 }, (_, k) => entry(1 + (k % 2), k + (i % 3)))
      states.push({ ...withLog(base, log), commitIndex: i % 2, lastLeaderContact: i % 5 === 0 ? Number.NEGATIVE_INFINITY : 50 * (i % 7) } as ReplicaState)
    }
    const byText = new Map<string, number>()
    const byId = new Map<number, string>()
    for (const now of [0, 100, 350, 0, 100]) {
      for (const s of states) {
        const id = p.id(s, now)
        const text = p.text(s, now)
        expect(byText.get(text) ?? id).toBe(id)
        expect(byId.get(id) ?? text).toBe(text)
        byText.set(text, id)
        byId.set(id, text)
      }
    }
    // The states are not all alike: the check above compared many distinct texts.
    expect(byText.size).toBeGreaterThan(40)
  })
})
