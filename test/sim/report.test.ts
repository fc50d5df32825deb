import { describe, expect, it } from 'vitest'
import { randomStreams } from '../../src/sim/prng'
import { formatRun, formatTable, resultToJson } from '../../src/sim/report'
import { RunResult } from '../../src/sim/runner'
import { score } from '../../src/sim/scoring'
import { Simulation } from '../../src/sim/simulation'
import { bytes, shortScenario } from './helpers'

/** A finished run, played on the pure core: one put answered ok, then a stale get. */
function fakeRun(stale: boolean, harnessDrops: number | undefined = 0): RunResult {
  const scenario = shortScenario({ requests: 2, mix: 0 })
  const sim = new Simulation(scenario, randomStreams(3))
  for (const id of sim.replicas) sim.onDatagram(id, bytes({ src: id, dst: 'FFFF', leader: 'FFFF', type: 'hello' }), 0)
  const answer = (request: { to: string; bytes: Buffer }, extra: object, at: number) => {
    const m = JSON.parse(request.bytes.toString())
    sim.onDatagram(request.to, bytes({ src: request.to, dst: m.src, leader: 'FFFF', type: 'ok', MID: m.MID, ...extra }), at)
  }
  const [put] = sim.onRequestDue(1) as { to: string; bytes: Buffer }[]
  answer(put!, {}, 1.001)
  if (stale) {
    // Replay the put's client asking for its key, answered with a value never written.
    const client = JSON.parse(put!.bytes.toString())
    sim.clients.history.push({ id: 'x', client: client.src, key: client.key, kind: 'get', value: 'nope', invokedAt: 2, completedAt: 2.1 })
  }
  return {
    scenario, seed: 3, replica: 'fake', score: score(sim), elapsedSeconds: 8, stopReason: 'time is up',
    events: sim.firedEvents, died: sim.died, incorrect: sim.incorrect, unexpectedExits: [], slowExits: [], history: sim.clients.history,
    harnessDrops,
  }
}

describe('reports', () => {
  it('print a failing run with the non-linearizable operations', () => {
    const text = formatRun(fakeRun(true))
    expect(text).toMatch(/\[FAIL\] linearizable/)
    expect(text).toMatch(/get\(\w+\) read nope/)
    expect(text).toMatch(/Result: FAIL/)
  })

  it('say when kvsim itself lost datagrams, and stay quiet when it did not or cannot tell', () => {
    expect(formatRun(fakeRun(false, 12))).toMatch(/kvsim's own sockets dropped 12 datagrams/)
    expect(formatRun(fakeRun(false, 0))).not.toMatch(/own sockets dropped/)
    expect(formatRun(fakeRun(false, undefined))).not.toMatch(/own sockets dropped/)
  })

  it('say how many datagrams full sockets dropped, as the course\'s simulator would have', () => {
    expect(formatRun({ ...fakeRun(false), socketOverflows: 7 })).toMatch(/7 datagrams dropped at full sockets/)
    expect(formatRun({ ...fakeRun(false), socketOverflows: 0 })).not.toMatch(/full sockets/)
  })

  it('print the all table with one row per run and a summary line', () => {
    const table = formatTable([fakeRun(false), fakeRun(true)])
    const lines = table.split('\n')
    expect(lines[0]).toMatch(/scenario\s+result\s+msgs\s+failures\s+dups\s+median lat\s+tiers/)
    expect(lines).toHaveLength(5)
    expect(lines[4]).toMatch(/^\d\/2 correct; tiers: bonus \d+, full \d+, partial \d+, none \d+$/)
  })

  it('serialize to JSON', () => {
    const json = resultToJson(fakeRun(false)) as { scenario: string; stats: object }
    expect(json.scenario).toBe('test')
    expect(JSON.parse(JSON.stringify(json)).stats).toBeDefined()
  })
})
