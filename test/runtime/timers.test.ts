/** The runtime's named timers: setting a timer that is already set moves it, later or earlier. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { TimerName } from '../../src/domain/effect'
import { ReplicaRuntime } from '../../src/runtime/replica'
import { NamedTimers } from '../../src/runtime/timers'
import { R, replica } from '../domain/helpers'

describe('NamedTimers', () => {
  let fired: Array<[TimerName, number]>
  let timers: NamedTimers

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
    fired = []
    timers = new NamedTimers(
      () => Date.now(),
      (timer) => fired.push([timer, Date.now()]),
    )
  })
  afterEach(() => {
    timers.stop()
    vi.useRealTimers()
  })

  it('fires a timer once, after its delay', () => {
    timers.set('election', 100)
    vi.advanceTimersByTime(99)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual([['election', 100]])
    vi.advanceTimersByTime(1000)
    expect(fired).toHaveLength(1)
    expect(timers.isSet('election')).toBe(false)
  })

  it('moving a timer later fires it at the new deadline only, with no second Node timer', () => {
    timers.set('election', 100)
    vi.advanceTimersByTime(60)
    timers.set('election', 100)
    vi.advanceTimersByTime(30)
    timers.set('election', 100)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(100 - 1)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual([['election', 190]])
  })

  it('moving a timer earlier fires it at the earlier deadline', () => {
    timers.set('heartbeat', 250)
    vi.advanceTimersByTime(10)
    timers.set('heartbeat', 30)
    vi.advanceTimersByTime(30)
    expect(fired).toEqual([['heartbeat', 40]])
    vi.advanceTimersByTime(500)
    expect(fired).toHaveLength(1)
  })

  it('a cancelled timer never fires, and one set again after it does', () => {
    timers.set('voteRetry', 100)
    timers.cancel('voteRetry')
    vi.advanceTimersByTime(200)
    expect(fired).toEqual([])
    timers.set('voteRetry', 50)
    vi.advanceTimersByTime(50)
    expect(fired).toEqual([['voteRetry', 250]])
  })

  it('keeps timers of different names apart', () => {
    timers.set('election', 100)
    timers.set('heartbeat', 50)
    timers.cancel('heartbeat')
    vi.advanceTimersByTime(100)
    expect(fired).toEqual([['election', 100]])
  })

  it('a timer set again from its own firing fires again', () => {
    const again = new NamedTimers(
      () => Date.now(),
      (timer) => {
        fired.push([timer, Date.now()])
        if (fired.length < 3) again.set(timer, 10)
      },
    )
    again.set('heartbeat', 10)
    vi.advanceTimersByTime(100)
    expect(fired).toEqual([
      ['heartbeat', 10],
      ['heartbeat', 20],
      ['heartbeat', 30],
    ])
    again.stop()
  })
})

describe('a runtime with timers of its own (as the warm-up gives it)', () => {
  it('sets them as the effects say and handles the one that fires', () => {
    const set: Array<[TimerName, number]> = []
    let fire: ((timer: TimerName) => void) | undefined
    const sent: string[] = []
    const runtime = new ReplicaRuntime(replica(R[0]), {
      now: () => 0,
      send: (bytes) => {
        const m = JSON.parse(bytes.toString('utf8'))
        sent.push(m.type === 'hello' ? m.type : `${m.type} to ${m.dst}`)
      },
      trace: undefined,
      timers: (onFire) => {
        fire = onFire
        return { set: (timer, afterMs) => set.push([timer, afterMs]), cancel: () => undefined, stop: () => undefined }
      },
    })
    runtime.start()
    expect(sent).toEqual(['hello'])
    expect(set.map(([timer]) => timer)).toEqual(['election'])
    // The election timeout ends: a pre-vote round starts (thesis §9.6), asked of every peer at once.
    fire!('election')
    expect(runtime.current.role).toBe('preCandidate')
    expect(sent).toEqual(['hello', 'vote to FFFF'])
  })
})
