/**
 * Short real runs (sockets and processes) against the tiny fake replicas in fixtures/.
 * The four runs go concurrently: each lasts start_wait + lifetime + end_wait = 11 s. The fake leader
 * sends replication chatter with its first put, so start_wait must cover every fake's start-up
 * (a datagram routed before a replica's hello counts it as died): 5 s (at most the lifetime), for a machine as loaded as
 * two `npm test` side by side (a Node process then takes seconds to start).
 * They share one process, so they route fast (unpaced): the pacing model's busy waits would hold
 * up all four at once.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { describe, expect, it } from 'vitest'
import { runScenario } from '../../src/sim/runner'
import { shortScenario } from './helpers'

const fixture = (name: string) => path.join(__dirname, 'fixtures', `${name}-replica.js`)

async function run(behaviour: string, overrides: Record<string, unknown> = {}, inCwd: (cwd: string) => void = () => undefined) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsim-test-'))
  try {
    return await runScenario(shortScenario({ lifetime: 5, start_wait: 5, end_wait: 1, requests: 60, ...overrides }), {
      replica: fixture(behaviour),
      seed: 7,
      silent: true,
      cwd,
      pacing: 'fast',
    }).finally(() => inCwd(cwd))
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true })
  }
}

describe.concurrent('kvsim against fake replicas', () => {
  it('passes a correct (single-leader) replica', async () => {
    // With few requests, many early gets find no acknowledged key yet: allow that here.
    const result = await run('good', { tests: { maximum_get_generation_fail_fraction: 0.5 } })
    expect(result.incorrect).toEqual([])
    expect(result.score.checks.filter((c) => !c.ok)).toEqual([])
    expect(result.score.correct).toBe(true)
    expect(result.score.stats.unansweredGets + result.score.stats.unansweredPuts).toBe(0)
  })

  it('catches stale reads as incorrect and non-linearizable', async () => {
    const result = await run('stale', { mix: 0.6, requests: 80 })
    expect(result.score.correct).toBe(false)
    expect(result.score.stats.incorrect).toBeGreaterThan(0)
    expect(result.score.linearizability.ok).toBe(false)
  })

  it('shows requests of a replica that never answers as unanswered', async () => {
    const result = await run('silent')
    expect(result.score.correct).toBe(false)
    const { unansweredGets, unansweredPuts, failures } = result.score.stats
    expect(unansweredGets + unansweredPuts).toBe(60)
    expect(failures).toBe(60)
    expect(result.score.stats.latencySamples).toBe(0)
  })

  it('counts a replica that sends an empty datagram as died', async () => {
    const result = await run('dies')
    expect(result.died.map((d) => d.replica)).toEqual(['0001'])
    expect(result.score.checks.find((c) => c.name === 'no replica died')?.ok).toBe(false)
    expect(result.score.correct).toBe(false)
  })

  // Whom each fake stopped by SIGTERM: a kill event's replica is not among them unless the
  // scenario asks for a graceful stop (every other one is stopped gracefully when the run ends).
  const stoppedBySigterm = async (graceful: boolean) => {
    let stopped: string[] = []
    const events = [{ type: 'kill_non_leader', time: 1 }]
    const result = await run('good', { events, ...(graceful ? { graceful_stop: true } : {}), tests: { maximum_get_generation_fail_fraction: 0.5 } }, (cwd) => {
      stopped = fs.readdirSync(cwd).filter((name) => name.startsWith('stopped-')).map((name) => name.slice('stopped-'.length)).sort()
    })
    const killed = result.events.find((event) => event.type === 'kill_non_leader')!.detail.replace('killed ', '')
    return { killed, stopped, result }
  }

  it('a kill event crashes the replica (SIGKILL: it gets no chance to stop)', async () => {
    const { killed, stopped, result } = await stoppedBySigterm(false)
    expect(killed).toMatch(/^000[1-4]$/)
    expect(stopped).toEqual(['0000', '0001', '0002', '0003', '0004'].filter((id) => id !== killed))
    expect(result.score.stats.killed).toBe(1)
    expect(result.slowExits).toEqual([])
  })

  it('with graceful_stop, a kill event stops the replica with SIGTERM, as the course\'s simulator does', async () => {
    const { stopped } = await stoppedBySigterm(true)
    expect(stopped).toEqual(['0000', '0001', '0002', '0003', '0004'])
  })
})
