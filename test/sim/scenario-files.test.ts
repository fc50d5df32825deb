/**
 * The scenario files in configs/: every one the bench runs decodes, and the restart scenarios use
 * kvsim's own restart event, each restart after a kill it can undo.
 */
import * as path from 'path'
import { describe, expect, it } from 'vitest'
import { BENCH_SCENARIOS, PUBLIC_SCENARIOS, RESTART_SCENARIOS, repoRoot } from '../../src/sim/paths'
import { loadScenario } from '../../src/sim/scenario'

const load = (name: string) => loadScenario(path.join(repoRoot(), 'configs', `${name}.json`))

describe('configs/', () => {
  it('every bench scenario decodes', () => {
    for (const name of BENCH_SCENARIOS) expect(load(name).name).toBe(name)
  })

  it('the course\'s scenarios never restart a replica', () => {
    for (const name of PUBLIC_SCENARIOS) expect(load(name).events.map((e) => e.type)).not.toContain('restart')
  })

  it('the restart scenarios restart killed replicas, never more than were killed before', () => {
    for (const name of RESTART_SCENARIOS) {
      const events = load(name).events
      let down = 0
      for (const event of events) {
        if (event.type.startsWith('kill')) down++
        if (event.type === 'restart') {
          expect(down, `${name}: a restart at ${event.time} s with nobody down`).toBeGreaterThan(0)
          down--
        }
      }
      expect(events.filter((e) => e.type === 'restart').length).toBeGreaterThanOrEqual(1)
    }
  })
})
