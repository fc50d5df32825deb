/**
 * Timeline pages in a real browser: headless Chromium (Debian's `chromium`), driven by
 * puppeteer-core. Outside CI the test is skipped, saying so, when no Chromium is installed; in CI
 * (CI=true) a missing Chromium fails it (.ci/run installs one).
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TimelineData } from '../../src/timeline/model'
import { writeTimeline } from '../../src/timeline/page'
import { TimelineRecorder } from '../../src/timeline/recorder'
import { failingCheckSimRun, scriptedKvsimRun } from './fixtures'
import { checkNetTimeline } from '../../src/timeline/check-net'
import type { RunResult } from '../../src/net-test/run'
import type { Operation } from '../../src/history/operation'

/**
 * A check:net run as its verdict saw it: r1 leads in term 1, is paused (a targeted move) while r2
 * is elected in term 2 and writes, and answers a stale read on waking; r4 killed and restarted.
 */
function checkNetRun(): NonNullable<RunResult['record']> {
  const ms = 1e6
  const op = (id: string, client: number, kind: Operation['kind'], value: string | undefined, from: number, to: number | undefined, failed = false): Operation => ({
    id, client: String(client), key: 'k1', kind, value, invokedAt: from * ms, completedAt: to === undefined ? undefined : to * ms, ...(failed ? { failed } : {}),
  })
  const operations = [
    op('op1', 0, 'put', '0-0', 100, 150),
    op('op2', 1, 'get', '0-0', 200, 220),
    op('op3', 500_008, 'put', '500008-0', 3_000, 3_050),
    op('op4', 500_000, 'get', '0-0', 3_100, 3_120),
    op('op5', 2, 'put', '2-0', 3_200, undefined),
    op('op6', 1, 'cas', '1-0', 3_300, 3_310, true),
    op('op7', 1, 'get', '500008-0', 4_000, 4_020),
  ]
  return {
    seed: 7,
    durationMs: 6_000,
    operations,
    faults: [
      { id: 1, description: 'targeted: SIGSTOP the leader until another has written (at most 2.1s), cut off from its peers until 1.5s after SIGCONT; reads aimed at it', target: 1, startedAt: 1_000, healedAt: 4_500 },
      { id: 2, description: 'SIGKILL r4, restart on its data directory', target: 4, startedAt: 2_000, healedAt: 3_500 },
    ],
    finals: [{ key: 'k1', value: '500008-0' }],
    unexpectedExits: [],
    clients: 3,
    healedAtMs: 4_500,
    recoveryBoundMs: 15_000,
    checker: { ok: false, verdict: 'not linearizable', key: 'k1', reason: 'a value once overwritten never comes back', window: { fromMs: 3_000, toMs: 3_120, operations: ['...'], ids: ['op3', 'op4'] } },
    leaders: [{ term: 1, replica: 1, atMs: 50 }, { term: 2, replica: 2, atMs: 2_900 }],
    roles: [
      ...[1, 2, 3, 4, 5].map((replica) => ({ replica, atMs: 0, role: 'follower', term: 1 })),
      { replica: 1, atMs: 50, role: 'leader', term: 1 },
      { replica: 2, atMs: 2_800, role: 'candidate', term: 2 },
      { replica: 2, atMs: 2_900, role: 'leader', term: 2 },
      { replica: 3, atMs: 2_900, role: 'follower', term: 2 },
      { replica: 1, atMs: 3_400, role: 'follower', term: 2 },
      // r4 killed: its status does not answer until it has restarted.
      { replica: 4, atMs: 2_050, role: 'unreachable', term: 1 },
      { replica: 4, atMs: 3_700, role: 'follower', term: 2 },
    ],
    passed: false,
    failures: ['not linearizable: key k1: a value once overwritten never comes back'],
  }
}

const chromium = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .find((p): p is string => p !== undefined && p !== '' && fs.existsSync(p))
const inCi = process.env['CI'] === 'true'
if (chromium === undefined && !inCi) {
  console.warn('test/timeline/browser.test.ts: SKIPPED, no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)')
}

