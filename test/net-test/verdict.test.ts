import { describe, expect, it } from 'vitest'
import { LeaderWatch, termsWithTwoLeaders } from '../../src/net-test/leaders'
import * as E from 'fp-ts/Either'
import { parseHistory } from '../../src/history/jepsen'
import type { Operation } from '../../src/history/operation'
import type { HistoryEvent } from '../../src/net-test/history'
import { judgeHistory } from '../../src/net-test/judge'
import { availability, countOutcomes, lostWrites, recoveryAfter, verdict } from '../../src/net-test/verdict'

const ms = 1e6
let time = 0
/** A history built op by op: [process, f, key, value, outcome, invoked ms, completed ms]. */
const history = (ops: ReadonlyArray<readonly [number, 'read' | 'write' | 'cas', string, unknown, 'ok' | 'fail' | 'info', number, number, unknown?]>): HistoryEvent[] => {
  const events: HistoryEvent[] = []
  for (const [process, f, key, value, type, at, done, result] of ops) {
    events.push({ process, type: 'invoke', f, key, value: (f === 'read' ? null : value) as HistoryEvent['value'], time: at * ms })
    events.push({ process, type, f, key, value: (f === 'read' ? (result ?? null) : value) as HistoryEvent['value'], time: done * ms })
  }
  time = 0
  return events.sort((a, b) => a.time - b.time || time++)
}

/** The history as the harness reads it back: through the project's reader. */
const read = (events: readonly HistoryEvent[]): Operation[] => {
  const parsed = parseHistory(events.map((e) => JSON.stringify(e)).join('\n'))
  if (E.isLeft(parsed)) throw new Error(parsed.left)
  return parsed.right
}

