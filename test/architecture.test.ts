/**
 * The guide: "Functional core, imperative shell: src/domain knows nothing of sockets, clocks, disks
 * or randomness ... Every arrow between folders points one way." The import graph of src's folders
 * (scripts/folder-arrows.cjs, which also prints it) is held to both.
 */
import * as fs from 'node:fs'
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

/** Issue 22: "small modules, one concern each" (the guide), held to a number: no source file over 450 lines. */
const MAX_SOURCE_LINES = 450

const sourceFiles = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return entry.name.endsWith('.ts') ? [full] : []
  })

const linesOf = (file: string): number => fs.readFileSync(file, 'utf8').split('\n').length - 1

describe('the size of the source files', () => {
  it(`no file in src is over ${MAX_SOURCE_LINES} lines`, () => {
    const srcRoot = path.join(__dirname, '..', 'src')
    const files = sourceFiles(srcRoot)
    // The walk sees the sources (an empty one would pass for nothing).
    expect(files.length).toBeGreaterThan(100)
    const over = files
      .map((file) => ({ file: path.relative(srcRoot, file), lines: linesOf(file) }))
      .filter(({ lines }) => lines > MAX_SOURCE_LINES)
    expect(over).toEqual([])
  })
})
