import { describe, expect, it } from 'vitest'
import { defaultSettings } from '../../src/domain/config'
import { longRun } from '../../src/check/long-run'

describe('a long run through the reducer (§7: "the log does not grow without bound")', () => {
  it('keeps every replica\'s log between one and two compaction periods long, while every check passes', () => {
    const { result, samples } = longRun({ puts: 7_000, sampleEvery: 1_000, seed: 3 })
    expect(result.failure).toBeUndefined()
    expect(samples.length).toBeGreaterThanOrEqual(6)
    // A few entries may wait to be applied beyond the applied ones the log keeps.
    for (const s of samples) expect(s.most.entries).toBeLessThanOrEqual(2 * defaultSettings.limits.snapshotEvery + 50)
    // Once compaction has begun, the log holds at least one period of applied entries for followers a little behind.
    for (const s of samples.filter((x) => x.applied >= 3 * defaultSettings.limits.snapshotEvery)) {
      expect(s.most.entries).toBeGreaterThanOrEqual(defaultSettings.limits.snapshotEvery)
    }
    // Every put's MID is remembered (far fewer than a generation).
    const last = samples[samples.length - 1]!
    expect(last.most.mids).toBeGreaterThan(last.applied * 0.8)
  })
})
