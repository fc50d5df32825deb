/**
 * The guide: "Functional core, imperative shell: src/domain knows nothing of sockets, clocks, disks
 * or randomness ... Every arrow between folders points one way." The import graph of src's folders
 * (scripts/folder-arrows.cjs, which also prints it) is held to both.
 */
import * as path from 'node:path'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)
const { folderArrows, cycles } = require('../scripts/folder-arrows.cjs') as {
  folderArrows: (srcRoot: string) => Map<string, string[]>
  cycles: (arrows: Map<string, string[]>) => string[][]
}

const arrows = folderArrows(path.join(__dirname, '..', 'src'))

describe('the arrows between src folders', () => {
  it('src/domain imports nothing from another folder of src (the Effect type lives beside the reducer that returns it)', () => {
    expect([...arrows.entries()].filter(([key]) => key.startsWith('domain -> '))).toEqual([])
  })

  it('every arrow points one way: no folder imports, through any path, from a folder that imports it', () => {
    expect(cycles(arrows)).toEqual([])
  })

  it('the check sees arrows and cycles (a graph with one planted)', () => {
    const planted = new Map([...arrows, ['domain -> check', ['planted']]])
    expect(arrows.has('check -> domain')).toBe(true)
    expect(cycles(planted).some((component) => component.includes('domain') && component.includes('check'))).toBe(true)
  })
})
