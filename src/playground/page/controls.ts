/** The page's controls: every button, field, click and key a person uses, turned into the page's actions. */
import * as E from 'fp-ts/Either'
import type { NodeId } from '../../domain/wire'
import { PlaygroundCluster } from '../cluster'
import { RecordedRun } from '../recorded'
import { decodeScenario, MAX_REPLICAS, MIN_REPLICAS } from '../scenario'
import { $, el } from './dom'
import { act, load, loadScenario, openFromHash, rememberInUrl, say, setRunning } from './actions'
import { clientSelect, countSelect, keyInput, playButton, seedInput, speedSelect, stage, targetSelect, valueInput } from './skeleton'
import { checkedForSplit, page, SPEEDS } from './state'

for (const s of SPEEDS) speedSelect.add(new Option(`${s}×`, String(s), s === page.speed, s === page.speed))
for (let n = MIN_REPLICAS; n <= MAX_REPLICAS; n++) countSelect.add(new Option(String(n), String(n), n === 5, n === 5))

playButton.addEventListener('click', () => setRunning(!page.running))
$<HTMLButtonElement>('#step').addEventListener('click', () => stepOnce())
speedSelect.addEventListener('change', () => {
  page.speed = Number(speedSelect.value)
})

const stepOnce = (): void => {
  setRunning(false)
  const before = page.cluster.steps.at(-1)?.id
  if (!page.cluster.stepOnce()) say('Nothing is due: no message in flight and no timer set.', 'info')
  const latest = page.cluster.steps.at(-1)
  if (latest !== undefined && latest.id !== before) page.selection = { kind: 'step', id: latest.id }
  page.dirty = true
  rememberInUrl()
}

$<HTMLButtonElement>('#new').addEventListener('click', () => {
  const seed = Number(seedInput.value)
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    say('The seed is a whole number from 0 to 4294967295.')
    return
  }
  load(new PlaygroundCluster(seed, Number(countSelect.value)))
  rememberInUrl()
})
$<HTMLButtonElement>('#rewind').addEventListener('click', () => {
  if (page.cluster instanceof RecordedRun) {
    setRunning(false)
    load(RecordedRun.of(page.cluster.seed, page.cluster.params), 'The recording again, from the start. Press Run or Step.')
    return
  }
  if (!(page.cluster instanceof PlaygroundCluster)) return
  const scenario = { ...page.cluster.scenario(), events: 0, time: 0 }
  setRunning(false)
  load(PlaygroundCluster.replaying(scenario), `Replaying from the start: ${scenario.actions.length} action(s) will happen at their moments. Press Run.`)
})
$<HTMLButtonElement>('#share').addEventListener('click', () => {
  rememberInUrl()
  const url = location.href
  navigator.clipboard?.writeText(url).then(
    () => say('The link to this scenario is in the address bar and on the clipboard.', 'info'),
    () => say('The link to this scenario is in the address bar.', 'info'),
  ) ?? say('The link to this scenario is in the address bar.', 'info')
})
$<HTMLButtonElement>('#to-failure').addEventListener('click', () => {
  if (!(page.cluster instanceof RecordedRun) || page.cluster.failure === undefined) return
  setRunning(false)
  page.cluster.advanceTo(page.cluster.failure.at)
  const last = page.cluster.steps.at(-1)
  if (last !== undefined) page.selection = { kind: 'step', id: last.id }
  page.dirty = true
  rememberInUrl()
})
$<HTMLButtonElement>('#export').addEventListener('click', () => {
  if (!(page.cluster instanceof PlaygroundCluster)) return
  const blob = new Blob([`${JSON.stringify(page.cluster.scenario(), null, 1)}\n`], { type: 'application/json' })
  const link = el('a', { href: URL.createObjectURL(blob), download: `raftkv-playground-seed-${page.cluster.seed}.json` })
  document.body.append(link)
  link.click()
  link.remove()
})
$<HTMLInputElement>('#import').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement
  const file = input.files?.[0]
  input.value = ''
  if (file === undefined) return
  let json: unknown
  try {
    json = JSON.parse(await file.text())
  } catch {
    say(`${file.name} is not JSON.`)
    return
  }
  const decoded = decodeScenario(json)
  if (E.isLeft(decoded)) say(`${file.name} is not a playground scenario: ${decoded.left}`)
  else loadScenario(decoded.right, `Imported ${file.name}`)
})
$<HTMLButtonElement>('#heal').addEventListener('click', () => act({ kind: 'heal' }))
$<HTMLButtonElement>('#split').addEventListener('click', () => {
  const group = page.cluster.ids.filter((id) => checkedForSplit.has(id))
  if (group.length === 0 || group.length === page.cluster.ids.length) {
    say('Tick some replicas, not all, to cut them off from the rest.')
    return
  }
  act({ kind: 'partition', groups: [group, page.cluster.ids.filter((id) => !checkedForSplit.has(id))] })
  checkedForSplit.clear()
})

