/**
 * `npm run bench:persist`: what one step's persist costs, in memory and on disk. The workload is a
 * leader's: each event appends one put entry (one record, one write, one fdatasync on disk), and
 * every 100th event also changes the hard state (a new term). Median, p99 and events per second.
 *
 * The command is src/cli/bench-persist.ts.
 */
import { performance } from 'node:perf_hooks'
import * as O from 'fp-ts/Option'
import type { HardState, LogWrite } from '../domain/effect'
import type { Entry, NodeId } from '../domain/wire'
import type { Storage } from '../runtime/storage'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

export const ME = '0000' as NodeId
export const PEERS = ['0001', '0002', '0003', '0004'] as NodeId[]

/** The i-th event's writes (i from 1): a put entry at index i, a new term every 100 events. */
export const workload = (i: number): { hardState: HardState | undefined; log: LogWrite } => {
  const term = Math.floor((i - 1) / 100) + 1
  const entry: Entry = {
    term,
    command: { op: 'put', key: `key-${i % 50}`.padEnd(32, 'k'), value: `${i}`.padStart(32, '0'), client: '0015' as NodeId, MID: `mid-${i}`.padEnd(16, 'm') },
  }
  return { hardState: i % 100 === 1 ? { currentTerm: term, votedFor: O.some(ME) } : undefined, log: { from: i, entries: [entry] } }
}

export interface PersistFigures {
  readonly store: string
  readonly events: number
  readonly medianMicros: number
  readonly p99Micros: number
  readonly eventsPerSecond: number
}

export const measure = (store: string, storage: Storage, events: number): PersistFigures => {
  const micros: number[] = []
  const began = performance.now()
  for (let i = 1; i <= events; i++) {
    const { hardState, log } = workload(i)
    const t0 = performance.now()
    storage.persist(hardState, log)
    micros.push((performance.now() - t0) * 1000)
  }
  const seconds = (performance.now() - began) / 1000
  const sorted = sortedAscending(micros)
  return {
    store,
    events,
    medianMicros: quantileOfSorted(sorted, 0.5)!,
    p99Micros: quantileOfSorted(sorted, 0.99)!,
    eventsPerSecond: events / seconds,
  }
}
