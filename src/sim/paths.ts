import * as fs from 'fs'
import * as path from 'path'

/** The repository root: the nearest folder above this file with the project's package.json. */
export function repoRoot(): string {
  let dir = __dirname
  for (;;) {
    const manifest = path.join(dir, 'package.json')
    if (fs.existsSync(manifest) && fs.existsSync(path.join(dir, 'configs'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`cannot find the repository root above ${__dirname}`)
    dir = parent
  }
}

/** The 17 public scenarios, in the order `all` runs them. */
export const PUBLIC_SCENARIOS = [
  'simple-1', 'simple-2',
  'crash-1', 'crash-2', 'crash-3', 'crash-4',
  'partition-1', 'partition-2', 'partition-3', 'partition-4',
  'unreliable-1', 'unreliable-2', 'unreliable-3',
  'advanced-1', 'advanced-2', 'advanced-3', 'advanced-4',
] as const

/**
 * The project's own scenarios for other cluster sizes (drops, a partition and a leader kill), which
 * the bench runs after the public ones. The protocol allows 3 to 21 replicas.
 */
export const CLUSTER_SIZE_SCENARIOS = ['size-3', 'size-7', 'size-21'] as const

/**
 * The project's scenarios with kvsim's own `restart` event: killed replicas come back on their data
 * directories (so these run with the replicas on disk), with drops. In restart-3 a follower is down
 * while 3,000 puts go by, and its leader has compacted its log by then: it catches up from an
 * InstallSnapshot (§7).
 */
export const RESTART_SCENARIOS = ['restart-1', 'restart-2', 'restart-3'] as const

/** Every scenario `npm run bench` runs by default. */
export const BENCH_SCENARIOS = [...PUBLIC_SCENARIOS, ...CLUSTER_SIZE_SCENARIOS, ...RESTART_SCENARIOS] as const

export function publicScenarioFiles(): string[] {
  return PUBLIC_SCENARIOS.map((name) => path.join(repoRoot(), 'configs', `${name}.json`))
}

export function defaultReplica(): string {
  return path.join(repoRoot(), '3700kvstore')
}
