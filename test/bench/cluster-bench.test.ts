/** bench:cluster's summary of several rounds: per system and client count, the medians of its rows. */
import { describe, expect, it } from 'vitest'
import { medianTable, type Measurement } from '../../src/bench/cluster-bench'

const measured = (system: Measurement['system'], clients: number, opsPerSecond: number, p99Ms: number): Measurement => ({
  system,
  clients,
  seconds: 20,
  operations: opsPerSecond * 20,
  errors: clients === 64 ? 1 : 0,
  opsPerSecond,
  p50Ms: p99Ms / 4,
  p99Ms,
  cpu: {},
  loadGeneratorCpu: 0,
})

describe('bench:cluster --rounds', () => {
  it('sums up each system and client count by the median of its rounds, in the order first measured', () => {
    const table = medianTable([
      measured('raftkv', 16, 1000, 80),
      measured('etcd', 16, 900, 30),
      measured('raftkv', 16, 1200, 40),
      measured('etcd', 64, 1500, 90),
      measured('raftkv', 16, 1100, 60),
      measured('etcd', 16, 950, 35),
      measured('etcd', 64, 1700, 70),
    ]).split('\n')
    expect(table.slice(2, 5)).toEqual([
      '| raftkv | 16 | 3 | 1,100 | 15.00 | 60.00 | 0 |',
      // Two rounds: the upper median, as every median of the project (stats/quantile.ts).
      '| etcd | 16 | 2 | 950 | 8.75 | 35.00 | 0 |',
      '| etcd | 64 | 2 | 1,700 | 22.50 | 90.00 | 2 |',
    ])
  })
})
