/**
 * Runs for the timeline tests, made without processes or sockets:
 * - kvsim's Simulation driven by scripted fake replicas in virtual time (a leader in term 1, a
 *   partition, the leader killed, a candidate elected in term 2, and one get answered wrongly);
 * - a check:sim seed that fails (the deposed-leader mutant).
 */
import { simulate, sweepOptions } from '../../src/check/cluster'
import type { MutantName } from '../../src/check/mutants'
import { sweepBase } from '../../src/check/sweep'
import { replicaIds } from '../../src/domain/ids'
import { randomStreams } from '../../src/sim/prng'
import type { RunResult } from '../../src/sim/runner'
import { score } from '../../src/sim/scoring'
import { Effect, Simulation } from '../../src/sim/simulation'
import { checkSimTimeline, type CheckSimTimeline } from '../../src/timeline/check-sim'
import { KvsimTimeline } from '../../src/timeline/kvsim'
import type { TimelineData } from '../../src/timeline/model'
import { shortScenario } from '../sim/helpers'

const json = (m: object): Buffer => Buffer.from(JSON.stringify(m))

export interface ScriptedRun {
  readonly sim: Simulation
  readonly result: RunResult
  readonly data: TimelineData
  /** The MID of the get that was answered with a wrong value, if one was. */
  readonly wrongMid: string | undefined
}

/**
 * kvsim with fake replicas: `wrongGet` is the number of the get (counting from 0) that the leader
 * answers with a wrong value; `observe` false runs without an observer (to compare scores).
 */
export function scriptedKvsimRun(options: { wrongGet?: number; observe?: boolean; replicas?: number } = {}): ScriptedRun {
  const replicas = options.replicas ?? 5
  const scenario = shortScenario({
    replicas, lifetime: 6, requests: 120, mix: 0.6, start_wait: 1, end_wait: 1, drops: 0.05, seed: 4,
    events: [{ type: 'part_hard', time: 1 }, { type: 'part_end', time: 2 }, { type: 'kill_leader', time: 3 }],
  })
  const timeline = options.observe === false ? undefined : new KvsimTimeline(replicaIds(replicas))
  const sim = new Simulation(scenario, randomStreams(4), timeline)
  const ids = sim.replicas
  let leader = ids[0]!
  let term = 1
  let gets = 0
  let wrongMid: string | undefined
  const store = new Map<string, string>()
  let now = 0

  /** What a fake replica does with a datagram kvsim delivers to it. */
  const handle = (effects: Effect[]): void => {
    const queue = [...effects]
    for (let guard = 0; queue.length > 0; guard++) {
      if (guard > 10_000) throw new Error('the fake replicas loop')
      const effect = queue.shift()!
      if (effect.type !== 'send') continue
      const to = effect.to
      const m = JSON.parse(effect.bytes.toString()) as Record<string, string>
      const reply = (message: object): void => void queue.push(...sim.onDatagram(to, json(message), now))
      if (m['type'] === 'get' || m['type'] === 'put') {
        const base = { src: to, dst: m['src'], leader, MID: m['MID'] }
        if (to !== leader) {
          // With the leader gone a follower holds the request (here: forever, so it stays unanswered).
          if (sim.living().includes(leader)) reply({ ...base, type: 'redirect' })
        } else if (m['type'] === 'put') {
          store.set(m['key']!, m['value']!)
          reply({ ...base, type: 'ok' })
        } else {
          const wrong = gets++ === options.wrongGet
          if (wrong) wrongMid = m['MID']
          reply({ ...base, type: 'ok', value: wrong ? 'not-the-value' : (store.get(m['key']!) ?? '') })
        }
      } else if (m['type'] === 'append') {
        reply({ src: to, dst: m['src'], leader: m['src'], type: 'appendReply', term: m['term'], success: true })
      } else if (m['type'] === 'vote') {
        reply({ src: to, dst: m['src'], leader: 'FFFF', type: 'voteReply', term: m['term'], granted: true, pre: false })
      }
    }
  }

  const start = scenario.startWait
  const interval = scenario.lifetime / scenario.requests
  const requestTimes = Array.from({ length: scenario.requests }, (_, i) => start + i * interval)
  const events = scenario.events.map((e) => ({ at: start + e.time, type: e.type }))
  const end = start + scenario.lifetime + scenario.endWait
  for (const id of ids) sim.onDatagram(id, json({ src: id, dst: 'FFFF', leader: 'FFFF', type: 'hello' }), 0.05)
  let killedAt: number | undefined
  for (let step = 10; step * 0.01 <= end; step++) {
    now = Math.round(step * 10) / 1000
    while (events.length > 0 && events[0]!.at <= now) {
      const event = events.shift()!
      handle(sim.onEvent(event.type, now))
      if (event.type === 'kill_leader') killedAt = now
    }
    // 300 ms after the kill, 0001 campaigns (term 2) and leads.
    if (killedAt !== undefined && now >= killedAt + 0.3 && leader === ids[0]) {
      leader = ids[1]!
      term = 2
      handle(sim.onDatagram(leader, json({ src: leader, dst: 'FFFF', leader: 'FFFF', type: 'vote', term, lastLogIndex: 0, lastLogTerm: 0, pre: false }), now))
    }
    if (step % 5 === 0 && (killedAt === undefined || leader !== ids[0])) {
      handle(sim.onDatagram(leader, json({ src: leader, dst: 'FFFF', leader, type: 'append', term, entries: [] }), now))
    }
    while (requestTimes.length > 0 && requestTimes[0]! <= now) {
      requestTimes.shift()
      handle(sim.onRequestDue(now))
    }
  }
  sim.stopReason = 'time is up'
  const result: RunResult = {
    scenario, seed: 4, replica: 'fake', score: score(sim), elapsedSeconds: end, stopReason: 'time is up',
    events: sim.firedEvents, died: sim.died, incorrect: sim.incorrect, unexpectedExits: [], slowExits: [],
    history: sim.clients.history, harnessDrops: 0,
  }
  const data = timeline === undefined ? (undefined as unknown as TimelineData) : timeline.build(result)
  return { sim, result, data, wrongMid }
}

/**
 * The first check:sim seed (from 1) that fails with this mutant, and its timeline. The seed is
 * searched for rather than fixed, so that a change to the reducer that moves the bug to another
 * seed does not break the timeline's tests.
 */
export function failingCheckSimRun(
  mutant: MutantName = 'get-from-deposed-leader',
  invariant: RegExp = /Get returns the latest acknowledged put/,
): CheckSimTimeline & { seed: number } {
  for (let seed = 1; seed <= 300; seed++) {
    const options = sweepOptions(seed, sweepBase({ seconds: 20, replicas: undefined, mutant, freeze: false }))
    const plain = simulate(options)
    if (plain.failure !== undefined && invariant.test(plain.failure.invariant)) {
      return { seed, ...checkSimTimeline(options, `mutant ${mutant}`) }
    }
  }
  throw new Error(`no seed up to 300 fails ${invariant} with the mutant ${mutant}`)
}
