/** A run's client history in Jepsen's shape (src/history/jepsen.ts, docs/history.md): written, read back, judged. */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { simulateWithHistory, sweepOptions } from '../../src/check/cluster'
import { mutants } from '../../src/check/mutants'
import { formatHistory, jepsenEvents, NS_PER_MS, parseHistory, PROCESS_STRIDE, writeHistory, type JepsenEvent } from '../../src/history/jepsen'
import { checkLinearizable, type Operation } from '../../src/history/linearizability'

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

/** Whether no process has two operations in flight, and every completion follows an invocation of its process. */
const oneAtATime = (events: readonly JepsenEvent[]): boolean => {
  const inFlight = new Set<number>()
  const finished = new Set<number>()
  for (const e of events) {
    if (finished.has(e.process)) return false // a process whose operation ended in info is never used again
    if (e.type === 'invoke') {
      if (inFlight.has(e.process)) return false
      inFlight.add(e.process)
    } else {
      if (!inFlight.delete(e.process)) return false
      if (e.type === 'info') finished.add(e.process)
    }
  }
  return true
}

describe("Jepsen's convention: a process performs one operation at a time", () => {
  it('check:sim clients send without waiting for their last reply: the history gives each concurrent operation a process of its own', () => {
    const { history } = simulateWithHistory(sweepOptions(3, { faultPhaseMs: 5_000, workload: 'shared', requestIntervalMs: 20 }))
    const events = jepsenEvents(history, NS_PER_MS)
    const processes = new Set(events.map((e) => e.process))
    expect([...processes].some((p) => p >= PROCESS_STRIDE)).toBe(true) // some client had two in flight
    expect(oneAtATime(events)).toBe(true)
  })
})