const sendRequest = (kind: 'put' | 'get'): void => {
  const client = Number(clientSelect.value || '0')
  const to = targetSelect.value === '' ? undefined : (targetSelect.value as NodeId)
  const key = keyInput.value
  if (kind === 'put') {
    act({ kind: 'put', client, key, value: valueInput.value, ...(to === undefined ? {} : { to }) })
    // The next put writes a fresh value: every put its own value, as the checker's workloads do.
    if (/^\d+$/.test(valueInput.value)) valueInput.value = String(Number(valueInput.value) + 1)
  } else act({ kind: 'get', client, key, ...(to === undefined ? {} : { to }) })
}
$<HTMLFormElement>('#request-form').addEventListener('submit', (event) => {
  event.preventDefault()
  sendRequest('put')
})
$<HTMLButtonElement>('#get').addEventListener('click', () => sendRequest('get'))

stage.addEventListener('click', (event) => {
  const target = event.target as Element
  const flight = target.closest('[data-flight]')
  if (flight !== null) {
    // A message you clicked should not arrive while you decide what to do with it.
    setRunning(false)
    page.selection = { kind: 'flight', id: Number(flight.getAttribute('data-flight')) }
    page.dirty = true
    return
  }
  const replica = target.closest('[data-replica]')
  if (replica !== null) {
    page.selection = { kind: 'replica', id: replica.getAttribute('data-replica') as NodeId }
    page.dirty = true
    return
  }
  const link = target.closest('[data-link]')
  if (link !== null) {
    const [a, b] = link.getAttribute('data-link')!.split('|') as [NodeId, NodeId]
    act({ kind: 'link', a, b, cut: !page.cluster.isCut(a, b) })
  }
})

document.addEventListener('click', (event) => {
  const target = event.target as Element
  const button = target.closest('button[data-act]')
  if (button !== null) {
    const what = button.getAttribute('data-act')!
    const replica = button.getAttribute('data-replica') as NodeId
    const flight = Number(button.getAttribute('data-flight'))
    if (what === 'kill') act({ kind: 'kill', replica })
    else if (what === 'restart') act({ kind: 'restart', replica })
    else if (what === 'drop') act({ kind: 'drop', flight })
    else if (what === 'delay') act({ kind: 'delay', flight, ms: 500 })
    else if (what === 'duplicate') act({ kind: 'duplicate', flight })
    return
  }
  const select = target.closest('[data-select],[data-select-flight],[data-select-step]')
  if (select !== null) {
    event.preventDefault()
    const replica = select.getAttribute('data-select')
    const flight = select.getAttribute('data-select-flight')
    const stepId = select.getAttribute('data-select-step')
    page.selection = replica !== null ? { kind: 'replica', id: replica as NodeId } : flight !== null ? { kind: 'flight', id: Number(flight) } : { kind: 'step', id: Number(stepId) }
    if (flight !== null) setRunning(false)
    page.dirty = true
  }
})

document.addEventListener('change', (event) => {
  const target = event.target as HTMLInputElement
  const id = target.getAttribute('data-split')
  if (id === null) return
  if (target.checked) checkedForSplit.add(id as NodeId)
  else checkedForSplit.delete(id as NodeId)
})

document.addEventListener('keydown', (event) => {
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) return
  if (event.key === ' ') {
    event.preventDefault()
    setRunning(!page.running)
  } else if (event.key === 's') stepOnce()
})

window.addEventListener('hashchange', () => {
  if (location.hash === page.cluster.hash()) return
  if (!openFromHash(location.hash)) return
})
