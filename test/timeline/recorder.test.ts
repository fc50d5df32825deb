import { describe, expect, it } from 'vitest'
import { simulate, sweepOptions } from '../../src/check/cluster'
import { sweepBase } from '../../src/check/sweep'
import { checkSimTimeline } from '../../src/timeline/check-sim'
import { OUTCOMES, type TimelineData } from '../../src/timeline/model'
import { renderPage, scriptSafeJson, timelineFileFor } from '../../src/timeline/page'
import { TimelineRecorder } from '../../src/timeline/recorder'
import { failingCheckSimRun, scriptedKvsimRun } from './fixtures'

const build = (r: TimelineRecorder, end: number): TimelineData =>
  r.build(end, { title: 't', subtitle: '', source: 'kvsim', rolesInferred: true, summary: [], failure: null })

describe('TimelineRecorder', () => {
  it('turns role changes into spans per lane, closed at the end', () => {
    const r = new TimelineRecorder(['0000', '0001'])
    r.setRole(10, '0000', 'follower', 1)
    r.setRole(20, '0000', 'follower', 1) // unchanged: no new span
    r.setRole(30, '0000', 'leader', 2)
    r.down(50, '0000', 'killed', 'killed')
    const spans = build(r, 100).spans.filter((s) => s.replica === 0)
    expect(spans.map((s) => [s.role, s.term, s.from, s.to])).toEqual([
      ['starting', null, 0, 10], ['follower', 1, 10, 30], ['leader', 2, 30, 50], ['down', 2, 50, 100],
    ])
  })

  it('a partition is a band with its sides, the majority first; a new one replaces the old; healing closes it', () => {
    const r = new TimelineRecorder(['0000', '0001', '0002'])
    r.partition(100, [['0002'], ['0000', '0001']], 'part_hard', 'first')
    r.partition(200, [['0000', '0002'], ['0001']], 'part_easy', 'second')
    r.partition(300, null, '', '')
    r.event(400, 'kill', 'kill_leader', 'killed 0000')
    const bands = build(r, 500).bands
    expect(bands.map((b) => [b.kind, b.from, b.to, b.sides])).toEqual([
      ['partition', 100, 200, [[0, 1], [2]]], ['partition', 200, 300, [[0, 2], [1]]], ['kill', 400, 400, undefined],
    ])
  })

  it('classifies requests by outcome and takes median and p99 of first send to ok', () => {
    const r = new TimelineRecorder(['0000', '0001'])
    const info = (id: string, kind: 'get' | 'put' = 'put') => ({ id, client: 'C', kind, key: 'k', value: kind === 'put' ? 'v' : undefined })
    r.request(0, info('a'), 'm1', '0000')
    r.reply(10, 'm1', 'ok', undefined)
    r.request(0, info('b'), 'm2', '0001')
    r.reply(5, 'm2', 'redirect', undefined)
    r.retry(5, 'm2', 'm3', '0000')
    r.reply(30, 'm3', 'ok', undefined)
    r.request(0, info('c'), 'm4', '0000')
    r.reply(20, 'm4', 'ok', undefined)
    r.reply(25, 'm4', 'ok', undefined)
    r.request(0, info('d', 'get'), 'm5', '0000')
    r.reply(40, 'm5', 'ok', 'wrong', false)
    r.request(0, info('e'), 'm6', '0001')
    const data = build(r, 100)
    const outcome = (id: string) => OUTCOMES[data.requests.find((q) => q[0] === id)![7]]
    expect(['a', 'b', 'c', 'd', 'e'].map(outcome)).toEqual(['ok', 'redirected', 'duplicate', 'incorrect', 'unanswered'])
    expect(data.requests.find((q) => q[0] === 'b')![9].map((a) => [a[0], a[1], a[4]])).toEqual([['m2', 1, 'redirect'], ['m3', 0, 'ok']])
    expect(data.requests.find((q) => q[0] === 'd')![4]).toBe('wrong')
    // Latencies 10, 30, 20, 40: the upper median is 30, p99 the largest.
    expect(data.latency).toEqual({ median: 30, p99: 40, completed: 4, scoredMedian: null })
  })

  it('counts datagrams per bucket, delivered apart from dropped', () => {
    const r = new TimelineRecorder(['0000'], 100)
    r.datagrams(5, 4, 0, 0)
    r.datagrams(99, 0, 1, 0)
    r.datagrams(250, 1, 0, 3)
    const t = build(r, 300).traffic
    expect([t.delivered, t.droppedRandomly, t.droppedByPartition]).toEqual([[4, 0, 1], [1, 0, 0], [0, 0, 3]])
  })
})

