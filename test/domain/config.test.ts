import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { defaultSettings, InvalidSettings, standaloneSettings, validateSettings, withSettings } from '../../src/domain/config'
import { initialState } from '../../src/domain/state'
import { MAX_DATAGRAM_BYTES } from '../../src/domain/wire'
import { R } from './helpers'

const problemsOf = (changes: Parameters<typeof withSettings>[1]): readonly string[] => {
  const result = validateSettings(withSettings(defaultSettings, changes))
  return E.isLeft(result) ? result.left : []
}

describe('the replica settings are validated at start-up (config.ts)', () => {
  it('accepts the defaults', () => {
    expect(problemsOf({})).toEqual([])
  })

  it('refuses a minimum election timeout not below the maximum (§5.2: drawn from [min, max])', () => {
    expect(problemsOf({ timing: { electionTimeoutMinMs: 2500, electionTimeoutMaxMs: 2500 } })).toEqual([
      'timing.electionTimeoutMinMs (2500) must be below timing.electionTimeoutMaxMs (2500)',
    ])
  })

  it('refuses a heartbeat not below the minimum election timeout (§5.6: broadcastTime ≪ electionTimeout)', () => {
    expect(problemsOf({ timing: { heartbeatMs: 1500 } })).toEqual(['timing.heartbeatMs (1500) must be below timing.electionTimeoutMinMs (1500)'])
  })

  it('refuses a lease margin not below the minimum election timeout (thesis §6.4.1: no lease would be left)', () => {
    expect(problemsOf({ timing: { leaseMarginMs: 1600 } })).toEqual(['timing.leaseMarginMs (1600) must be below timing.electionTimeoutMinMs (1500)'])
  })

  it('refuses limits that are not positive whole numbers, and probabilities outside (0, 1)', () => {
    expect(problemsOf({ limits: { maxEntriesPerAppend: 0, snapshotEvery: 2.5, voteRetries: -1 }, fanOut: { fastRepairBelow: 1 } })).toEqual([
      'limits.voteRetries must be a whole number, at least 0 (got -1)',
      'limits.maxEntriesPerAppend must be a whole number, at least 1 (got 0)',
      'limits.snapshotEvery must be a whole number, at least 1 (got 2.5)',
      'fanOut.fastRepairBelow must be a probability between 0 and 1, both excluded (got 1)',
    ])
  })

  it('refuses snapshot pieces that could not fit one datagram of MAX_DATAGRAM_BYTES', () => {
    const [problem] = problemsOf({ limits: { snapshotChunkChars: MAX_DATAGRAM_BYTES } })
    expect(problem).toMatch(/^limits.snapshotChunkChars \(60000\) must keep an InstallSnapshot within 60000 bytes/)
  })

  it("refuses a way of confirming reads that is neither the lease nor ReadIndex (from a cluster file's JSON, say)", () => {
    expect(problemsOf({ reads: 'quorum' as never })).toEqual(["reads must be 'lease' or 'readIndex' (got quorum)"])
  })

  it("the course's replica confirms gets with the lease, the real cluster's with ReadIndex (thesis §6.4)", () => {
    expect(defaultSettings.reads).toBe('lease')
    expect(standaloneSettings.reads).toBe('readIndex')
  })

  it('a replica does not start with invalid settings: initialState throws, naming every problem', () => {
    const settings = withSettings(defaultSettings, { timing: { heartbeatMs: 0, leaseMarginMs: 2000 } })
    const starting = () => initialState({ id: R[0], peers: R, seed: 1, settings })
    expect(starting).toThrow(InvalidSettings)
    expect(starting).toThrow(/timing.heartbeatMs must be above 0 \(got 0\)\n.*timing.leaseMarginMs \(2000\) must be below/)
  })
})
