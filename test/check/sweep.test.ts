import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SimResult } from '../../src/check/cluster'
import { CHECKER_FAILED } from '../../src/check/linearizability'
import { localRunner, runSeedsInOrder, workerRunner, type SeedRunner } from '../../src/check/sweep'

/** A seed's made-up result: failing seeds carry a failure. */
const resultOf = (seed: number, failing: ReadonlySet<number>): SimResult => ({
  seed,
  failure: failing.has(seed) ? { seed, at: seed, invariant: 'Made up', detail: `seed ${seed}`, trace: '' } : undefined,
  stats: { steps: seed, simulatedMs: 10 * seed } as SimResult['stats'],
  fingerprint: 0,
})

/**
 * Runners whose seeds finish when the test says: at every turn the seed in flight that the policy
 * picks finishes (the highest seed first is the most reordering there can be).
 */
const scripted = async (
  count: number,
  runnerCount: number,
  failing: ReadonlySet<number>,
  pick: (inFlight: readonly number[]) => number,
): Promise<{ reported: number[]; started: number[]; finishOrder: number[] }> => {
  const inFlight = new Map<number, () => void>()
  const started: number[] = []
  const finishOrder: number[] = []
  const runners: SeedRunner[] = Array.from({ length: runnerCount }, () => ({
    run: (seed) =>
      new Promise<SimResult>((resolve) => {
        started.push(seed)
        inFlight.set(seed, () => resolve(resultOf(seed, failing)))
      }),
    close: async () => {},
  }))
  const reported: number[] = []
  let done = false
  const sweep = runSeedsInOrder(1, count, runners, (r) => reported.push(r.seed)).then(() => {
    done = true
  })
  while (!done) {
    await new Promise((resolve) => setImmediate(resolve))
    if (inFlight.size === 0) continue
    const seed = pick([...inFlight.keys()])
    const finish = inFlight.get(seed)!
    inFlight.delete(seed)
    finishOrder.push(seed)
    finish()
  }
  await sweep
  return { reported, started, finishOrder }
}

const highestFirst = (seeds: readonly number[]): number => Math.max(...seeds)
const lowestFirst = (seeds: readonly number[]): number => Math.min(...seeds)
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('a sweep over several runners reports what one runner in seed order would', () => {
  it('with no failure: every seed once, reported in seed order, though they finish out of order', async () => {
    for (const runners of [1, 2, 3, 5]) {
      const { reported, started, finishOrder } = await scripted(12, runners, new Set(), highestFirst)
      expect(reported).toEqual(range(1, 12))
      expect([...started].sort((a, b) => a - b)).toEqual(range(1, 12))
      if (runners > 1) expect(finishOrder).not.toEqual(range(1, 12))
    }
  })

  it('stops at the first failing seed in seed order, even when a later failing seed finishes first', async () => {
    const { reported, finishOrder } = await scripted(20, 3, new Set([2, 3, 9]), highestFirst)
    expect(reported).toEqual([1, 2])
    // Seed 3 failed before seed 2 finished: the report still names 2.
    expect(finishOrder.indexOf(3)).toBeLessThan(finishOrder.indexOf(2))
  })

  it('does not count a seed past the first failure that a runner had already finished', async () => {
    // Seed 5 finishes last of all.
    const fiveLast = (seeds: readonly number[]): number => highestFirst(seeds.length > 1 ? seeds.filter((s) => s !== 5) : seeds)
    const { reported, finishOrder } = await scripted(20, 4, new Set([5]), fiveLast)
    expect(reported).toEqual(range(1, 5))
    expect(finishOrder.some((seed) => seed > 5)).toBe(true)
  })

  it('gives the same report whatever the number of runners and the order they finish in', async () => {
    const failing = new Set([7, 11])
    const expected = range(1, 7)
    for (const runners of [1, 2, 3, 6]) {
      for (const pick of [highestFirst, lowestFirst]) {
        expect((await scripted(30, runners, failing, pick)).reported).toEqual(expected)
      }
    }
  })

  it('runs no seed after a failure is known, past that failure', async () => {
    const { started } = await scripted(50, 2, new Set([3]), lowestFirst)
    expect(Math.max(...started)).toBeLessThanOrEqual(4)
  })

  it('the local runner runs the real simulation of the seed it is asked for', async () => {
    const runner = localRunner({ seconds: 2, replicas: 3, mutant: undefined, freeze: false })
    const [a, b] = await Promise.all([runner.run(4), runner.run(5)])
    expect(a.seed).toBe(4)
    expect(b.seed).toBe(5)
    expect(a.failure).toBeUndefined()
    expect(a.stats.simulatedMs).toBeGreaterThanOrEqual(2_000)
    // The seed decides the run: the same seed again gives the same run, another seed another one.
    expect((await runner.run(4)).stats).toEqual(a.stats)
    expect(b.stats).not.toEqual(a.stats)
  })
})

describe('a runner that fails stops the sweep with that seed\'s report', () => {
  it('a runner that throws fails its seed, "the checker failed" with the cause, and runs nothing more', async () => {
    const started: number[] = []
    const runner: SeedRunner = {
      run: async (seed) => {
        started.push(seed)
        if (seed === 3) throw new RangeError('Set maximum size exceeded')
        return resultOf(seed, new Set())
      },
      close: async () => {},
    }
    const reported = await runSeedsInOrder(1, 10, [runner])
    expect(reported.map((r) => r.seed)).toEqual([1, 2, 3])
    expect(reported[2]!.failure?.invariant).toBe(CHECKER_FAILED)
    expect(reported[2]!.failure?.detail).toMatch(/^the sweep's runner of seed 3 failed: RangeError: Set maximum size exceeded/)
    expect(reported[2]!.runnerFailed).toBe(true)
    expect(started).toEqual([1, 2, 3])
  })

  it('does not wait for a seed past the failure that another runner is still running', async () => {
    const started: number[] = []
    const runners: SeedRunner[] = [0, 1].map(() => ({
      run: (seed) => {
        started.push(seed)
        if (seed === 2) return new Promise<SimResult>((resolve) => setTimeout(() => resolve(resultOf(2, new Set([2]))), 20))
        if (seed === 1) return Promise.resolve(resultOf(1, new Set()))
        return new Promise<SimResult>(() => {}) // runs for ever
      },
      close: async () => {},
    }))
    const reported = await runSeedsInOrder(1, 10, runners)
    expect(reported.map((r) => r.seed)).toEqual([1, 2])
    expect(started).toContain(3) // still running when the sweep returned
  })

  it('a worker thread that dies fails the seed it was given, with the cause', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-worker-'))
    const file = path.join(dir, 'broken-worker.js')
    fs.writeFileSync(file, "throw new Error('the worker broke on loading')\n")
    const runner = workerRunner({ seconds: 1, replicas: 3, mutant: undefined, freeze: false }, file)
    try {
      const reported = await runSeedsInOrder(5, 3, [runner])
      expect(reported).toHaveLength(1)
      expect(reported[0]!.seed).toBe(5)
      expect(reported[0]!.failure?.detail).toMatch(/the worker broke on loading/)
      // Dead, it refuses the next seed at once rather than leave it waiting.
      await expect(runner.run(6)).rejects.toThrow(/the worker broke on loading/)
    } finally {
      await runner.close()
    }
  })
})
