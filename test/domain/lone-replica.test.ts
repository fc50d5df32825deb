/**
 * A cluster of one replica (etcd allows a one-member cluster; `raftkv serve` with one replica in
 * its --peers). §5.2: "A candidate wins an election if it receives votes from a majority of the
 * servers in the full cluster": of one, its own. Figure 2, leaders: "If there exists an N such
 * that N > commitIndex, a majority of matchIndex[i] ≥ N, and log[N].term == currentTerm: set
 * commitIndex = N": a majority of one is the leader's own log, so what it appends commits at once.
 */
import { describe, expect, it } from 'vitest'
import { standaloneSettings } from '../../src/domain/config'
import { CLIENT, deliver, fire, put, R, replica, repliesTo, start, get } from './helpers'

const [ME] = R

const electedAlone = () => {
  const started = start(replica(ME, { peers: [ME], settings: standaloneSettings }), 0)
  return fire(started.state, 5_000, 'election')
}

describe('a lone replica', () => {
  it('elects itself when its election timer fires, and commits its no-op at once', () => {
    const { state, sent } = electedAlone()
    expect(state.role).toBe('leader')
    expect(state.persistent.currentTerm).toBe(1)
    expect(state.commitIndex).toBe(1)
    expect(state.lastApplied).toBe(1)
    expect(sent).toEqual([])
  })

  it('commits and answers a put in the step that appends it, and answers a get (ReadIndex: a majority of one)', () => {
    const leader = electedAlone().state
    const written = deliver(leader, 5_010, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }))
    expect(written.state.commitIndex).toBe(2)
    expect(repliesTo(written.sent, 'p1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'p1' }])
    const read = deliver(written.state, 5_020, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(repliesTo(read.sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: 'v' }])
  })
})
