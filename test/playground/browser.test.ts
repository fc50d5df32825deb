/**
 * The playground as a person uses it, in headless Chromium (Debian's `chromium`) driven by
 * puppeteer-core: load it, let a leader be elected, kill the leader and see a new one, send a put
 * and see it committed on a majority, cut off a minority and see its put wait, look at a message
 * and the step behind it, and open the scenario's link in a new tab to find the same cluster. Every
 * assertion reads what the page shows (its DOM). A screenshot of each step is written for a reader
 * (the folder is printed), never compared pixel by pixel. Outside CI the test is skipped, saying
 * so, when no Chromium is installed; in CI (CI=true) a missing Chromium fails it.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { simulate, sweepOptions } from '../../src/check/cluster'
import { seedQuery, sweepBase, type SweepParams } from '../../src/check/sweep-params'
import { buildPlayground } from '../../src/playground/bundle'

const chromium = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .find((p): p is string => p !== undefined && p !== '' && fs.existsSync(p))
const inCi = process.env['CI'] === 'true'
if (chromium === undefined && !inCi) {
  console.warn('test/playground/browser.test.ts: SKIPPED, no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)')
}

/** Generous: the machine is shared, and virtual time only moves with animation frames. */
const WAIT = { timeout: 45_000, polling: 50 }

