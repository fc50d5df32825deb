/** Scenario files are refused with messages that name the field, the value and what is expected. */
import { describe, expect, it } from 'vitest'
import { decodeScenario, ScenarioError } from '../../src/sim/scenario'

const BENCHMARKS = { total_msgs: [1, 2, 3], failures: [1, 2, 3], duplicates: [1, 2, 3], median_latency: [1, 2, 3] }
const valid = { lifetime: 30, replicas: 5, requests: 100, tests: { benchmarks: BENCHMARKS } }

const refusal = (json: unknown): string => {
  try {
    decodeScenario('s', json)
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError)
    return (error as Error).message
  }
  throw new Error('decoded')
}

describe('scenario files (docs/protocol.md, "Scenario files")', () => {
  it('decodes a valid file with the protocol defaults', () => {
    expect(decodeScenario('s', valid)).toMatchObject({ mix: 0.8, drops: 0, startWait: 5, endWait: 2, maxPackets: 20000, maxGetFailFraction: 0.5 })
  })

  it('requires tests, as the course\'s simulator does, and says so in one line', () => {
    const message = refusal({ lifetime: 30, replicas: 5, requests: 100 })
    expect(message).toMatch(/^s: field "tests": missing; expected an object with "benchmarks"/)
    expect(message).not.toMatch(/Partial</)
  })

  it('requires a lifetime of at least 5 whole seconds', () => {
    expect(refusal({ ...valid, lifetime: 3 })).toMatch(/field "lifetime": expected a whole number of seconds, at least 5, got 3/)
    expect(refusal({ ...valid, lifetime: 7.5 })).toMatch(/got 7.5/)
    expect(refusal({ ...valid, lifetime: '30' })).toMatch(/field "lifetime": .* got "30"/)
  })

  it('lists every bad field, each with its value', () => {
    const message = refusal({ ...valid, replicas: 2, drops: 1.5, tests: { benchmarks: { ...BENCHMARKS, failures: [1, 2] } }, events: [{ type: 'kill', time: 1 }] })
    expect(message).toContain('field "replicas": expected a whole number from 3 to 21, got 2')
    expect(message).toContain('field "drops": expected a fraction from 0 to 1, got 1.5')
    expect(message).toContain('field "tests.benchmarks.failures": expected three numbers, the bonus, full and partial thresholds: [b, f, p], got [1,2]')
    expect(message).toContain('field "events.0.type": expected one of kill_leader, kill_non_leader, part_easy, part_hard, part_end, restart, got "kill"')
  })

  it('refuses what the course refuses across fields: waits and event times beyond the lifetime, max_packets below the requests', () => {
    const message = refusal({ ...valid, start_wait: 40, max_packets: 50, events: [{ type: 'kill_leader', time: 31 }] })
    expect(message).toContain('field "start_wait": expected at most the lifetime (30 s), got 40')
    expect(message).toContain('field "events.0.time": expected at most the lifetime (30 s), got 31')
    expect(message).toContain('field "max_packets": expected from the number of requests (100) to 900000, got 50')
  })
})
