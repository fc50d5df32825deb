/**
 * The thesis's rules of single-server membership changes (ch. 4), checked as such: a replica uses
 * the latest configuration in its log (§4.1), and a leader makes one configuration change at a time.
 */
import { entryAt, lastIndex } from '../domain/log'
import { carriesConfiguration, configurationAt, describeConfiguration, isConfigEntry, sameConfiguration } from '../domain/membership'
import type { ReplicaState } from '../domain/state'
import type { InvariantHistory } from './invariant-history'
import type { Violation } from './violation'

/**
 * §4.1: the configuration a replica uses is the latest in its log, committed or not (else its
 * snapshot's, else the cluster's first), kept from the configuration entries' indexes, which
 * change only where the log changed. And a leader appends a configuration entry only when the
 * configuration entries before it, and an entry of its own term, are committed.
 */
export const configurationFromLog = (h: InvariantHistory, before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined => {
  const log = after.persistent.log
  const changed = before === undefined || before.persistent.log !== log
  if (!changed && before.configuration === after.configuration && before.persistent.snapshotConfiguration === after.persistent.snapshotConfiguration) {
    return undefined
  }
  const known = before === undefined ? [] : (h.configIndexes.get(after.id) ?? [])
  // The common step: entries appended after the last configuration entry, none of them one.
  if (
    before !== undefined &&
    before.configuration === after.configuration &&
    before.persistent.snapshotConfiguration === after.persistent.snapshotConfiguration &&
    (known.length === 0 || known[known.length - 1]! < firstChange) &&
    !carriesConfiguration(log.entries.slice(Math.max(0, firstChange - log.snapshotIndex - 1)))
  ) {
    return undefined
  }
  const kept = known.filter((i) => i < firstChange && i > log.snapshotIndex)
  const added: number[] = []
  for (let i = Math.max(firstChange, log.snapshotIndex + 1); i <= lastIndex(log); i++) if (isConfigEntry(entryAt(log, i)!)) added.push(i)
  const indexes = [...kept, ...added]
  if (indexes.length !== known.length || indexes.some((index, k) => known[k] !== index)) {
    h.own()
    h.configIndexes.set(after.id, indexes)
  }
  const latest = indexes[indexes.length - 1]
  const expected =
    latest === undefined ? (after.persistent.snapshotConfiguration ?? after.initialConfiguration) : configurationAt(log, after.initialConfiguration, latest)
  if (!sameConfiguration(expected, after.configuration)) {
    return {
      invariant: 'Configuration from the log',
      detail: `${after.id} uses ${describeConfiguration(after.configuration)}, but the latest configuration in its log${latest === undefined ? ' (none: its snapshot\'s or the first)' : ` (at ${latest})`} is ${describeConfiguration(expected)}`,
    }
  }
  // The leader's own appends: entries of its term after its log's end before this step.
  if (before === undefined || after.role !== 'leader' || before.role !== 'leader' || added.length === 0) return undefined
  const term = after.persistent.currentTerm
  for (const index of added) {
    if (index <= lastIndex(before.persistent.log) || entryAt(log, index)!.term !== term) continue
    const earlier = indexes.filter((i) => i < index)
    const uncommitted = earlier.find((i) => h.committed[i] === undefined)
    const ownTermCommitted = h.committed.some((c, i) => c !== undefined && c.entry.term === term && i < index)
    if (uncommitted !== undefined || !ownTermCommitted) {
      return {
        invariant: 'One configuration change at a time',
        detail: `leader ${after.id} of term ${term} appended a configuration entry at ${index} while ${uncommitted !== undefined ? `the one at ${uncommitted} was not committed` : `no entry of term ${term} was committed`}`,
      }
    }
  }
  return undefined
}