describe('a kvsim run\'s timeline', () => {
  const run = scriptedKvsimRun({ wrongGet: 20 })

  it('infers the leader of each term from the datagrams, and shows the kill', () => {
    const leaders = run.data.spans.filter((s) => s.role === 'leader').map((s) => [run.data.replicas[s.replica], s.term])
    expect(leaders).toEqual([['0000', 1], ['0001', 2]])
    const killed = run.data.marks.filter((m) => m.kind === 'killed')
    expect(killed.map((m) => [run.data.replicas[m.replica], m.at])).toEqual([['0000', 4000]])
    expect(run.data.spans.find((s) => s.replica === 0 && s.role === 'down')?.from).toBe(4000)
  })

  it('has the scenario\'s partition with kvsim\'s majority, then the heal and the kill as bands', () => {
    const bands = run.data.bands
    expect(bands.map((b) => [b.kind, b.label, b.from])).toEqual([['partition', 'part_hard', 2000], ['heal', 'part_end', 3000], ['kill', 'kill_leader', 4000]])
    const majority = run.sim.firedEvents[0]!.detail.replace('majority ', '').split(',')
    expect(bands[0]!.sides![0]!.map((i) => run.data.replicas[i])).toEqual(majority)
    expect(bands[0]!.to).toBe(3000)
  })

  it('marks the get answered with a wrong value as the offending operation, with kvsim\'s reason', () => {
    expect(run.result.score.correct).toBe(false)
    const failure = run.data.failure!
    expect(failure.title).toBe('Incorrect reply')
    const wrong = run.result.history.find((op) => op.value === 'not-the-value')!
    expect(failure.offending).toEqual([wrong.id])
    expect(failure.key).toBe(wrong.key)
    expect(failure.reason).toContain('returned "not-the-value"')
    expect(failure.operations.every((op) => op.from >= 0)).toBe(true)
    expect(failure.operations.map((op) => op.id)).toContain(wrong.id)
    const row = run.data.requests.find((r) => r[0] === wrong.id)!
    expect(OUTCOMES[row[7]]).toBe('incorrect')
    expect(row[9].map((a) => a[0])).toContain(run.wrongMid)
  })

  it('counts every replica-to-replica datagram kvsim counted', () => {
    const t = run.data.traffic
    const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0)
    const stats = run.result.score.stats
    expect(sum(t.droppedRandomly)).toBe(stats.droppedRandomly)
    expect(sum(t.droppedByPartition)).toBe(stats.droppedByPartition)
    expect(sum(t.delivered) + sum(t.droppedRandomly) + sum(t.droppedByPartition)).toBe(stats.totalMsgs)
  })

  it('watching changes nothing kvsim scores', () => {
    const unwatched = scriptedKvsimRun({ wrongGet: 20, observe: false })
    expect(unwatched.result.score).toEqual(run.result.score)
    expect(unwatched.result.history).toEqual(run.result.history)
  })
})

