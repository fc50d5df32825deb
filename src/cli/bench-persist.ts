/** `npm run bench:persist`: what one step's persist costs, in memory and on disk (src/bench/persist-bench.ts). */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { measure, ME, PEERS } from '../bench/persist-bench'
import { DiskStorage } from '../runtime/disk-storage'
import { MemoryStorage } from '../runtime/storage'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'

export const command = {
  name: 'bench:persist',
  invocation: 'npm run bench:persist --',
  summary: "What one step's persist costs, in memory and in the replica's record file (one write and one fdatasync per\nevent): a leader's workload, one put entry per event and a new term every 100. Median, p99, events per second.",
  synopsis: '[options]',
  options: {
    events: { kind: 'int', min: 1, default: 2000, help: 'events persisted in each store' },
    dir: { kind: 'string', value: 'DIR', help: 'where the data directory goes (default: the temporary folder)' },
  },
} as const satisfies CommandSpec<OptionSpecs>

export const main = ({ options }: ParsedCommand<typeof command.options>): number => {
  const { events } = options
  const parent = options.dir ?? os.tmpdir()
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
  return 0
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
