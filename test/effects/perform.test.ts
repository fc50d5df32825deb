/** The one interpreter of effects that every driver of the reducer shares. */
import { describe, expect, it } from 'vitest'
import { cancelTimer, log, send, setTimer, type Effect } from '../../src/domain/effect'
import { earliestTimer, noTimers, perform, recipients, withTimerEffects } from '../../src/effects/perform'
import type { Message, NodeId } from '../../src/domain/wire'
import { warmUp } from '../../src/runtime/warmup'

const ids = ['0000', '0001', '0002'] as NodeId[]
const from = (src: string, dst: string): Message =>
  ({ src, dst, leader: 'FFFF', type: 'append', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, sentAt: 0 }) as Message

describe('perform', () => {
  it('hands each effect to its action, in order', () => {
    const seen: string[] = []
    const effects: Effect[] = [setTimer('election', 5), send(from('0000', '0001')), log('hi'), cancelTimer('election')]
    perform(effects, {
      send: (m) => seen.push(`send ${m.dst}`),
      setTimer: (t, ms) => seen.push(`set ${t} ${ms}`),
      cancelTimer: (t) => seen.push(`cancel ${t}`),
      log: (text) => seen.push(`log ${text}`),
    })
    expect(seen).toEqual(['set election 5', 'send 0001', 'log hi', 'cancel election'])
  })
})

describe('recipients', () => {
  it('a broadcast goes to every other replica, a unicast to its replica, a reply to a client to none', () => {
    expect(recipients(from('0001', 'FFFF'), ids)).toEqual(['0000', '0002'])
    expect(recipients(from('0001', '0002'), ids)).toEqual(['0002'])
    expect(recipients({ src: '0001', dst: '0015', leader: '0001', type: 'ok', MID: 'm' } as Message, ids)).toEqual([])
  })

  it('a hello goes to the simulator only', () => {
    expect(recipients({ src: '0001', dst: 'FFFF', leader: 'FFFF', type: 'hello' } as Message, ids)).toEqual([])
  })
})

describe('timers in virtual time', () => {
  it('setting a timer that is set moves it; cancelling removes it; other effects change nothing', () => {
    const set = withTimerEffects(noTimers, [setTimer('election', 100), setTimer('heartbeat', 50)], 1000)
    expect(set).toEqual({ election: 1100, heartbeat: 1050 })
    const moved = withTimerEffects(set, [setTimer('election', 300), send(from('0000', '0001'))], 1010)
    expect(moved).toEqual({ election: 1310, heartbeat: 1050 })
    expect(withTimerEffects(moved, [cancelTimer('heartbeat'), cancelTimer('voteRetry')], 1020)).toEqual({ election: 1310 })
    expect(set).toEqual({ election: 1100, heartbeat: 1050 })
  })

  it('the earliest timer fires first, and none when none is set', () => {
    expect(earliestTimer({ election: 30, heartbeat: 20, voteRetry: 25 })).toEqual({ timer: 'heartbeat', at: 20 })
    expect(earliestTimer({ election: 20, voteRetry: 20 })).toEqual({ timer: 'election', at: 20 })
    expect(earliestTimer(noTimers)).toBeUndefined()
  })
})

describe('the start-up warm-up, a driver in virtual time', () => {
  it('elects a leader and commits puts, so that the hot paths are the ones compiled', () => {
    let tick = 0
    const summary = warmUp(2000, Number.POSITIVE_INFINITY, () => tick++)
    expect(summary.events).toBe(2000)
    expect(summary.applied).toBeGreaterThan(50)
  })
})
