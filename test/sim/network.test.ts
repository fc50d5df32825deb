import { describe, expect, it } from 'vitest'
import { replicaIds } from '../../src/domain/ids'
import { Network } from '../../src/sim/network'
import { Prng } from '../../src/sim/prng'

const ids = replicaIds(5)

describe('Network', () => {
  it('drops about `drops` of the datagrams (seeded, generous bounds)', () => {
    for (const rate of [0, 0.05, 0.15, 0.3]) {
      const network = new Network(ids, rate, new Prng(42))
      let delivered = 0
      const sent = 20000
      for (let i = 0; i < sent; i++) delivered += network.fanOut('0000', '0001').delivered.length
      const observed = 1 - delivered / sent
      expect(Math.abs(observed - rate)).toBeLessThan(0.02)
      expect(network.totalMsgs).toBe(sent)
      expect(network.droppedRandomly).toBe(sent - delivered)
    }
  })

  it('counts a broadcast as replicas - 1 and sends a copy to every other replica', () => {
    const network = new Network(ids, 0, new Prng(1))
    const fanOut = network.fanOut('0002', 'FFFF')
    expect(fanOut.counted).toBe(4)
    expect(fanOut.delivered.sort()).toEqual(['0000', '0001', '0003', '0004'])
    expect(network.totalMsgs).toBe(4)
  })

  it('a partition blocks exactly the cross-partition traffic', () => {
    const network = new Network(ids, 0, new Prng(1))
    network.setPartition(['0000', '0001', '0002'])
    const majority = new Set(['0000', '0001', '0002'])
    for (const src of ids) {
      for (const dst of ids) {
        if (src === dst) continue
        const delivered = network.fanOut(src, dst).delivered.length === 1
        expect(delivered).toBe(majority.has(src) === majority.has(dst))
      }
    }
    const broadcast = network.fanOut('0003', 'FFFF')
    expect(broadcast.delivered).toEqual(['0004'])
    expect(broadcast.droppedByPartition).toBe(3)
    expect(broadcast.counted).toBe(4)
    network.heal()
    expect(network.fanOut('0003', '0000').delivered).toEqual(['0000'])
  })

  it('partitions first, then drops: a separated copy never consumes a random draw', () => {
    const a = new Network(ids, 0.5, new Prng(9))
    const b = new Network(ids, 0.5, new Prng(9))
    a.setPartition(['0000', '0001', '0002'])
    a.fanOut('0000', '0003') // separated: no draw
    expect(a.fanOut('0000', '0001')).toEqual(b.fanOut('0000', '0001'))
  })

  it('tracks the leader from the majority side only while partitioned', () => {
    const network = new Network(ids, 0, new Prng(1))
    network.observeLeader('0004', '0004')
    expect(network.leader).toBe('0004')
    network.setPartition(['0000', '0001', '0002'])
    network.observeLeader('0003', '0003')
    expect(network.leader).toBe('0004')
    network.observeLeader('0001', '0001')
    expect(network.leader).toBe('0001')
  })

  it('draws majorities of replicas // 2 + 1, containing the given leader', () => {
    const network = new Network(ids, 0, new Prng(1))
    const random = new Prng(3)
    for (let i = 0; i < 50; i++) {
      const majority = network.drawMajority(random, '0003')
      expect(majority).toHaveLength(3)
      expect(new Set(majority).size).toBe(3)
      expect(majority).toContain('0003')
    }
    expect(network.drawMajority(random)).toHaveLength(3)
  })
})

describe('Prng', () => {
  it('is reproducible from its seed and stream', () => {
    const a = new Prng(5, 1)
    const b = new Prng(5, 1)
    const c = new Prng(5, 2)
    const seqA = Array.from({ length: 10 }, () => a.nextUint32())
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(seqA)
    expect(Array.from({ length: 10 }, () => c.nextUint32())).not.toEqual(seqA)
  })

  it('stays in range', () => {
    const random = new Prng(11)
    for (let i = 0; i < 1000; i++) {
      const x = random.next()
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
      expect(random.below(7)).toBeLessThan(7)
    }
  })
})
