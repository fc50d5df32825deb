/**
 * What one seed of a check:sim sweep is run with besides its seed: plain data, so that it can be
 * sent to a worker thread, printed as a query (`seed=17&seconds=20&workload=shared`) and read back
 * (the playground replays a seed from one). Pure: no Node module, so the browser can run a seed too.
 */
import type { SimOptions } from './cluster'
import { mutants, type MutantName } from './mutants'
import { freezing, realStep } from './stepper'
import { workloads, type Workload } from './workload'
import type { ReadStyle } from '../domain/config'

const readStyles: readonly ReadStyle[] = ['lease', 'readIndex']

export interface SweepParams {
  readonly seconds: number
  readonly replicas: number | undefined
  readonly mutant: MutantName | undefined
  /** Drive the reducer through `freezing` (every state and effect deep-frozen), as the tests do. */
  readonly freeze: boolean
  /** Which keys the clients use (workload.ts); undefined: the default, `own`. */
  readonly workload?: Workload
  /** How leaders confirm gets: undefined, the course's lease; or ReadIndex (thesis §6.4), the real cluster's. */
  readonly reads?: ReadStyle
}

export const sweepBase = (params: SweepParams): Partial<SimOptions> => {
  const base: { -readonly [K in keyof SimOptions]?: SimOptions[K] } = { faultPhaseMs: params.seconds * 1000 }
  if (params.replicas !== undefined) base.replicas = params.replicas
  if (params.workload !== undefined) base.workload = params.workload
  if (params.reads !== undefined) base.reads = params.reads
  if (params.mutant !== undefined) {
    const mutant = mutants[params.mutant]
    Object.assign(base, mutant.options, { step: mutant.step })
  }
  if (params.freeze) base.step = freezing(base.step ?? realStep)
  return base
}

/** check:sim's defaults for what the query leaves out. */
export const DEFAULT_SECONDS = 20

/** A seed and its parameters as a query: `seed=17&seconds=20`, then only what differs from the defaults. */
export const seedQuery = (seed: number, params: SweepParams): string => {
  const parts = [`seed=${seed}`, `seconds=${params.seconds}`]
  if (params.replicas !== undefined) parts.push(`replicas=${params.replicas}`)
  if (params.workload !== undefined) parts.push(`workload=${params.workload}`)
  if (params.mutant !== undefined) parts.push(`mutant=${params.mutant}`)
  if (params.reads !== undefined) parts.push(`reads=${params.reads}`)
  return parts.join('&')
}

/** Reads `seedQuery`'s text back: the seed and parameters, or why it cannot be. */
export const parseSeedQuery = (query: string): { readonly seed: number; readonly params: SweepParams } | string => {
  const fields = new Map<string, string>()
  for (const part of query.split('&')) {
    if (part === '') continue
    const [name, value = ''] = part.split('=', 2) as [string, string?]
    fields.set(name, decodeURIComponent(value))
  }
  const int = (name: string, min: number, max: number): number | string | undefined => {
    const text = fields.get(name)
    if (text === undefined) return undefined
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : `${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`
  }
  const seed = int('seed', 0, 0xffffffff)
  if (seed === undefined) return 'no seed'
  const seconds = int('seconds', 1, 3600) ?? DEFAULT_SECONDS
  const replicas = int('replicas', 1, 21)
  for (const value of [seed, seconds, replicas]) if (typeof value === 'string') return value
  const workload = fields.get('workload')
  if (workload !== undefined && !(workloads as readonly string[]).includes(workload)) return `workload must be one of ${workloads.join(', ')}`
  const reads = fields.get('reads')
  if (reads !== undefined && !(readStyles as readonly string[]).includes(reads)) return `reads must be one of ${readStyles.join(', ')}`
  const mutant = fields.get('mutant')
  if (mutant !== undefined && !Object.hasOwn(mutants, mutant)) return `there is no mutant ${JSON.stringify(mutant)}`
  for (const name of fields.keys()) {
    if (!['seed', 'seconds', 'replicas', 'workload', 'reads', 'mutant', 'events'].includes(name)) return `unknown field ${JSON.stringify(name)}`
  }
  return {
    seed: seed as number,
    params: {
      seconds: seconds as number,
      replicas: replicas as number | undefined,
      mutant: mutant as MutantName | undefined,
      freeze: false,
      ...(workload === undefined ? {} : { workload: workload as Workload }),
      ...(reads === undefined ? {} : { reads: reads as ReadStyle }),
    },
  }
}
