/** The header (run or pause, the clock and the leader, what is shown, the client's choices) and the legend. */
import { RecordedRun } from '../recorded'
import { $, el, seconds } from './dom'
import { clientName, currentLeader, termOf } from './labels'
import { clientSelect, clock, playButton, targetSelect } from './skeleton'
import { page } from './state'

export const drawHeader = (): void => {
  playButton.textContent = page.running ? 'Pause' : 'Run'
  playButton.dataset['running'] = String(page.running)
  const leader = currentLeader()
  clock.textContent = `t = ${seconds(page.cluster.now)} · ${page.cluster.events} events · ${leader === undefined ? 'no leader' : `leader ${leader.id} (term ${termOf(leader)})`}`
  clock.dataset['leader'] = leader?.id ?? ''
  $<HTMLElement>('#subtitle').textContent = page.cluster instanceof RecordedRun
    ? `check:sim ${page.cluster.query.replace(/&/g, ' ')} · ${page.cluster.ids.length} replicas · ${page.cluster.failure === undefined ? 'passed' : `FAILED: ${page.cluster.failure.invariant} at t = ${seconds(page.cluster.failure.at)}`} · a recording, ${page.cluster.pendingScript} happening(s) to come`
    : `${page.cluster.ids.length} replicas of the production reducer · seed ${page.cluster.seed}${page.cluster.pendingScript > 0 ? ` · replaying: ${page.cluster.pendingScript} action(s) to come` : ''}`
  $<HTMLButtonElement>('#to-failure').hidden = !(page.cluster instanceof RecordedRun && page.cluster.failure !== undefined)
  const previousClient = clientSelect.value
  if (clientSelect.options.length !== page.cluster.clientIds.length) {
    clientSelect.replaceChildren(...page.cluster.clientIds.map((id, i) => new Option(`client ${clientName(i)}`, String(i))))
    clientSelect.value = previousClient === '' ? '0' : previousClient
  }
  const previousTarget = targetSelect.value
  if (targetSelect.options.length !== page.cluster.ids.length + 1) {
    targetSelect.replaceChildren(new Option('to the leader it knows', ''), ...page.cluster.ids.map((id) => new Option(`to ${id}`, id)))
    targetSelect.value = previousTarget
  }
}

export const drawLegend = (): void => {
  const items: [string, string][] = [
    ['role-follower', 'follower'], ['role-preCandidate', 'pre-candidate'], ['role-candidate', 'candidate'], ['role-leader', 'leader'], ['role-down', 'down'],
    ['kind-vote', 'votes'], ['kind-append', 'AppendEntries'], ['kind-client', 'client'], ['kind-snapshot', 'snapshot'],
  ]
  $<HTMLElement>('#legend').replaceChildren(
    ...items.map(([cls, text]) => el('span', {}, el('span', { class: `swatch ${cls}` }), text)),
    el('span', {}, el('span', { class: 'swatch timer' }), 'election timer (full ring: the longest timeout)'),
  )
}