describe.skipIf(chromium === undefined && !inCi)('the playground in headless Chromium', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-playground-'))
  const shots = path.join(dir, 'screenshots')
  const file = path.join(dir, 'playground.html')
  let browser: Browser
  let page: Page
  const errors: string[] = []
  let shot = 0

  const open = async (url: string): Promise<Page> => {
    const p = await browser.newPage()
    await p.setViewport({ width: 1400, height: 1000 })
    p.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text())
    })
    p.on('pageerror', (error) => errors.push(String(error)))
    p.on('request', (request) => {
      if (!request.url().startsWith('file:')) errors.push(`network request: ${request.url()}`)
    })
    await p.goto(url)
    await p.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
    return p
  }

  const screenshot = async (name: string, of: Page = page): Promise<void> => {
    shot++
    await of.screenshot({ path: path.join(shots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true })
  }

  const leaderRow = (p: Page): Promise<{ id: string; term: number } | null> =>
    p.evaluate(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('#replicas tr[data-role="leader"]')]
      const best = rows.sort((a, b) => Number(b.dataset['term']) - Number(a.dataset['term']))[0]
      return best === undefined ? null : { id: best.dataset['replica']!, term: Number(best.dataset['term']) }
    })

  const setSpeed = (value: string): Promise<string[]> => page.select('#speed', value)
  const pause = async (): Promise<void> => {
    if ((await page.$eval('#play', (b) => (b as HTMLElement).dataset['running'])) === 'true') await page.click('#play')
    await page.waitForSelector('#play[data-running="false"]')
  }
  const run = async (): Promise<void> => {
    if ((await page.$eval('#play', (b) => (b as HTMLElement).dataset['running'])) === 'false') await page.click('#play')
  }

  beforeAll(async () => {
    if (chromium === undefined) throw new Error('CI=true but no Chromium is installed: .ci/run should have installed it')
    fs.mkdirSync(shots, { recursive: true })
    fs.writeFileSync(file, (await buildPlayground()).html)
    console.log(`playground screenshots: ${shots}`)
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] })
    page = await open(`file://${file}`)
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('loads with five replicas running, nothing fetched from the network', async () => {
    expect(await page.$$eval('#replicas tr.replica-row', (rows) => rows.length)).toBe(5)
    expect(await page.$$eval('#stage g.replica', (nodes) => nodes.length)).toBe(5)
    expect(await page.$eval('#play', (b) => b.textContent)).toBe('Pause')
    expect(await page.$eval('#subtitle', (e) => e.textContent)).toContain('5 replicas of the production reducer')
    await screenshot('loaded')
    expect(errors).toEqual([])
  })

  let firstLeader: { id: string; term: number }

  it('elects a leader, shown on the stage, in the table and in the header', async () => {
    await setSpeed('5')
    await page.waitForFunction(() => document.querySelectorAll('#replicas tr[data-role="leader"]').length === 1, WAIT)
    await pause()
    firstLeader = (await leaderRow(page))!
    expect(await page.$eval(`#stage g.replica[data-replica="${firstLeader.id}"]`, (g) => g.getAttribute('data-role'))).toBe('leader')
    expect(await page.$eval('#clock', (e) => (e as HTMLElement).dataset['leader'])).toBe(firstLeader.id)
    // Every replica that is up knows the term; the followers voted in it.
    const terms = await page.$$eval('#replicas tr.replica-row', (rows) => rows.map((r) => Number((r as HTMLElement).dataset['term'])))
    expect(Math.max(...terms)).toBe(firstLeader.term)
    await screenshot('leader-elected')
  })

  it('kills the leader, and another replica is elected in a later term', async () => {
    await page.click(`#replicas tr[data-replica="${firstLeader.id}"] button[data-act="kill"]`)
    await page.waitForSelector(`#replicas tr[data-replica="${firstLeader.id}"][data-up="false"]`)
    await page.waitForSelector(`#stage g.replica[data-replica="${firstLeader.id}"][data-role="down"]`)
    expect(await page.$eval(`#replicas tr[data-replica="${firstLeader.id}"] button[data-act]`, (b) => b.textContent)).toBe('Restart')
    await screenshot('leader-killed')
    await run()
    await page.waitForFunction((old) => {
      const row = document.querySelector<HTMLElement>('#replicas tr[data-role="leader"]')
      return row !== null && row.dataset['replica'] !== old
    }, WAIT, firstLeader.id)
    await pause()
    const second = (await leaderRow(page))!
    expect(second.id).not.toBe(firstLeader.id)
    expect(second.term).toBeGreaterThan(firstLeader.term)
    await screenshot('new-leader')
  })

  it('sends a put and sees it committed on a majority, answered ok, and the history linearizable', async () => {
    await page.$eval('#key', (e) => ((e as HTMLInputElement).value = ''))
    await page.type('#key', 'colour')
    await page.$eval('#value', (e) => ((e as HTMLInputElement).value = ''))
    await page.type('#value', 'blue')
    await setSpeed('1')
    await page.click('#put')
    await run()
    await page.waitForSelector('#requests tr.request[data-key="colour"][data-status="ok"]', WAIT)
    await page.waitForFunction(() => document.querySelectorAll('#replicas .entry[data-key="colour"][data-value="blue"][data-committed="true"]').length >= 3, WAIT)
    await pause()
    const committedOn = await page.$$eval('#replicas tr.replica-row', (rows) =>
      rows.filter((r) => r.querySelector('.entry[data-key="colour"][data-committed="true"]') !== null).map((r) => (r as HTMLElement).dataset['replica']))
    expect(committedOn.length).toBeGreaterThanOrEqual(3)
    expect(committedOn).not.toContain(firstLeader.id)
    expect(await page.$eval('#requests tr.request[data-key="colour"] td.result', (e) => e.textContent)).toBe('→ ok')
    expect(await page.$eval('#verdict', (e) => (e as HTMLElement).dataset['linearizable'])).toBe('true')
    expect(await page.$eval('#verdict', (e) => e.textContent)).toContain('Linearizable')
    await screenshot('put-committed')
  })

  it("cuts off a minority with the leader: its put waits uncommitted while the majority elects a leader; mended, it commits", async () => {
    const leader = (await leaderRow(page))!
    const ups = await page.$$eval('#replicas tr.replica-row[data-up="true"]', (rows) => rows.map((r) => (r as HTMLElement).dataset['replica']!))
    const buddy = ups.find((id) => id !== leader.id)!
    await page.click(`#replicas input[data-split="${leader.id}"]`)
    await page.click(`#replicas input[data-split="${buddy}"]`)
    await page.click('#split')
    await page.waitForFunction(() => document.querySelectorAll('#stage g.link[data-cut="true"]').length === 6, WAIT)
    // The restarted first leader joins the majority side, so the majority can elect.
    await page.click(`#replicas tr[data-replica="${firstLeader.id}"] button[data-act="restart"]`)
    const cut = await page.$$eval('#stage g.link[data-cut="true"]', (links) => links.map((l) => l.getAttribute('data-link')))
    expect(cut.length).toBe(6) // 2 × 3 links cross the cut
    expect(cut.every((link) => link!.includes(leader.id) || link!.includes(buddy))).toBe(true)

    await page.select('#target', leader.id)
    await page.$eval('#key', (e) => ((e as HTMLInputElement).value = ''))
    await page.type('#key', 'held')
    await page.click('#put')
    await run()
    // The majority side elects its own leader in a later term.
    await page.waitForFunction((old: { id: string; term: number }, minority: string[]) =>
      [...document.querySelectorAll<HTMLElement>('#replicas tr[data-role="leader"]')].some((r) => !minority.includes(r.dataset['replica']!) && Number(r.dataset['term']) > old.term), WAIT, leader, [leader.id, buddy])
    await pause()
    expect(await page.$eval('#requests tr.request[data-key="held"]', (r) => (r as HTMLElement).dataset['status'])).toBe('waiting')
    expect(await page.$eval('#requests tr.request[data-key="held"] td.result', (e) => e.textContent)).toBe('waiting')
    // The old leader appended it, and nobody has it committed.
    expect(await page.$$eval(`#replicas tr[data-replica="${leader.id}"] .entry[data-key="held"]`, (es) => es.map((e) => (e as HTMLElement).dataset['committed']))).toEqual(['false'])
    expect(await page.$$eval('#replicas .entry[data-key="held"][data-committed="true"]', (es) => es.length)).toBe(0)
    await screenshot('minority-put-waits')

    await page.click('#heal')
    await page.waitForFunction(() => document.querySelectorAll('#stage g.link[data-cut="true"]').length === 0, WAIT)
    await run()
    await page.waitForSelector('#requests tr.request[data-key="held"][data-status="ok"]', WAIT)
    await pause()
    expect(await page.$eval('#verdict', (e) => (e as HTMLElement).dataset['linearizable'])).toBe('true')
    await screenshot('healed-put-committed')
  })

  it('a click on a message shows the step that sent it, with its effects and rules; the message can be dropped', async () => {
    await setSpeed('0.25')
    await run()
    await page.waitForSelector('#stage g.flight', WAIT)
    await pause()
    // The message seen may have arrived just before the pause: step until one is on its way.
    for (let i = 0; i < 200 && (await page.$('#stage g.flight')) === null; i++) {
      await page.click('#step')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await page.click('#stage g.flight')
    await page.waitForFunction(() => document.querySelector('#details h2')?.textContent?.startsWith('Message #'), WAIT)
    const id = await page.$eval('#details h2', (e) => e.textContent)
    expect(id).toMatch(/^Message #\d+: /)
    const flight = Number(/#(\d+)/.exec(id!)![1])
    expect(await page.$eval('#details .step h3', (e) => e.textContent)).toMatch(/^The step that sent it \([0-9A-F]{4}\)$/)
    expect(await page.$$eval('#details .step ol.effects li', (lis) => lis.some((li) => li.textContent!.startsWith('send ')))).toBe(true)
    expect(await page.$$eval('#details .step ul.rules li', (lis) => lis.length)).toBeGreaterThan(0)
    expect(await page.$eval(`#flights tr[data-flight="${flight}"]`, (r) => r.classList.contains('selected'))).toBe(true)
    await screenshot('message-details')
    await page.click(`#details button[data-act="drop"][data-flight="${flight}"]`)
    await page.waitForFunction((n) => document.querySelector(`#stage g.flight[data-flight="${n}"]`) === null, WAIT, flight)
    await page.waitForFunction(() => document.querySelector('#details p')?.textContent?.includes('dropped by you'), WAIT)

    await page.click('#replicas a[data-select]')
    await page.waitForFunction(() => /^Replica [0-9A-F]{4}$/.test(document.querySelector('#details h2')?.textContent ?? ''), WAIT)
    expect(await page.$eval('#details .step h3', (e) => e.textContent)).toBe('Its last step')
    await page.click('#step')
    await page.waitForFunction(() => document.querySelector('#details h2')?.textContent === 'Step', WAIT)
    expect(await page.$$eval('#details .event code', (es) => es.length)).toBe(1)
    await screenshot('step-details')
  })

  it("opens a failing check:sim seed from check:sim's link, replays it, and goes to the failure", async () => {
    const params: SweepParams = { seconds: 20, replicas: undefined, mutant: 'get-from-deposed-leader', freeze: false }
    let seed = 1
    while (simulate(sweepOptions(seed, sweepBase(params))).failure === undefined) seed++
    const failure = simulate(sweepOptions(seed, sweepBase(params))).failure!
    const recorded = await open(`file://${file}#checksim&${seedQuery(seed, params)}`)
    try {
      expect(await recorded.$eval('#subtitle', (e) => e.textContent)).toContain(`check:sim seed=${seed} seconds=20 mutant=get-from-deposed-leader`)
      expect(await recorded.$eval('#subtitle', (e) => e.textContent)).toContain(`FAILED: ${failure.invariant}`)
      expect(await recorded.$eval('#play', (b) => b.textContent)).toBe('Run')
      // A recording takes no actions: the client's form and the kill buttons are gone.
      expect(await recorded.$eval('#request-form', (f) => getComputedStyle(f).display)).toBe('none')
      expect(await recorded.$$eval('#replicas button[data-act]', (bs) => bs.length)).toBe(0)
      await recorded.click('#to-failure')
      await recorded.waitForFunction((invariant: string) => document.querySelector('#verdict')?.textContent?.includes(invariant), WAIT, failure.invariant)
      expect(await recorded.$eval('#details h2', (e) => e.textContent)).toBe('Step')
      expect(await recorded.$eval('#clock', (e) => e.textContent)).toContain(`t = ${(failure.at / 1000).toFixed(3)} s`)
      expect(Number(await recorded.$$eval('#requests tr.request', (rows) => rows.length))).toBeGreaterThan(0)
      await screenshot('check-sim-seed-at-its-failure', recorded)
    } finally {
      await recorded.close()
    }
    expect(errors).toEqual([])
  })

  it("the page's link replays the scenario to the same cluster in a new tab", async () => {
    await pause()
    const url = page.url()
    expect(url).toContain('#s=')
    const table = (p: Page): Promise<string> => p.$eval('#replicas tbody', (e) => e.textContent!)
    const requests = (p: Page): Promise<string> => p.$eval('#requests tbody', (e) => e.textContent!.replace(/\d+\.\d+ s/g, ''))
    const flights = (p: Page): Promise<string> => p.$eval('#flights tbody', (e) => e.textContent!)
    const replay = await open(url)
    try {
      expect(await replay.$eval('#play', (b) => b.textContent)).toBe('Run')
      expect(await replay.$eval('#clock', (e) => e.textContent)).toBe(await page.$eval('#clock', (e) => e.textContent))
      expect(await table(replay)).toBe(await table(page))
      expect(await requests(replay)).toBe(await requests(page))
      expect(await flights(replay)).toBe(await flights(page))
      expect(await replay.$eval('#notice', (e) => e.textContent)).toContain('Opened a shared scenario')
      await screenshot('replayed-from-link', replay)
    } finally {
      await replay.close()
    }
    expect(errors).toEqual([])
  })
})