describe('reading a history back', () => {
  it('a check:sim history, written and read back, gets the same verdict, for both verdicts', () => {
    const mutant = mutants['lease-too-long']
    for (const step of [undefined, mutant.step]) {
      const { result, history } = simulateWithHistory(sweepOptions(40, { faultPhaseMs: 20_000, ...mutant.options, ...(step === undefined ? {} : { step }) }))
      const read = parseHistory(formatHistory(history, NS_PER_MS))
      if (E.isLeft(read)) expect.fail(read.left)
      expect(read.right).toHaveLength(history.length)
      const direct = checkLinearizable(history)
      const again = checkLinearizable(read.right)
      expect(again.ok).toBe(direct.ok)
      expect(direct.ok).toBe(step === undefined)
      expect(result.failure?.invariant).toBe(step === undefined ? undefined : 'Linearizability')
    }
  })

  it('reads cas (as {expected, new} or [expected, new]), fail, info and numbers', () => {
    const lines = [
      { process: 0, type: 'invoke', f: 'write', key: 'k', value: 1, time: 0 },
      { process: 0, type: 'ok', f: 'write', key: 'k', value: 1, time: 10 },
      { process: 1, type: 'invoke', f: 'cas', key: 'k', value: { expected: '1', new: '2' }, time: 20 },
      { process: 2, type: 'invoke', f: 'cas', key: 'k', value: [7, 8], time: 21 },
      { process: 1, type: 'ok', f: 'cas', key: 'k', value: { expected: '1', new: '2' }, time: 30 },
      { process: 2, type: 'fail', f: 'cas', key: 'k', value: [7, 8], time: 31 },
      { process: 3, type: 'invoke', f: 'read', key: 'k', value: null, time: 40 },
      { process: 3, type: 'ok', f: 'read', key: 'k', value: 2, time: 50 },
      { process: 4, type: 'invoke', f: 'write', key: 'k', value: '9', time: 60 },
      { process: 4, type: 'info', f: 'write', key: 'k', value: '9', time: 70 },
    ]
    const read = parseHistory(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n\n`)
    if (E.isLeft(read)) expect.fail(read.left)
    expect(read.right.map((op) => [op.kind, op.expected, op.value, op.completedAt, op.failed ?? false])).toEqual([
      ['put', undefined, '1', 10, false],
      ['cas', '1', '2', 30, false],
      ['cas', '7', '8', 31, true],
      ['get', undefined, '2', 50, false],
      ['put', undefined, '9', undefined, false],
    ])
    expect(checkLinearizable(read.right).ok).toBe(true)
    // Written back, the same events.
    expect(parseHistory(formatHistory(read.right, 1))).toEqual(read)
  })

  it('a broken file gets an error that names the line, and nothing is guessed', () => {
    const invoke = JSON.stringify({ process: 1, type: 'invoke', f: 'read', key: 'k', value: null, time: 0 })
    const cases: Array<readonly [string, RegExp]> = [
      ['{"process": 1', /^line 1: not JSON$/],
      ['[1, 2]', /^line 1: not a JSON object$/],
      [JSON.stringify({ process: 'a', type: 'invoke', f: 'read', key: 'k', time: 0 }), /"process" must be an integer/],
      [JSON.stringify({ process: 1, type: 'done', f: 'read', key: 'k', time: 0 }), /"type" must be one of invoke, ok, fail, info/],
      [JSON.stringify({ process: 1, type: 'invoke', f: 'append', key: 'k', time: 0 }), /"f" must be one of read, write, cas/],
      [JSON.stringify({ process: 1, type: 'invoke', f: 'write', key: 'k', value: null, time: 0 }), /a write's value must be a string or a number/],
      [JSON.stringify({ process: 1, type: 'invoke', f: 'cas', key: 'k', value: 'x', time: 0 }), /a cas's value must be/],
      [JSON.stringify({ process: 1, type: 'ok', f: 'read', key: 'k', value: 'x', time: 0 }), /^line 1: process 1 completes an operation it never invoked$/],
      [`${invoke}\n${invoke}`, /^line 2: process 1 invokes an operation while its op0@1 is in flight/],
      [`${invoke}\n${JSON.stringify({ process: 1, type: 'ok', f: 'write', key: 'k', value: 'x', time: 1 })}`, /^line 2: process 1 completes write of k, but it invoked read of k$/],
    ]
    for (const [text, error] of cases) {
      const read = parseHistory(text)
      expect(E.isLeft(read) ? read.left : 'read without error').toMatch(error)
    }
  })
})

describe('npm run check:history -- FILE', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, '../../dist/src/cli/check-history.js'), ...args], { encoding: 'utf8', timeout: 240_000 })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-history-'))
  const file = (name: string, operations: Operation[]): string => {
    const f = path.join(dir, name)
    writeHistory(f, operations, 1)
    return f
  }
  const w = (id: string, value: string, invokedAt: number, completedAt: number): Operation => ({ id, client: '0001', key: 'k', kind: 'put', value, invokedAt, completedAt })
  const r = (id: string, value: string | undefined, invokedAt: number, completedAt: number): Operation => ({ id, client: '0002', key: 'k', kind: 'get', value, invokedAt, completedAt })

  it('exit 0 for a linearizable history, 1 for one that is not, with the reason', () => {
    const good = cli([file('good.jsonl', [w('a', 'x', 0, 1), r('b', 'x', 2, 3)])])
    expect(good.status).toBe(0)
    expect(good.stdout).toMatch(/^linearizable\n2 operations on 1 key\(s\), checked in [\d.]+ ms/)
    const bad = cli([file('bad.jsonl', [w('a', 'x', 0, 1), w('b', 'y', 2, 3), r('c', 'x', 4, 5)])])
    expect(bad.status).toBe(1)
    expect(bad.stdout).toMatch(/^not linearizable: key k: no linearization exists: the put of x and its reads and the put of y/)
  })

  it('exit 3 when undecided within the bounds given', () => {
    const ops: Operation[] = []
    for (let i = 0; i < 24; i++) ops.push({ id: `p${i}`, client: `${i}`, key: 'k', kind: 'put', value: i % 2 === 0 ? 'a' : 'b', invokedAt: 0, completedAt: 100 })
    ops.push(r('g', 'never', 0, 100))
    const result = cli([file('hard.jsonl', ops), '--steps', '1000'])
    expect(result.status).toBe(3)
    expect(result.stdout).toMatch(/^undecided: key k: undecided: the search of 25 operations stopped when it entered 1000 states/)
  })

  it('exit 2, with the line, for a file that is not a history; and for no file', () => {
    const broken = path.join(dir, 'broken.jsonl')
    fs.writeFileSync(broken, '{"process": 1, "type": "ok", "f": "read", "key": "k", "value": "x", "time": 0}\n')
    const result = cli([broken])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/broken.jsonl, line 1: process 1 completes an operation it never invoked/)
    expect(cli([path.join(dir, 'missing.jsonl')]).stderr).toMatch(/cannot read .*missing.jsonl/)
    expect(cli([]).status).toBe(2)
    expect(cli([broken, '--bogus']).stderr).toMatch(/unknown option --bogus/)
  })
})
