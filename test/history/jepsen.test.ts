/** A run's client history in Jepsen's shape (src/check/history.ts). */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { simulateWithHistory, sweepOptions } from '../../src/check/cluster'
import { jepsenEvents, NS_PER_MS, writeHistory } from '../../src/history/jepsen'
import type { Operation } from '../../src/history/linearizability'

const op = (fields: Partial<Operation> & Pick<Operation, 'id' | 'kind' | 'invokedAt'>): Operation => ({
  client: '0015',
  key: 'k',
  value: undefined,
  completedAt: undefined,
  ...fields,
})

describe('the history in Jepsen shape', () => {
  it('writes an invoke and an ok per completed operation, an info for one never completed, in time order, one operation at a time per process', () => {
    const events = jepsenEvents(
      [
        op({ id: 'w', kind: 'put', value: 'v', invokedAt: 1, completedAt: 3 }),
        op({ id: 'r', kind: 'get', client: '0016', value: 'v', invokedAt: 2, completedAt: 4 }),
        op({ id: 'lost', kind: 'put', value: 'x', invokedAt: 2.5 }),
      ],
      NS_PER_MS,
    )
    expect(events).toEqual([
      { process: 0x15, type: 'invoke', f: 'write', key: 'k', value: 'v', time: 1_000_000 },
      { process: 0x16, type: 'invoke', f: 'read', key: 'k', value: null, time: 2_000_000 },
      // Client 0015 has 'w' in flight: its second operation at once is another process.
      { process: 0x10015, type: 'invoke', f: 'write', key: 'k', value: 'x', time: 2_500_000 },
      { process: 0x15, type: 'ok', f: 'write', key: 'k', value: 'v', time: 3_000_000 },
      { process: 0x16, type: 'ok', f: 'read', key: 'k', value: 'v', time: 4_000_000 },
      { process: 0x10015, type: 'info', f: 'write', key: 'k', value: 'x', time: 4_000_000 },
    ])
  })

  it("orders events at one instant as the run handled them, and reads of a key never written as null", () => {
    const events = jepsenEvents(
      [
        op({ id: 'r', kind: 'get', invokedAt: 5, completedAt: 5, invokedSeq: 3, completedSeq: 4 }),
        op({ id: 'w', kind: 'put', value: 'v', invokedAt: 5, completedAt: 5, invokedSeq: 1, completedSeq: 2 }),
      ],
      1,
    )
    expect(events.map((e) => `${e.type} ${e.f} ${e.value}`)).toEqual(['invoke write v', 'ok write v', 'invoke read null', 'ok read null'])
  })

  it('a check:sim run writes one line per invocation and per completion', () => {
    const { history } = simulateWithHistory(sweepOptions(3, { faultPhaseMs: 3_000 }))
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'history-')), 'h.jsonl')
    writeHistory(file, history, NS_PER_MS)
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; time: number })
    expect(history.length).toBeGreaterThan(10)
    expect(lines).toHaveLength(2 * history.length)
    expect(lines.filter((l) => l.type === 'invoke')).toHaveLength(history.length)
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.time).toBeGreaterThanOrEqual(lines[i - 1]!.time)
  })
})
