import { describe, expect, it } from 'vitest'
import { formatSchedule, makeSchedule, isNetworkFault, isTargetedFault, type NemesisOptions, type Schedule } from '../../src/net-test/nemesis'

const options = (overrides: Partial<NemesisOptions> = {}): NemesisOptions => ({
  seed: 1,
  replicas: 5,
  durationMs: 60_000,
  warmupMs: 3_000,
  recoveryMs: 15_000,
  electionTimeoutMaxMs: 1_000,
  clockJumps: true,
  ...overrides,
})

const kinds = (schedule: Schedule): Set<string> =>
  new Set(
    schedule.faults.map(({ fault: f }) =>
      f.kind === 'partition' ? `partition:${f.shape}` : f.kind === 'kill' || f.kind === 'pause' ? `${f.kind}${f.target === 'leader' ? ':leader' : ''}` : f.kind,
    ),
  )

describe('the nemesis schedule', () => {
  it('depends on the seed alone: the same seed prints the same schedule, other seeds others', () => {
    expect(formatSchedule(makeSchedule(options({ seed: 42 })))).toBe(formatSchedule(makeSchedule(options({ seed: 42 }))))
    const printed = new Set(Array.from({ length: 10 }, (_, seed) => formatSchedule(makeSchedule(options({ seed })))))
    expect(printed.size).toBe(10)
  })

  it('over a minute, combines every kind of fault: each partition shape, loss, kills and pauses of a replica and of the leader, clock jumps', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const found = kinds(makeSchedule(options({ seed, targeted: false })))
      for (const kind of ['partition:majority-minority', 'partition:bridge', 'partition:isolate', 'loss', 'kill', 'kill:leader', 'pause', 'pause:leader', 'clock-jump']) {
        expect(found, `seed ${seed}`).toContain(kind)
      }
    }
  })

  it('makes targeted moves between the tracks\' faults: over two minutes each of the three, and still every kind of the tracks', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const found = kinds(makeSchedule(options({ seed, durationMs: 120_000, electionTimeoutMaxMs: 2_500 })))
      for (const kind of ['paused-leader', 'cut-off-leader', 'split-election', 'partition:majority-minority', 'partition:bridge', 'partition:isolate', 'loss', 'kill', 'kill:leader', 'pause', 'pause:leader', 'clock-jump']) {
        expect(found, `seed ${seed}`).toContain(kind)
      }
    }
    // A run of a minute (CI's) makes at least one.
    for (let seed = 1; seed <= 20; seed++) {
      expect(makeSchedule(options({ seed, electionTimeoutMaxMs: 2_500 })).faults.some((f) => isTargetedFault(f.fault)), `seed ${seed}`).toBe(true)
    }
  })

  it('runs each targeted move alone: no other fault overlaps it, and the cluster gets time to settle on either side', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const faults = makeSchedule(options({ seed, durationMs: 300_000, electionTimeoutMaxMs: 2_500 })).faults
      for (const t of faults.filter((f) => isTargetedFault(f.fault))) {
        for (const other of faults.filter((f) => f !== t)) {
          const apart = other.at + other.durationMs + 1_500 <= t.at || t.at + t.durationMs + 1_500 <= other.at
          expect(apart, `seed ${seed}: #${t.id} and #${other.id}`).toBe(true)
        }
      }
    }
  })

  it('pauses the leader of a targeted move at most 80% to 88% of the longest election timeout: past the shortest (60%), short of its own check-quorum timeout', () => {
    for (let seed = 1; seed <= 50; seed++) {
      for (const { fault } of makeSchedule(options({ seed, durationMs: 300_000, electionTimeoutMaxMs: 2_500 })).faults) {
        if (fault.kind !== 'paused-leader') continue
        expect(fault.pauseMs).toBeGreaterThanOrEqual(2_000)
        expect(fault.pauseMs).toBeLessThanOrEqual(2_200)
      }
    }
  })

  it('heals every fault before the recovery time, and starts none during the warm-up', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const schedule = makeSchedule(options({ seed }))
      expect(schedule.healBy).toBe(45_000)
      for (const f of schedule.faults) {
        expect(f.at).toBeGreaterThanOrEqual(3_000)
        expect(f.at + f.durationMs).toBeLessThanOrEqual(schedule.healBy)
      }
    }
  })

  it('keeps one network fault and one process fault at a time, so that they overlap only across tracks', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const faults = makeSchedule(options({ seed })).faults
      for (const track of [true, false]) {
        const mine = faults.filter((f) => isNetworkFault(f.fault) === track)
        for (let i = 1; i < mine.length; i++) expect(mine[i]!.at).toBeGreaterThan(mine[i - 1]!.at + mine[i - 1]!.durationMs)
      }
    }
  })

  it('pauses longer than the longest election timeout, and loses 10% to 40% of a lossy link\'s packets', () => {
    for (let seed = 1; seed <= 50; seed++) {
      for (const { fault, durationMs } of makeSchedule(options({ seed, electionTimeoutMaxMs: 2_000 })).faults) {
        if (fault.kind === 'pause') expect(durationMs).toBeGreaterThan(2_000)
        if (fault.kind === 'loss') for (const l of fault.links) expect(l.probability).toBeGreaterThanOrEqual(0.1), expect(l.probability).toBeLessThanOrEqual(0.4)
      }
    }
  })

  it('splits the replicas as each shape says: a majority and a minority; two sides and one replica in both', () => {
    for (let seed = 1; seed <= 50; seed++) {
      for (const { fault } of makeSchedule(options({ seed })).faults) {
        if (fault.kind !== 'partition' || fault.shape === 'isolate') continue
        const [a, b] = fault.sides
        expect(new Set([...a, ...b]).size).toBe(a.length + b.length)
        if (fault.shape === 'majority-minority') {
          expect(a.length).toBe(3)
          expect(b.length).toBe(2)
        } else {
          expect([...a, ...b]).not.toContain(fault.bridge)
          expect(a.length + b.length).toBe(4)
        }
      }
    }
  })

  it('leaves clock jumps out, and says so, when the runtime cannot move a clock', () => {
    const schedule = makeSchedule(options({ clockJumps: false }))
    expect(kinds(schedule)).not.toContain('clock-jump')
    expect(formatSchedule(schedule)).toContain('no clock jumps')
  })

  it('refuses a run too short for any fault', () => {
    expect(() => makeSchedule(options({ durationMs: 15_000 }))).toThrow(/no time for faults/)
  })
})