/** A large run: 21 replicas, 60 s, 30,000 requests, leaders changing every few seconds. */
function largeRun(): TimelineData {
  const ids = Array.from({ length: 21 }, (_, i) => i.toString(16).toUpperCase().padStart(4, '0'))
  const r = new TimelineRecorder(ids)
  let seed = 12345
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    return seed / 2 ** 32
  }
  for (const id of ids) r.setRole(300, id, 'follower', 1)
  for (let term = 1; term <= 12; term++) {
    const at = term * 5000
    const leader = ids[Math.floor(random() * ids.length)]!
    r.setRole(at - 200, leader, 'candidate', term)
    r.setRole(at, leader, 'leader', term)
    for (const id of ids) if (id !== leader) r.setRole(at + 10, id, 'follower', term)
    if (term % 3 === 0) r.partition(at + 500, [ids.slice(0, 11), ids.slice(11)], 'part_hard', `partition ${term}`)
    if (term % 3 === 1) r.partition(at + 500, null, '', '')
  }
  r.down(41_000, ids[5]!, 'killed', 'killed')
  r.event(41_000, 'kill', 'kill_leader', 'killed 0005')
  for (let i = 0; i < 30_000; i++) {
    const at = 1000 + i * 1.9
    const mid = `M${i.toString().padStart(15, '0')}`
    r.request(at, { id: `op${i}`, client: `00${(21 + (i % 8)).toString(16).toUpperCase()}`, kind: i % 5 === 0 ? 'put' : 'get', key: `key${i % 500}`, value: 'v' }, mid, ids[i % 21]!)
    if (i % 97 === 0) continue // unanswered
    if (i % 13 === 0) {
      r.reply(at + 1, mid, 'redirect', undefined)
      r.retry(at + 1, mid, `${mid}r`, ids[0]!)
      r.reply(at + 2 + random() * 40, `${mid}r`, 'ok', 'v')
    } else r.reply(at + 0.5 + random() * random() * 300, mid, 'ok', 'v')
  }
  for (let t = 0; t < 60_000; t += 7) r.datagrams(t, 20, random() < 0.1 ? 1 : 0, 0)
  return r.build(61_000, { title: 'large', subtitle: '', source: 'kvsim', rolesInferred: true, summary: [], failure: null })
}