describe('the verdict', () => {
  it('counts operations by kind and outcome, the aimed clients\' apart', () => {
    const ops = read(
      history([
        [0, 'write', 'k', '0-0', 'ok', 0, 10],
        [1, 'read', 'k', null, 'ok', 20, 30, '0-0'],
        [2, 'cas', 'k', { expected: 'x', new: '2-0' }, 'fail', 20, 30],
        [0, 'write', 'k', '0-1', 'info', 40, 3040],
        [500_000, 'read', 'k', null, 'fail', 50, 60],
        [500_001, 'write', 'k', '500001-0', 'ok', 50, 60],
      ]),
    )
    expect(countOutcomes(ops)).toEqual({
      read: { ok: 1, fail: 0, info: 0 },
      write: { ok: 1, fail: 0, info: 1 },
      cas: { ok: 0, fail: 1, info: 0 },
      'aimed read': { ok: 0, fail: 1, info: 0 },
      'aimed write': { ok: 1, fail: 0, info: 0 },
    })
  })

  it('finds an acknowledged write that the final read does not reflect, and none when the final value is the latest', () => {
    const ops = read(
      history([
        [0, 'write', 'k', '0-0', 'ok', 0, 10],
        [1, 'write', 'k', '1-0', 'ok', 20, 30],
      ]),
    )
    expect(lostWrites(ops, [{ key: 'k', value: '1-0' }])).toEqual([])
    const lost = lostWrites(ops, [{ key: 'k', value: '0-0' }])
    expect(lost.map((l) => l.lost.value)).toEqual(['1-0'])
    expect(lostWrites(ops, [{ key: 'k', value: null }]).map((l) => l.lost.value)).toEqual(['0-0', '1-0'])
  })

  it('does not call a write lost when it was concurrent with the one the final read shows', () => {
    const ops = read(
      history([
        [0, 'write', 'k', '0-0', 'ok', 0, 50],
        [1, 'write', 'k', '1-0', 'ok', 10, 60],
      ]),
    )
    expect(lostWrites(ops, [{ key: 'k', value: '0-0' }])).toEqual([])
  })

  it('measures how long after the healing each client is served again (process p + n is client p)', () => {
    const ops = read(
      history([
        [0, 'read', 'k', null, 'ok', 900, 950],
        [1, 'read', 'k', null, 'info', 900, 3900],
        [0, 'read', 'k', null, 'ok', 1000, 1100],
        [3, 'read', 'k', null, 'ok', 1200, 2500],
      ]),
    )
    const recovery = recoveryAfter(ops, 1000, 2)
    expect(recovery.perClient.get(0)).toBe(100)
    expect(recovery.perClient.get(1)).toBe(1500)
    expect(recovery.worstMs).toBe(1500)
    expect(recoveryAfter(ops, 1000, 3).worstMs).toBeUndefined()
  })

  it('draws availability a line per second with the faults in force', () => {
    const ops = read(
      history([
        [0, 'read', 'k', null, 'ok', 100, 200],
        [0, 'read', 'k', null, 'fail', 1100, 1200],
        [0, 'write', 'k', '0-0', 'info', 2100, 2900],
      ]),
    )
    const rows = availability(ops, [{ id: 1, description: 'x', startedAt: 500, healedAt: 1500 }], 3000)
    expect(rows.map((r) => [r.second, r.ok, r.fail, r.info, r.faults])).toEqual([
      [0, 1, 0, 0, [1]],
      [1, 0, 1, 0, [1]],
      [2, 0, 0, 1, []],
    ])
  })

  it('passes a clean run and fails one with a crash, a lost write, a slow recovery or a violation, naming each', () => {
    const events = history([
      [0, 'write', 'k', '0-0', 'ok', 0, 10],
      [0, 'write', 'k', '0-1', 'ok', 2000, 2010],
      [1, 'read', 'k', null, 'ok', 2020, 2030, '0-1'],
    ])
    const base = {
      seed: 1,
      durationMs: 3000,
      operations: read(events),
      faults: [],
      finals: [{ key: 'k', value: '0-1' }],
      unexpectedExits: [],
      clients: 2,
      healedAtMs: 1500,
      recoveryBoundMs: 1000,
      checker: judgeHistory(read(events)),
    }
    const clean = verdict(base)
    expect(clean.failures).toEqual([])
    expect(clean.passed).toBe(true)
    expect(clean.text).toContain('PASS')
    const bad = verdict({
      ...base,
      finals: [{ key: 'k', value: '0-0' }],
      unexpectedExits: [{ replica: 'r2', code: 1, signal: null, at: 1200, tail: '' }],
      recoveryBoundMs: 100,
      checker: { ok: false, key: 'k', reason: 'no linearization' },
    })
    expect(bad.passed).toBe(false)
    expect(bad.failures.join('\n')).toMatch(/not linearizable: key k/)
    expect(bad.failures.join('\n')).toMatch(/lost write: k <- "0-1"/)
    expect(bad.failures.join('\n')).toMatch(/replica r2 exited by itself/)
    expect(bad.failures.join('\n')).toMatch(/beyond the bound/)
    // Two replicas that each said they led in one term: a failure even with a linearizable history.
    const twoLeaders = verdict({
      ...base,
      leaders: [
        { term: 2, replica: 1, atMs: 100 },
        { term: 3, replica: 4, atMs: 900 },
        { term: 3, replica: 2, atMs: 1000 },
      ],
    })
    expect(twoLeaders.failures).toEqual(['two leaders in term 3 (Election Safety, §5.2): r4 (first seen 0.9s) and r2 (first seen 1.0s)'])
    expect(twoLeaders.text).toMatch(/leaders: 2 terms with a leader seen in the replicas' status; TWO IN ONE TERM: term 3: r4, r2/)
    expect(verdict({ ...base, leaders: [{ term: 2, replica: 1, atMs: 100 }, { term: 3, replica: 4, atMs: 900 }] }).text).toMatch(/never two in one term/)
  })
})

describe('watching the leaders', () => {
  it('remembers each replica that said it led in a term, first sighting only; ignores followers and answers it cannot read', () => {
    const watch = new LeaderWatch()
    watch.observe(1, { role: 'leader', term: 2 }, 100)
    watch.observe(1, { role: 'leader', term: 2 }, 200)
    watch.observe(2, { role: 'follower', term: 2 }, 200)
    watch.observe(3, 'not json', 250)
    watch.observe(3, null, 260)
    watch.observe(3, { role: 'leader', term: 3 }, 300)
    expect(watch.sightings()).toEqual([
      { term: 2, replica: 1, atMs: 100 },
      { term: 3, replica: 3, atMs: 300 },
    ])
    expect(termsWithTwoLeaders(watch.sightings())).toEqual([])
    // A replica that does not answer, then answers as before: both changes are seen.
    watch.unreachable(2, 300)
    watch.unreachable(2, 400)
    watch.observe(2, { role: 'follower', term: 2 }, 500)
    expect(watch.roleChanges().filter((c) => c.replica === 2)).toEqual([
      { replica: 2, atMs: 200, role: 'follower', term: 2 },
      { replica: 2, atMs: 300, role: 'unreachable', term: 2 },
      { replica: 2, atMs: 500, role: 'follower', term: 2 },
    ])
    watch.observe(5, { role: 'leader', term: 3 }, 400)
    expect(termsWithTwoLeaders(watch.sightings())).toEqual([{ term: 3, leaders: [{ term: 3, replica: 3, atMs: 300 }, { term: 3, replica: 5, atMs: 400 }] }])
  })
})

describe('judging a history', () => {
  it('accepts a linearizable history with a cas, and rejects a stale read with its smallest failing window', () => {
    const good = history([
      [0, 'write', 'k', '0-0', 'ok', 0, 10],
      [1, 'cas', 'k', { expected: '0-0', new: '1-0' }, 'ok', 20, 30],
      [2, 'read', 'k', null, 'ok', 40, 50, '1-0'],
    ])
    expect(judgeHistory(read(good)).ok).toBe(true)
    const bad = history([
      [0, 'write', 'k', '0-0', 'ok', 0, 10],
      [2, 'read', 'k', null, 'ok', 15, 18, '0-0'],
      [1, 'write', 'k', '1-0', 'ok', 20, 30],
      [2, 'read', 'k', null, 'ok', 40, 50, '1-0'],
      [0, 'write', 'k', '0-1', 'ok', 60, 70],
      [1, 'read', 'k', null, 'ok', 80, 90, '1-0'],
      [2, 'read', 'k', null, 'ok', 100, 110, '0-1'],
    ])
    const result = judgeHistory(read(bad))
    expect(result.ok).toBe(false)
    expect(result.key).toBe('k')
    // The window starts after the first writes and ends at the stale read.
    expect(result.window?.fromMs).toBe(50)
    expect(result.window?.toMs).toBe(90)
    expect(result.window?.operations).toHaveLength(2)
    expect(result.window?.operations.join('\n')).toMatch(/write "0-1"[\s\S]*read -> "1-0"/)
  })
})
