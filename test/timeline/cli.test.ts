/** --timeline on check:sim, through the compiled dist/src/cli/check-sim.js (`npm test` builds first). */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { describe, expect, it } from 'vitest'
import type { TimelineData } from '../../src/timeline/model'

const root = path.resolve(__dirname, '../..')
const checkSim = (args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'dist/src/cli/check-sim.js'), '--workers', '1', ...args], { encoding: 'utf8', timeout: 240_000 })

export const pageData = (file: string): TimelineData => {
  const html = fs.readFileSync(file, 'utf8')
  const json = html.match(/<script type="application\/json" id="timeline-data">(.*?)<\/script>/s)
  if (json === null) throw new Error(`no data in ${file}`)
  return JSON.parse(json[1]!) as TimelineData
}

describe('check:sim --timeline', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-sim-timeline-'))

  it('writes the page of the first failing seed, with the offending operation, and says where', () => {
    const file = path.join(dir, 'failing.html')
    const result = checkSim(['--seeds', '150', '--mutant', 'get-from-deposed-leader', '--timeline', file])
    expect(result.status).toBe(1)
    const seed = /^seed (\d+): (.*) violated/.exec(result.stdout)
    expect(seed).not.toBeNull()
    expect(result.stdout).toContain(`Timeline of seed ${seed![1]}: ${file}`)
    const data = pageData(file)
    expect(data.title).toBe(`check:sim seed ${seed![1]} (mutant get-from-deposed-leader): FAILED (${seed![2]})`)
    expect(data.failure?.title).toBe(seed![2])
  })

  it('with every seed passing, writes the first seed\'s page', () => {
    const file = path.join(dir, 'passing.html')
    const result = checkSim(['--seeds', '2', '--start', '3', '--seconds', '3', '--timeline', file])
    expect(result.status).toBe(0)
    expect(result.stdout).toContain(`Timeline of seed 3: ${file}`)
    const data = pageData(file)
    expect(data.failure).toBeNull()
    expect(data.title).toMatch(/^check:sim seed 3: passed/)
  })
})
