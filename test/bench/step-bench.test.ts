/**
 * bench:step replays recorded event streams; what it measures must be the replica's real work on
 * real events. These tests pin the recording format, the replay and the classification of events.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RECORDINGS,
  eventKind,
  HOT_KINDS,
  loadRecordings,
  prepareRecording,
  replayRuntime,
  replayRuntimeIdle,
  replaySteps,
  runStepBench,
} from '../../src/bench/step-bench'
import { parseCommand, UsageError } from '../../src/cli/args'
import { command } from '../../src/cli/bench-step'
import { received, timerFired } from '../../src/domain/events'
import { initialState } from '../../src/domain/state'
import { step } from '../../src/domain/step'
import { EventRecorder, readRecording } from '../../src/runtime/event-recorder'
import type { NodeId } from '../../src/domain/wire'

const recordingsDir = path.join(__dirname, '..', '..', DEFAULT_RECORDINGS)
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'step-bench-'))

describe('the event recorder', () => {
  it('writes the header and every event, and reads them back as they were', () => {
    const dir = tmp()
    const recorder = new EventRecorder(dir, { id: '0001' as NodeId, peers: ['0000' as NodeId], seed: 7 })
    recorder.started(1.5)
    recorder.datagram(2.25, '{"not":"checked here"}')
    recorder.timer(3, 'election')
    recorder.flush()
    const recording = readRecording(path.join(dir, '0001.jsonl'))
    expect(recording.header).toEqual({ id: '0001', peers: ['0000'], seed: 7 })
    expect(recording.events).toEqual([{ at: 1.5, started: true }, { at: 2.25, datagram: '{"not":"checked here"}' }, { at: 3, timer: 'election' }])
  })

  it('refuses a malformed recording with the file and line', () => {
    const dir = tmp()
    const file = path.join(dir, 'bad.jsonl')
    fs.writeFileSync(file, '{"id":"0001","peers":[],"seed":1}\n{"at":1}\n')
    expect(() => readRecording(file)).toThrow(`${file}:2: the file: expected an event: {"at": ms, and one of "started": true`)
    fs.writeFileSync(file, 'nonsense\n')
    expect(() => readRecording(file)).toThrow(`${file}:1: not JSON`)
    fs.writeFileSync(file, '{"id":"0001"}\n')
    expect(() => readRecording(file)).toThrow(`${file}:1: field "peers": missing; expected a list of replica IDs; field "seed": missing; expected number`)
  })
})

describe('bench:step', () => {
  const recordings = loadRecordings(recordingsDir)

  it('replays the committed simple-2 recording into a working cluster: one leader that applied the puts', () => {
    const finals = recordings.map((r) => replaySteps(prepareRecording(r), undefined))
    expect(finals.filter((s) => s.role === 'leader')).toHaveLength(1)
    const leader = finals.find((s) => s.role === 'leader')!
    expect(leader.lastApplied).toBeGreaterThan(300)
    // The same events give the same state, replayed twice.
    const again = replaySteps(prepareRecording(recordings.find((r) => r.header.id === leader.id)!), undefined)
    expect(again.commitIndex).toBe(leader.commitIndex)
    expect(again.kv.values.toJSON()).toEqual(leader.kv.values.toJSON())
  })

  it('the runtime replay sends as many datagrams as the reducer replay asks for', () => {
    for (const recording of recordings) {
      const replayable = prepareRecording(recording)
      let state = initialState({ id: recording.header.id, peers: recording.header.peers, seed: recording.header.seed })
      let sends = 0
      for (const { event } of replayable.events) {
        if (event === undefined) continue
        const [next, effects] = step(state, event)
        state = next
        sends += effects.filter((effect) => effect.kind === 'send').length
      }
      expect(sends).toBeGreaterThan(100)
      expect(replayRuntime(replayable, undefined)).toBe(sends)
    }
  })

  it('names event kinds by the role that handles them', () => {
    const follower = initialState({ id: '0001' as NodeId, peers: ['0000', '0002'] as NodeId[], seed: 1 })
    const leader = { ...follower, role: 'leader' as const }
    const append = (entries: number) =>
      received(0, {
        src: '0000' as NodeId, dst: '0001' as NodeId, leader: '0000' as NodeId, type: 'append', term: 1, prevLogIndex: 0,
        prevLogTerm: 0, entries: Array.from({ length: entries }, () => ({ term: 1, command: { op: 'noop' as const } })),
        leaderCommit: 0, sentAt: 0,
      })
    expect(eventKind(follower, append(0))).toBe('follower: heartbeat')
    expect(eventKind(follower, append(2))).toBe('follower: append')
    expect(eventKind(leader, timerFired(0, 'heartbeat'))).toBe('leader: tick')
    expect(eventKind({ ...follower, role: 'preCandidate' }, timerFired(0, 'election'))).toBe('candidate: election timer')
  })

  it('measures every hot event kind from the committed recording', () => {
    const result = runStepBench(recordings, 1, 0)
    const kinds = result.step.map((row) => row.kind)
    for (const kind of HOT_KINDS) expect(kinds).toContain(kind)
    expect(result.datagramPathAll.count).toBeGreaterThan(1000)
  })

  it('rejects unknown options and bad values (src/cli/args.ts)', () => {
    const parse = (argv: string[]) => parseCommand(command, argv)
    for (const bad of [['--rounds', '0'], ['--warmup', '-1'], ['--bogus', '1'], ['--rounds'], ['--gap', '0'], ['--gap', '5', '--datagrams', '0']]) {
      expect(() => parse(bad)).toThrow(UsageError)
    }
    expect(parse(['--rounds', '3', '--warmup', '0'])).toMatchObject({ options: { rounds: 3, warmup: 0, gap: undefined } })
    expect(parse(['--gap', '20', '--datagrams', '50'])).toMatchObject({ options: { gap: 20, datagrams: 50 } })
  })

  it('the idle replay hands over as many datagrams as asked, one per gap, and leaves no timer behind', async () => {
    const leader = recordings.find((r) => replaySteps(prepareRecording(r), undefined).role === 'leader')!
    const samples = new Map<string, number[]>()
    const began = Date.now()
    await replayRuntimeIdle(prepareRecording(leader), 3, 25, samples)
    expect([...samples.values()].flat()).toHaveLength(25)
    // Node's timers round to its loop's millisecond clock: each pause lasts at least 2 of the 3 ms.
    expect(Date.now() - began).toBeGreaterThanOrEqual(25 * 2)
    expect(process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout')).toHaveLength(0)
  })
})
