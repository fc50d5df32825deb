/**
 * A sweep of seeds for `check:sim`, in this thread or spread over worker threads.
 *
 * Whatever the number of workers, the outcome is the one a single thread running the seeds in
 * order would report: results are taken in seed order, the sweep stops at the first failing seed
 * in that order, and a seed past it that a worker happened to run is not counted. Each seed's run
 * depends on its seed alone, so the report does not depend on which worker ran what, or when.
 */
import { Worker } from 'node:worker_threads'
import * as path from 'node:path'
import { simulate, sweepOptions, type SimResult } from './cluster'
import { CHECKER_FAILED } from './linearizability'
import { sweepBase, type SweepParams } from './sweep-params'
import { emptySimStats } from './sim-options'

export { sweepBase, type SweepParams } from './sweep-params'

/** Runs one seed at a time. */
export interface SeedRunner {
  run(seed: number): Promise<SimResult>
  close(): Promise<void>
}

/** A seed's result, or the failure of the runner that ran it (`runnerFailed`: no run to repeat). */
export type SweepResult = SimResult & { readonly runnerFailed?: true }

/** The result that stands for a seed whose runner threw or died: the sweep stops there, with the cause. */
export const runnerFailure = (seed: number, error: unknown): SweepResult => ({
  seed,
  failure: {
    seed,
    at: 0,
    invariant: CHECKER_FAILED,
    detail: `the sweep's runner of seed ${seed} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    trace: '(none: the runner failed)',
  },
  stats: emptySimStats(),
  fingerprint: 0,
  runnerFailed: true,
})

/**
 * Runs seeds `first`, `first + 1`, ... (`count` of them) on the runners, each runner taking the
 * next seed as soon as it is free, and hands the results to `onResult` in seed order, up to and
 * including the first failure. Returns those results as soon as they are known: seeds past the
 * first failure still running on other runners are not waited for (the caller closes the
 * runners). A runner that throws or dies fails its seed (runnerFailure) and runs nothing more.
 */
export const runSeedsInOrder = async (
  first: number,
  count: number,
  runners: readonly SeedRunner[],
  onResult: (result: SweepResult) => void = () => {},
): Promise<SweepResult[]> => {
  const end = first + count
  let next = first
  let firstFailing = Number.POSITIVE_INFINITY
  let reportFrom = first
  let stopped = false
  let decided: () => void = () => {}
  const decision = new Promise<void>((resolve) => (decided = resolve))
  const waiting = new Map<number, SweepResult>()
  const reported: SweepResult[] = []
  const flush = (): void => {
    for (let r = waiting.get(reportFrom); !stopped && r !== undefined; r = waiting.get(reportFrom)) {
      waiting.delete(reportFrom)
      reportFrom++
      reported.push(r)
      onResult(r)
      if (r.failure !== undefined) stopped = true
    }
    if (stopped || reportFrom === end) decided()
  }
  const drive = async (runner: SeedRunner): Promise<void> => {
    while (!stopped && next < end && next < firstFailing) {
      const seed = next++
      let result: SweepResult
      try {
        result = await runner.run(seed)
        if (result.seed !== seed) throw new Error(`asked for seed ${seed}, got the result of seed ${result.seed}`)
      } catch (error) {
        result = runnerFailure(seed, error)
      }
      if (result.failure !== undefined && seed < firstFailing) firstFailing = seed
      waiting.set(seed, result)
      flush()
      if (result.runnerFailed === true) return
    }
  }
  const drives = Promise.all(runners.map(drive))
  if (count <= 0) decided()
  await Promise.race([decision, drives])
  return reported
}

/** A runner in this thread. */
export const localRunner = (params: SweepParams): SeedRunner => {
  const base = sweepBase(params)
  return {
    run: async (seed) => simulate(sweepOptions(seed, base)),
    close: async () => {},
  }
}

/** Messages between the sweep and a worker (sweep-worker.ts). */
export type ToWorker = { readonly seed: number }
export type FromWorker = { readonly result: SimResult } | { readonly error: string }

/** A runner on a worker thread of its own; `workerFile` is the compiled sweep-worker.js. */
export const workerRunner = (params: SweepParams, workerFile = path.join(__dirname, 'sweep-worker.js')): SeedRunner => {
  const worker = new Worker(workerFile, { workerData: params })
  let pending: { resolve: (r: SimResult) => void; reject: (e: Error) => void } | undefined
  /** Why the worker can run nothing more, once it errs or exits. */
  let dead: Error | undefined
  const fail = (error: Error): void => {
    dead ??= error
    const p = pending
    pending = undefined
    p?.reject(error)
  }
  worker.on('message', (message: FromWorker) => {
    const p = pending
    pending = undefined
    if (p === undefined) return
    if ('error' in message) p.reject(new Error(message.error))
    else p.resolve(message.result)
  })
  worker.on('error', fail)
  worker.on('exit', (code) => fail(new Error(`a sweep worker exited (code ${code}) with a seed unfinished`)))
  return {
    run: (seed) =>
      new Promise<SimResult>((resolve, reject) => {
        if (pending !== undefined) throw new Error('a worker runs one seed at a time')
        if (dead !== undefined) return reject(dead)
        pending = { resolve, reject }
        worker.postMessage({ seed } satisfies ToWorker)
      }),
    close: async () => {
      await worker.terminate()
    },
  }
}
