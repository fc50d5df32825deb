#!/usr/bin/env node
/**
 * Builds dist/ when, and only when, something it is built from changed: every npm script that runs
 * compiled code calls this first, and it costs a few milliseconds when nothing changed.
 *
 * "Changed" is by modification time: any file under src/, or tsconfig.json, newer than the stamp
 * this script writes after a successful build (dist/.build-stamp). The build itself is `tsc -b`,
 * incremental (tsconfig.json), so a change to one file rechecks what depends on it, not everything.
 * Two builds started together (two `npm test` in one clone) do not write dist/ at once: the second
 * waits for the first's lock (dist/.build-lock, holding its PID) and then finds nothing to do; the
 * lock of a build that was killed is taken over.
 *
 *   node scripts/build.cjs            build if stale (quiet when nothing changed)
 *   node scripts/build.cjs --force    build whatever the stamp says
 */
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.resolve(__dirname, '..')
const dist = path.join(root, 'dist')
const stamp = path.join(dist, '.build-stamp')
const lock = path.join(dist, '.build-lock')
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
/** A lock older than this was left by a build that died; a build takes about a minute on a busy machine. */
const STALE_LOCK_MS = 10 * 60 * 1000

/** The newest modification time among the build's inputs, and which file it is. */
const newestInput = () => {
  let newest = { mtimeMs: 0, file: '' }
  const visit = (file) => {
    const stat = fs.statSync(file)
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(file)) visit(path.join(file, name))
    } else if (stat.mtimeMs > newest.mtimeMs) {
      newest = { mtimeMs: stat.mtimeMs, file }
    }
  }
  visit(path.join(root, 'src'))
  visit(path.join(root, 'tsconfig.json'))
  return newest
}

/** Why dist/ must be built, or undefined when it is up to date. */
const staleness = () => {
  let built
  try {
    built = fs.statSync(stamp).mtimeMs
  } catch {
    return 'dist/ has not been built in this clone'
  }
  const newest = newestInput()
  return newest.mtimeMs > built ? `${path.relative(root, newest.file)} changed since the last build` : undefined
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/** True when the process that took the lock is gone (killed mid-build): its lock is stale. */
const ownerGone = () => {
  let pid
  try {
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'))
  } catch {
    // No pid file yet (the owner is between mkdir and write) or the lock is gone: judge by age.
    return false
  }
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return error.code === 'ESRCH'
  }
}

const takeLock = () => {
  fs.mkdirSync(dist, { recursive: true })
  for (;;) {
    try {
      fs.mkdirSync(lock)
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid))
      return
    } catch (error) {
      if (error.code !== 'EEXIST') throw error
    }
    try {
      if (ownerGone() || Date.now() - fs.statSync(lock).mtimeMs > STALE_LOCK_MS) {
        process.stderr.write('raftkv: removing the build lock of a build that did not finish\n')
        fs.rmSync(lock, { recursive: true, force: true })
      }
    } catch {
      // removed meanwhile
    }
    sleep(200)
  }
}

/** Builds when stale; returns the exit code (0 when dist/ is up to date). */
const ensureBuilt = ({ force = false } = {}) => {
  if (!force && staleness() === undefined) return 0
  if (!fs.existsSync(tsc)) {
    process.stderr.write('raftkv: the TypeScript compiler is not installed: run `npm ci` in this clone first.\n')
    return 1
  }
  takeLock()
  try {
    const why = force ? 'asked to' : staleness()
    if (why === undefined) return 0 // another build finished it while this one waited
    process.stderr.write(`raftkv: compiling (${why}) ...\n`)
    const began = Date.now()
    const result = spawnSync(process.execPath, [tsc, '-b', path.join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' })
    if (result.status !== 0) {
      process.stderr.write('raftkv: the build failed (the errors are above); dist/ may hold an older build.\n')
      return result.status ?? 1
    }
    fs.writeFileSync(stamp, `${new Date().toISOString()}\n`)
    process.stderr.write(`raftkv: compiled in ${((Date.now() - began) / 1000).toFixed(1)} s\n`)
    return 0
  } finally {
    fs.rmSync(lock, { recursive: true, force: true })
  }
}

module.exports = { ensureBuilt, staleness }

if (require.main === module) process.exitCode = ensureBuilt({ force: process.argv.includes('--force') })