describe('a check:sim seed\'s timeline', () => {
  const { result, data, seed } = failingCheckSimRun()

  it('is the same run as without the observer', () => {
    const options = sweepOptions(seed, sweepBase({ seconds: 20, replicas: undefined, mutant: 'get-from-deposed-leader', freeze: false }))
    const plain = simulate({ ...options, fingerprint: true })
    const watched = checkSimTimeline({ ...options, fingerprint: true }).result
    expect(watched.fingerprint).toBe(plain.fingerprint)
    expect(watched.failure?.at).toBe(plain.failure?.at)
  })

  it('reads roles from the replicas: the replica that answered the stale get (only a leader does) is drawn as leader then', () => {
    expect(result.failure?.invariant).toBe('Get returns the latest acknowledged put')
    const at = result.failure!.at
    const answeredBy = / by ([0-9A-F]{4});/.exec(result.failure!.detail)![1]!
    const lane = data.replicas.indexOf(answeredBy)
    const span = data.spans.find((s) => s.replica === lane && s.from <= at && s.to >= at && s.role === 'leader')
    expect(span, `${answeredBy} is not drawn as leader at ${at}`).toBeDefined()
    expect(span!.term).toBeGreaterThan(0)
  })

  it('highlights the get that read a stale value, among its key\'s operations', () => {
    const failure = data.failure!
    expect(failure.offending).toHaveLength(1)
    const offending = failure.operations.find((op) => op.id === failure.offending[0])!
    expect(offending.kind).toBe('get')
    expect(offending.to).toBe(result.failure!.at)
    expect(failure.reason).toContain(failure.key!)
    expect(failure.operations.length).toBeGreaterThan(1)
  })

  it('a safety violation: the reason, the moment, and the state the failing step left (no operations to draw)', () => {
    const run = failingCheckSimRun('vote-without-up-to-date-check', /Leader Completeness|State Machine Safety|Log Matching|Election Safety/)
    const failure = run.data.failure!
    expect(failure.title).toBe(run.result.failure!.invariant)
    expect(failure.at).toBe(run.result.failure!.at)
    expect(failure.operations).toEqual([])
    expect(run.data.durationMs).toBeGreaterThan(failure.at!)
    // The failing step itself is drawn: some replica's span starts at that moment.
    expect(run.data.spans.some((s) => s.from === failure.at)).toBe(true)
  })

  it('a passing seed has lanes and partitions but no failure', () => {
    const passing = checkSimTimeline(sweepOptions(2, { faultPhaseMs: 5_000 }))
    expect(passing.result.failure).toBeUndefined()
    expect(passing.data.failure).toBeNull()
    expect(passing.data.spans.some((s) => s.role === 'leader')).toBe(true)
  })
})

describe('the page', () => {
  it('is one HTML file with the data inline and nothing to fetch', () => {
    const html = renderPage(scriptedKvsimRun({ wrongGet: 3 }).data)
    expect(html).toMatch(/^<!DOCTYPE html>/)
    // The only URL is the SVG namespace, a name that is never fetched.
    const urls = html.match(/https?:\/\/[^\s'"<>)]*/g) ?? []
    expect(urls.filter((u) => u !== 'http://www.w3.org/2000/svg')).toEqual([])
    expect(/<script[^>]+src=|<link[^>]+href=|fetch\(|XMLHttpRequest|import\(/.test(html)).toBe(false)
    expect(html).toContain('id="timeline-data"')
  })

  it('keeps data that looks like markup from closing its script element', () => {
    expect(scriptSafeJson({ reason: '</script><script>alert(1)</script>' })).not.toContain('</script>')
    expect(JSON.parse(scriptSafeJson({ reason: '</script>' }))).toEqual({ reason: '</script>' })
  })

  it('with several scenarios, one file per scenario', () => {
    expect(timelineFileFor('out/run.html', undefined)).toBe('out/run.html')
    expect(timelineFileFor('out/run.html', 'crash-1')).toBe('out/run-crash-1.html')
    expect(timelineFileFor('out/run', 'crash-1')).toBe('out/run-crash-1.html')
  })
})
