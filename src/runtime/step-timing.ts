/**
 * Optional measurement of how long `step` takes, by event kind (RAFTKV_STEP_STATS=FILE): the
 * percentiles are appended to FILE when the process exits. A benchmark aid; off by default.
 */
import * as fs from 'node:fs'
import type { Event } from '../domain/events'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

export class StepTimings {
  private readonly samples = new Map<string, number[]>()

  constructor(private readonly file: string, private readonly label: string) {}

  /** How long `step` took on `event`. */
  record(event: Event, micros: number): void {
    this.add(event.kind === 'received' ? `received ${event.message.type}` : event.kind, micros)
  }

  /** How long a whole datagram took, from its bytes to the last effect performed. */
  recordDatagram(type: string, micros: number): void {
    this.add(`datagram ${type}`, micros)
  }

  private add(kind: string, micros: number): void {
    const list = this.samples.get(kind) ?? []
    list.push(micros)
    this.samples.set(kind, list)
  }

  /** Appends one line per event kind: count, median and 90th percentile in microseconds. */
  flush(): void {
    const lines = [...this.samples].map(([kind, list]) => {
      const sorted = sortedAscending(list)
      const at = (q: number) => quantileOfSorted(sorted, q)!.toFixed(0)
      return `${this.label} ${kind.padEnd(20)} n=${sorted.length} p50=${at(0.5)}us p90=${at(0.9)}us\n`
    })
    fs.appendFileSync(this.file, lines.join(''))
  }
}
