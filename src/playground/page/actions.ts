/**
 * What the page does on a person's word: run or pause, take an action on the cluster, say why
 * it was refused, keep the scenario in the address bar, and load a cluster, a scenario or a link
 * (a shared scenario, `#s=`, or a check:sim seed, `#checksim&seed=...`).
 */
import * as E from 'fp-ts/Either'
import { parseSeedQuery } from '../../check/sweep-params'
import { PlaygroundCluster } from '../cluster'
import type { ClusterView } from '../cluster-view'
import { RecordedRun } from '../recorded'
import { scenarioFromHash, type Action, type Scenario } from '../scenario'
import { seconds } from './dom'
import { countSelect, notice, seedInput } from './skeleton'
import { checkedForSplit, page } from './state'

export const setRunning = (on: boolean): void => {
  page.running = on
  if (!on) rememberInUrl()
  page.dirty = true
}

export const say = (text: string | undefined, kind: 'error' | 'info' = 'error'): void => {
  notice.hidden = text === undefined
  notice.className = kind
  notice.textContent = text ?? ''
}

export const act = (action: Action): void => {
  const refusal = page.cluster.act(action)
  say(refusal)
  page.dirty = true
  rememberInUrl()
}

/** The scenario in the address bar, without adding to the browser's history. */
export const rememberInUrl = (): void => {
  try {
    history.replaceState(null, '', page.cluster.hash())
  } catch {
    // A page opened from some places (a sandboxed frame) may not rewrite its URL: the Link and Export buttons still work.
  }
}

export const load = (next: ClusterView, message?: string): void => {
  page.cluster = next
  page.selection = undefined
  checkedForSplit.clear()
  document.body.classList.toggle('recorded', page.cluster.mode === 'recorded')
  if (page.cluster.mode === 'live') {
    seedInput.value = String(page.cluster.seed)
    countSelect.value = String(page.cluster.ids.length)
  }
  page.dirty = true
  say(message, 'info')
}

export const loadScenario = (scenario: Scenario, how: string): void => {
  const replay = PlaygroundCluster.replaying(scenario)
  replay.fastForward(scenario.events ?? 0, scenario.time ?? 0)
  setRunning(false)
  load(replay, `${how}: seed ${scenario.seed}, ${scenario.replicas} replicas, ${scenario.actions.length} action(s), replayed to t = ${seconds(replay.now)}. Press Run to go on, or Replay from start to watch it again.`)
}


/** Opens what a URL hash holds: a scenario (`#s=`) or a check:sim seed (`#checksim&seed=...`). False when it holds neither. */
export const openFromHash = (hash: string): boolean => {
  const checkSim = /^#checksim&(.*)$/s.exec(hash)
  if (checkSim !== null) {
    const query = parseSeedQuery(checkSim[1]!)
    if (typeof query === 'string') {
      say(`This link's check:sim seed cannot be opened: ${query}.`)
      return true
    }
    const events = Number(/(?:^|&)events=(\d+)/.exec(checkSim[1]!)?.[1] ?? 0)
    const run = RecordedRun.of(query.seed, query.params)
    run.fastForward(events)
    setRunning(false)
    load(run, `check:sim seed ${query.seed}, run here by check:sim's own simulation with the real reducer: ${run.failure === undefined ? 'it passed' : `it fails (${run.failure.invariant} at t = ${seconds(run.failure.at)}); "Go to the failure" jumps there`}. Press Run or Step to watch it.`)
    return true
  }
  const found = scenarioFromHash(hash)
  if (found === undefined) return false
  if (E.isLeft(found)) say(`This link's scenario cannot be replayed: ${found.left}`)
  else loadScenario(found.right, 'Opened a shared scenario')
  return true
}
