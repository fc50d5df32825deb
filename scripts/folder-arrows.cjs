#!/usr/bin/env node
/**
 * The arrows between src's folders: which folder imports from which (relative imports of the
 * TypeScript sources), and every cycle among them. The guide's rule is that every arrow points one
 * way, so the folders form a stack of floors; test/architecture.test.ts holds the sources to it.
 *
 *   node scripts/folder-arrows.cjs     prints each arrow with its count, then the cycles (exit 1 if any)
 */
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']*)'/g

/** Every .ts file under `dir`. */
const sources = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(full)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : []
  })

/** Map "from -> to" (folder names under `srcRoot`; a file directly in it counts as folder ".") to the imports behind it. */
const folderArrows = (srcRoot) => {
  const folderOf = (file) => {
    const parts = path.relative(srcRoot, file).split(path.sep)
    return parts.length === 1 ? '.' : parts[0]
  }
  const arrows = new Map()
  for (const file of sources(srcRoot)) {
    for (const match of fs.readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), match[1])
      if (path.relative(srcRoot, target).startsWith('..')) continue
      const from = folderOf(file)
      const to = folderOf(target)
      if (from === to) continue
      const key = `${from} -> ${to}`
      if (!arrows.has(key)) arrows.set(key, [])
      arrows.get(key).push(`${path.relative(srcRoot, file)} imports ${match[1]}`)
    }
  }
  return arrows
}

/** The cycles of the folder graph: its strongly connected components of more than one folder (Tarjan). */
const cycles = (arrows) => {
  const next = new Map()
  for (const key of arrows.keys()) {
    const [from, to] = key.split(' -> ')
    if (!next.has(from)) next.set(from, [])
    if (!next.has(to)) next.set(to, [])
    next.get(from).push(to)
  }
  let counter = 0
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const found = []
  const visit = (v) => {
    index.set(v, counter)
    low.set(v, counter)
    counter++
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v)) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
    }
    if (low.get(v) === index.get(v)) {
      const component = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1) found.push(component.sort())
    }
  }
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v)
  return found
}

module.exports = { folderArrows, cycles }

if (require.main === module) {
  const arrows = folderArrows(path.join(__dirname, '..', 'src'))
  for (const key of [...arrows.keys()].sort()) process.stdout.write(`${key} (${arrows.get(key).length})\n`)
  const found = cycles(arrows)
  for (const component of found) {
    process.stdout.write(`cycle among ${component.join(', ')}:\n`)
    for (const key of [...arrows.keys()].sort()) {
      const [from, to] = key.split(' -> ')
      if (component.includes(from) && component.includes(to)) process.stdout.write(`  ${key}: ${arrows.get(key).join('; ')}\n`)
    }
  }
  if (found.length === 0) process.stdout.write('no cycles: every arrow between folders points one way\n')
  process.exitCode = found.length === 0 ? 0 : 1
}
