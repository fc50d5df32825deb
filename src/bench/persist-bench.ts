/**
 * `npm run bench:persist`: what one step's persist costs, in memory and on disk. The workload is a
 * leader's: each event appends one put entry (one record, one write, one fdatasync on disk), and
 * every 100th event also changes the hard state (a new term). Median, p99 and events per second.
 *
 *   node dist/src/bench/persist-bench.js [--events N] [--dir DIR]   (DIR: where the data directory goes; default the temporary folder)
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import type { HardState, LogWrite } from '../effects/effect'
import type { Entry, NodeId } from '../domain/wire'
import { DiskStorage } from '../runtime/disk-storage'
import { MemoryStorage, type Storage } from '../runtime/storage'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

const ME = '0000' as NodeId
const PEERS = ['0001', '0002', '0003', '0004'] as NodeId[]

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

const main = (argv: readonly string[]): void => {
  let events = 2000
  let parent = os.tmpdir()
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1]
    if (argv[i] === '--events' && value !== undefined && /^\d+$/.test(value)) events = Number(value)
    else if (argv[i] === '--dir' && value !== undefined) parent = value
    else {
      process.stderr.write('usage: bench:persist [--events N] [--dir DIR]\n')
      process.exit(2)
    }
  }
  const dataDir = fs.mkdtempSync(path.join(parent, 'raftkv-persist-bench-'))
  try {
    const opened = DiskStorage.open(dataDir, { id: ME, peers: PEERS })
    if (E.isLeft(opened)) throw opened.left
    const rows = [measure('memory', new MemoryStorage(), events), measure('disk', opened.right, events)]
    const fileBytes = opened.right.bytes
    opened.right.close()
    console.log(`persist per event, ${events} events (one put entry each, a new term every 100), data in ${parent}`)
    console.log('| store | median | p99 | events/s |')
    console.log('| --- | --- | --- | --- |')
    for (const row of rows) console.log(`| ${row.store} | ${row.medianMicros.toFixed(1)} µs | ${row.p99Micros.toFixed(1)} µs | ${Math.round(row.eventsPerSecond)} |`)
    console.log(`disk file: ${fileBytes} bytes (${(fileBytes / events).toFixed(0)} per event)`)
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

if (require.main === module) main(process.argv.slice(2))