describe.skipIf(chromium === undefined && !inCi)('timeline pages in headless Chromium', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeline-browser-'))
  let browser: Browser

  beforeAll(async () => {
    if (chromium === undefined) throw new Error('CI=true but no Chromium is installed: .ci/run should have installed it')
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
  })
  afterAll(async () => {
    await browser?.close()
  })

  /** Opens a page, collecting console errors and uncaught exceptions, and waits for the drawing. */
  async function open(name: string, data: TimelineData): Promise<{ page: Page; errors: string[] }> {
    const file = path.join(dir, `${name}.html`)
    writeTimeline(file, data)
    const page = await browser.newPage()
    await page.setViewport({ width: 1400, height: 900 })
    const errors: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    page.on('pageerror', (error) => errors.push(String(error)))
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) errors.push(`network request: ${request.url()}`)
    })
    await page.goto(`file://${file}`)
    try {
      await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 })
    } catch (error) {
      throw new Error(`the page did not finish drawing: ${errors.join('; ') || String(error)}`)
    }
    return { page, errors }
  }

  const count = (page: Page, selector: string): Promise<number> => page.$$eval(selector, (nodes) => nodes.length)

  it('a kvsim run: a lane per replica, roles, the partition and kill bands, the wrong get highlighted', async () => {
    const run = scriptedKvsimRun({ wrongGet: 20 })
    const { page, errors } = await open('kvsim', run.data)
    expect(await count(page, '#lanes .lane')).toBe(5)
    expect(await count(page, '#lanes .span.role-leader')).toBe(2)
    expect(await count(page, '#lanes .span.role-down')).toBe(1)
    expect(await count(page, '#lanes .mark.killed')).toBe(1)
    expect(await count(page, '#bands .band.partition')).toBe(1)
    expect(await count(page, '#bands .band.kill')).toBe(1)
    expect(await count(page, '#lanes .side')).toBe(5) // every replica is on one side of the partition
    expect(await count(page, '#requests path.outcome-incorrect')).toBe(1)
    expect(await count(page, '#requests .latency-line.median')).toBe(1)
    expect(await count(page, '#requests .latency-line.p99')).toBe(1)
    expect(await count(page, '#traffic path.delivered')).toBe(1)
    expect(await count(page, '#traffic path.dropped')).toBe(1)
    expect(await count(page, '#failure .op.offending')).toBe(1)
    expect(await page.$eval('#failure-reason', (e) => (e as HTMLElement).hidden)).toBe(false)
    expect(await page.$eval('#failure-reason', (e) => e.textContent)).toContain('returned "not-the-value"')
    expect(await page.$eval('#failure .offending-label', (e) => e.textContent)).toContain('not-the-value')

    // Hovering the wrong get's mark shows its MID; hovering the offending bar says why.
    const point = await page.$eval('#requests path.outcome-incorrect', (p) => {
      const [, x, y] = /^M([\d.]+) ([\d.]+)/.exec(p.getAttribute('d')!)!
      const box = p.ownerSVGElement!.getBoundingClientRect()
      return { x: box.left + Number(x) + 1, y: box.top + Number(y) }
    })
    await page.mouse.move(point.x, point.y)
    expect(await page.$eval('#tooltip', (e) => ((e as HTMLElement).hidden ? '' : e.textContent))).toContain(`MID ${run.wrongMid}`)
    const bar = (await (await page.$('#failure .op.offending'))!.boundingBox())!
    await page.mouse.move(bar.x + bar.width / 2, bar.y + bar.height / 2)
    expect(await page.$eval('#tooltip', (e) => e.textContent)).toMatch(/OFFENDING[\s\S]*returned "not-the-value"/)
    expect(errors).toEqual([])
    await page.close()
  })

  it('a leader on the minority side is shown deposed once a newer term has a leader; labels do not collide; the legend is grouped', async () => {
    const ids = ['0000', '0001', '0002']
    const r = new TimelineRecorder(ids)
    for (const id of ids) r.setRole(0, id, 'follower', 1)
    r.setRole(100, '0000', 'leader', 1)
    // Two partitions one after the other, and a kill: three band labels close together.
    r.partition(1000, [['0001', '0002'], ['0000']], 'part_hard', 'partition')
    r.setRole(1400, '0001', 'leader', 2)
    r.partition(1450, [['0000', '0001'], ['0002']], 'part_hard', 'partition')
    r.event(1480, 'kill', 'kill_leader', 'killed 0002')
    r.partition(2000, null, '', '')
    r.setRole(2100, '0000', 'follower', 2)
    // Answers whose median and p99 are close: the two labels must not overlap.
    for (let i = 0; i < 200; i++) {
      const mid = `M${i}`
      r.request(200 + i * 10, { id: `op${i}`, client: '0015', kind: 'get', key: 'k', value: 'v' }, mid, '0000')
      r.reply(200 + i * 10 + 3 + (i % 10) * 0.05, mid, 'ok', 'v')
    }
    const data = r.build(3000, { title: 'deposed', subtitle: '', source: 'check:sim', rolesInferred: false, summary: [], failure: null, scoredMedianMs: 3.2 })
    const { page, errors } = await open('deposed', data)
    expect(await count(page, '#lanes .span.role-deposed')).toBe(1)
    const tip = await page.$eval('#lanes .span.role-deposed', (e) => (e as SVGElement).dataset['tip'])
    expect(tip).toMatch(/^0000: deposed leader .*; 0001 leads term 2 since 1.400 s in term 1/)
    expect(await count(page, '#legend .legend-group')).toBe(3)
    expect(await page.$eval('#latency-summary', (e) => e.textContent)).toMatch(/^median latency 3.20 ms as scored/)
    const overlaps = await page.$$eval('.band-label, .latency-label, #timeline > text', (nodes) => {
      const boxes = nodes.map((n) => ({ text: n.textContent, box: (n as SVGGraphicsElement).getBoundingClientRect() }))
      const found: string[] = []
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!.box
          const b = boxes[j]!.box
          if (a.width > 0 && b.width > 0 && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
            found.push(`${boxes[i]!.text} / ${boxes[j]!.text}`)
          }
        }
      }
      return found
    })
    expect(overlaps).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  })

  it('a failing check:sim seed: lanes, partitions, the failure highlighted, and zooming to it keeps it so', async () => {
    const { data } = failingCheckSimRun()
    const { page, errors } = await open('check-sim', data)
    expect(await count(page, '#lanes .lane')).toBe(data.replicas.length)
    expect(await count(page, '#bands .band.partition')).toBe(data.bands.filter((b) => b.kind === 'partition').length)
    expect(await count(page, '#failure .op.offending')).toBe(1)
    const axisBefore = await page.$eval('#axis', (e) => e.textContent)
    await page.click('#to-failure')
    await page.waitForFunction((before) => document.querySelector('#axis')?.textContent !== before, {}, axisBefore)
    expect(await count(page, '#failure .op.offending')).toBe(1)
    // The leader that answered is drawn as leader at the failure's moment.
    expect(await count(page, '#lanes .span.role-leader')).toBeGreaterThanOrEqual(1)
    expect(await count(page, '#bands .failure-moment')).toBe(1)
    expect(errors).toEqual([])
    await page.close()
  })

  it('a failing check:net run: a lane per replica from its status, the faults, the operations, the stale read of the failing window marked', async () => {
    const data = checkNetTimeline(checkNetRun(), 5)
    const { page, errors } = await open('check-net', data)
    expect(await count(page, '#lanes .lane')).toBe(5)
    expect(await count(page, '#lanes .span.role-leader')).toBe(2)
    expect(await count(page, '#lanes .span.role-candidate')).toBe(1)
    expect(await count(page, '#lanes .mark.killed')).toBe(1)
    expect(await count(page, '#lanes .mark.restarted')).toBe(1)
    expect(await count(page, '#lanes .span.role-down')).toBe(1)
    expect(await count(page, '#bands .band.kill')).toBe(1)
    expect(await count(page, '#bands .band.heal')).toBe(2)
    // No datagram counts in a real run: no traffic panel.
    expect(await count(page, '#traffic')).toBe(0)
    expect(await count(page, '#requests path.outcome-incorrect')).toBe(1)
    // The window's two operations, the stale read offending.
    expect(await count(page, '#failure .op')).toBe(2)
    expect(await count(page, '#failure .op.offending')).toBe(1)
    expect(await page.$eval('#title', (e) => e.textContent)).toBe('check:net seed 7: FAILED')
    expect(await page.$eval('#failure-reason', (e) => e.textContent)).toContain('not linearizable on key k1: read "0-0", a value overwritten before the read was invoked')
    expect(errors).toEqual([])
    await page.close()
  })

  it('21 replicas, 60 s and 30,000 requests: draws, zooms and hovers without errors', async () => {
    const data = largeRun()
    const { page, errors } = await open('large', data)
    expect(await count(page, '#lanes .lane')).toBe(21)
    // One path per outcome however many requests there are.
    expect(await count(page, '#requests path.requests')).toBe(3)
    const segments = await page.$$eval('#requests path.requests', (paths) => paths.reduce((n, p) => n + (p.getAttribute('d')!.match(/M/g)?.length ?? 0), 0))
    expect(segments).toBeGreaterThanOrEqual(30_000)
    const box = (await (await page.$('#requests-hit'))!.boundingBox())!
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    for (let i = 0; i < 5; i++) await page.mouse.wheel({ deltaY: -400 })
    await page.waitForFunction(() => !document.querySelector('#axis')?.textContent?.includes('60 s'))
    expect(await count(page, '#lanes .lane')).toBe(21)
    expect(errors).toEqual([])
    await page.close()
  })
})
