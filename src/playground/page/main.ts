/**
 * The playground page: draws the cluster (../cluster.ts) and turns what a person does into its
 * actions. Plain DOM and SVG, no framework. The page decides nothing about Raft: every role, term,
 * vote, log mark and message it shows is read from the replicas' states, the flights and the
 * steps' records; the verdict is the project's linearizability checker.
 */
import * as E from 'fp-ts/Either'
import { checkLinearizable } from '../../check/linearizability'
import { formatEffect, formatEvent, formatMessage } from '../../check/trace'
import { valuesOf } from '../../domain/kv'
import { entryAt, lastIndex } from '../../domain/log'
import type { Message, NodeId } from '../../domain/wire'
import { parseSeedQuery } from '../../check/sweep-params'
import { PlaygroundCluster, type ClusterView, type EndedFlight, type Flight, type Replica, type StepRecord } from '../cluster'
import { RecordedRun } from '../recorded'
import { rulesFor } from '../rules'
import { decodeScenario, MAX_REPLICAS, MIN_REPLICAS, scenarioFromHash, type Action, type Scenario } from '../scenario'

// ---- the page's state ------------------------------------------------------------------------

type Selection = { readonly kind: 'replica'; readonly id: NodeId } | { readonly kind: 'flight'; readonly id: number } | { readonly kind: 'step'; readonly id: number }

let cluster: ClusterView = new PlaygroundCluster(1, 5)
let running = false
let speed = 0.25
let selection: Selection | undefined
/** Something changed that the panels show: redraw them on the next frame. */
let dirty = true
let lastFrame: number | undefined

const SPEEDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 20]
const LOG_CELLS = 24
const SHOW_LOST_MS = 300

// ---- the skeleton ------------------------------------------------------------------------------

document.body.innerHTML = `
<header>
  <div class="title-row">
    <h1>raftkv playground</h1>
    <span id="subtitle"></span>
  </div>
  <div class="controls">
    <button id="play" type="button" class="primary"></button>
    <button id="step" type="button" title="handle the next event (key: s)">Step</button>
    <label>speed <select id="speed"></select></label>
    <span id="clock" class="clock"></span>
    <span class="sep"></span>
    <label>replicas <select id="replica-count"></select></label>
    <label>seed <input id="seed" type="number" min="0" max="4294967295" value="1"></label>
    <button id="new" type="button" title="a fresh cluster with this seed and size">New cluster</button>
    <button id="rewind" type="button" title="the same seed and actions, from time zero">Replay from start</button>
    <button id="to-failure" type="button" class="primary" hidden>Go to the failure</button>
    <span class="sep"></span>
    <button id="share" type="button" title="put the scenario in the address bar">Link</button>
    <button id="export" type="button" class="live-only">Export</button>
    <label class="file-button live-only">Import<input id="import" type="file" accept="application/json,.json"></label>
  </div>
  <div id="notice" hidden></div>
</header>
<main>
  <section class="stage-column">
    <svg id="stage" viewBox="0 0 640 560" role="img" aria-label="the replicas and the messages between them"></svg>
    <div class="stage-help">Click a replica or a message to see the step behind it. Click a link to cut or mend it.
      <button id="heal" type="button" class="live-only">Mend every link</button></div>
    <div id="legend"></div>
  </section>
  <section class="side-column">
    <div class="panel" id="client-panel">
      <h2>Client</h2>
      <form id="request-form" autocomplete="off" class="live-only">
        <select id="client" title="which client sends"></select>
        <input id="key" placeholder="key" value="x" size="6">
        <input id="value" placeholder="value" value="1" size="6">
        <select id="target" title="where the client sends it"></select>
        <button id="put" type="submit" class="primary">Put</button>
        <button id="get" type="button">Get</button>
      </form>
      <div id="verdict"></div>
      <div class="scroll requests-scroll"><table id="requests"><tbody></tbody></table></div>
    </div>
    <div class="panel" id="details"></div>
  </section>
</main>
<section class="panel wide">
  <h2>Replicas <span class="hint">role, term, vote, log (solid: committed, ● applied), election timer</span></h2>
  <table id="replicas"><tbody></tbody></table>
  <div class="group-row live-only">Tick replicas, then <button id="split" type="button">Cut them off from the rest</button></div>
</section>
<section class="panel wide">
  <h2>Messages in flight <span class="hint">drop, delay or duplicate one</span></h2>
  <div class="scroll flights-scroll"><table id="flights"><tbody></tbody></table></div>
</section>
<footer>Every replica runs <code>step</code> from src/domain, the reducer the real replicas run, with the effect interpreter of src/effects/perform.ts; time is virtual and every random number comes from the seed, so a scenario replays exactly.</footer>
`

const $ = <T extends HTMLElement | SVGElement>(selector: string): T => {
  const element = document.querySelector<T>(selector)
  if (element === null) throw new Error(`the page has no ${selector}`)
  return element
}

const playButton = $<HTMLButtonElement>('#play')
const speedSelect = $<HTMLSelectElement>('#speed')
const countSelect = $<HTMLSelectElement>('#replica-count')
const seedInput = $<HTMLInputElement>('#seed')
const clock = $<HTMLElement>('#clock')
const notice = $<HTMLElement>('#notice')
const stage = $<SVGSVGElement>('#stage')
const clientSelect = $<HTMLSelectElement>('#client')
const targetSelect = $<HTMLSelectElement>('#target')
const keyInput = $<HTMLInputElement>('#key')
const valueInput = $<HTMLInputElement>('#value')

for (const s of SPEEDS) speedSelect.add(new Option(`${s}×`, String(s), s === speed, s === speed))
for (let n = MIN_REPLICAS; n <= MAX_REPLICAS; n++) countSelect.add(new Option(String(n), String(n), n === 5, n === 5))

// ---- small DOM helpers ---------------------------------------------------------------------------

type Attrs = Record<string, string | number | boolean | undefined>

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag)
  setAttrs(node, attrs)
  node.append(...children)
  return node
}

const SVG_NS = 'http://www.w3.org/2000/svg'
const svg = (tag: string, attrs: Attrs = {}, ...children: (Node | string)[]): SVGElement => {
  const node = document.createElementNS(SVG_NS, tag)
  setAttrs(node, attrs)
  node.append(...children)
  return node
}

const setAttrs = (node: Element, attrs: Attrs): void => {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    node.setAttribute(name, value === true ? '' : String(value))
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`

// ---- what the page reads from a replica ----------------------------------------------------------

const ROLE_TEXT: Record<string, string> = { follower: 'follower', preCandidate: 'pre-candidate', candidate: 'candidate', leader: 'leader' }
const roleOf = (r: Replica): string => r.state?.role ?? 'down'
const termOf = (r: Replica): number => (r.state ?? { persistent: r.stored }).persistent.currentTerm
const voteOf = (r: Replica): string => {
  const vote = (r.state?.persistent ?? r.stored).votedFor
  return vote._tag === 'Some' ? vote.value : '—'
}
const clientName = (index: number): string => String.fromCharCode(65 + index)
const clientLabel = (id: NodeId): string => {
  const index = cluster.clientIds.indexOf(id)
  return index < 0 ? id : `client ${clientName(index)}`
}
const nodeName = (id: NodeId): string => (cluster.ids.includes(id) ? id : clientLabel(id))

/** The newest leader, by term. */
const currentLeader = (): Replica | undefined => {
  let best: Replica | undefined
  for (const r of cluster.replicas) if (r.state?.role === 'leader' && (best === undefined || termOf(r) > termOf(best))) best = r
  return best
}

// ---- the stage: replicas on a ring, the clients inside, messages on the links -----------------

const CENTER = { x: 320, y: 280 }
const RING = 205
const NODE_R = 36

const replicaPosition = (id: NodeId): { x: number; y: number } => {
  const i = cluster.ids.indexOf(id)
  const angle = -Math.PI / 2 + (2 * Math.PI * i) / cluster.ids.length
  return { x: CENTER.x + RING * Math.cos(angle), y: CENTER.y + RING * Math.sin(angle) }
}

const position = (id: NodeId): { x: number; y: number } => {
  if (cluster.ids.includes(id)) return replicaPosition(id)
  // The clients in a row at the centre.
  const i = cluster.clientIds.indexOf(id)
  const n = cluster.clientIds.length
  return { x: CENTER.x + (i - (n - 1) / 2) * 40, y: CENTER.y }
}

/** Where a message is: along the line between its ends, off the circles' edges. */
const flightPoint = (from: NodeId, to: NodeId, progress: number): { x: number; y: number } => {
  const a = position(from)
  const b = position(to)
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1
  const startTrim = (cluster.ids.includes(from) ? NODE_R : 16) / length
  const endTrim = (cluster.ids.includes(to) ? NODE_R : 16) / length
  const t = startTrim + (1 - startTrim - endTrim) * Math.min(1, Math.max(0, progress))
  // Messages each way between the same two nodes travel side by side.
  const side = from < to ? 1 : -1
  const nx = (-(b.y - a.y) / length) * 5 * side
  const ny = ((b.x - a.x) / length) * 5 * side
  return { x: a.x + (b.x - a.x) * t + nx, y: a.y + (b.y - a.y) * t + ny }
}

const KIND_CLASS: Record<Message['type'], string> = {
  vote: 'vote', voteReply: 'vote', append: 'append', appendReply: 'append', snapshot: 'snapshot', snapshotReply: 'snapshot',
  forward: 'forward', get: 'client', put: 'client', delete: 'client', cas: 'client', ok: 'client', redirect: 'client', fail: 'client', hello: 'client',
  timeoutNow: 'vote', admin: 'client', adminReply: 'client', refused: 'client',
}

/** A message's token text: its kind, term and entries in a few characters. */
const shortLabel = (m: Message): string => {
  switch (m.type) {
    case 'vote':
      return `${m.pre ? 'PreVote' : 'Vote'} t${m.term}`
    case 'voteReply':
      return `${m.granted ? '✓' : '✗'} ${m.pre ? 'pre' : 'vote'} t${m.term}`
    case 'append':
      return `AE t${m.term}${m.entries.length > 0 ? ` +${m.entries.length}` : ''}`
    case 'appendReply':
      return `${m.success ? '✓' : '✗'} AE t${m.term}`
    case 'snapshot':
      return `Snap t${m.term}`
    case 'snapshotReply':
      return `✓ Snap t${m.term}`
    case 'forward':
      return `Fwd ${m.puts.length}`
    case 'put':
      return `put ${m.key}`
    case 'get':
      return `get ${m.key}`
    case 'delete':
      return `del ${m.key}`
    case 'cas':
      return `cas ${m.key}`
    case 'ok':
      return m.value === undefined ? 'ok' : `ok ${m.value === '' ? '∅' : m.value}`
    case 'redirect':
      return `→ ${m.leader}`
    case 'fail':
      return 'fail'
    case 'hello':
      return 'hello'
    case 'timeoutNow':
      return `TimeoutNow t${m.term}`
    case 'admin':
      return `${m.action}${m.member === undefined ? '' : ` ${m.member}`}`
    case 'adminReply':
      return 'done'
    case 'refused':
      return 'refused'
  }
}

/** A message in words, for the lists. */
const describeMessage = (m: Message): string => {
  switch (m.type) {
    case 'vote':
      return `${m.pre ? 'pre-vote' : 'RequestVote'} term ${m.term}, last log ${m.lastLogIndex}/${m.lastLogTerm}`
    case 'voteReply':
      return `${m.pre ? 'pre-vote' : 'vote'} ${m.granted ? 'granted' : 'refused'}, term ${m.term}`
    case 'append':
      return `AppendEntries term ${m.term}, prev ${m.prevLogIndex}/${m.prevLogTerm}, ${m.entries.length === 0 ? 'no entries (heartbeat)' : `${m.entries.length} entr${m.entries.length === 1 ? 'y' : 'ies'} [${m.entries.map(entryText).join(', ')}]`}, commit ${m.leaderCommit}`
    case 'appendReply':
      return `AppendEntries ${m.success ? `ok, match ${m.matchIndex}` : `rejected, conflict at ${m.conflictIndex} (term ${m.conflictTerm})`}, term ${m.term}`
    default:
      return formatMessage(m).replace(/^\S+ \S+ \(leader [0-9A-F]+\) ?/, `${m.type} `)
  }
}

const entryText = (e: { term: number; command: { op: string; key?: string; value?: string } }): string =>
  e.command.op === 'put' ? `${e.command.key}=${e.command.value}` : e.command.op === 'noop' ? 'no-op' : `${e.command.op} ${e.command.key}`

/**
 * The stage's elements stay in place while the cluster is the same: a replica or a message under
 * the pointer must still be there when the button comes up, or the click would be lost. Each frame
 * moves and restyles them; only messages that appear or end add or remove one.
 */
interface StageElements {
  readonly cluster: ClusterView
  readonly links: Map<string, { group: SVGElement; mark: SVGElement; title: SVGElement }>
  readonly replicas: Map<NodeId, { group: SVGElement; arc: SVGElement; role: SVGElement; term: SVGElement; timer: SVGElement; title: SVGElement }>
  readonly flightLayer: SVGElement
  readonly flights: Map<number, SVGElement>
  readonly losses: Map<number, SVGElement>
}

let stageElements: StageElements | undefined

const buildStage = (): StageElements => {
  stage.replaceChildren()
  const links: StageElements['links'] = new Map()
  const linkLayer = svg('g', { class: 'links' })
  for (const a of cluster.ids) {
    for (const b of cluster.ids) {
      if (a >= b) continue
      const pa = replicaPosition(a)
      const pb = replicaPosition(b)
      const title = svg('title')
      const mark = svg('text', { x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2 + 5, class: 'cut-mark' }, '✕')
      const group = svg('g', { class: 'link', 'data-link': `${a}|${b}` },
        svg('line', { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: 'link-line' }),
        svg('line', { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: 'link-hit' }, title), mark)
      links.set(`${a}|${b}`, { group, mark, title })
      linkLayer.append(group)
    }
  }
  stage.append(linkLayer)
  cluster.clientIds.forEach((id, i) => {
    const p = position(id)
    stage.append(
      svg('g', { class: 'client-node', 'data-client': id },
        svg('rect', { x: p.x - 15, y: p.y - 15, width: 30, height: 30, rx: 6 }),
        svg('text', { x: p.x, y: p.y + 5 }, clientName(i)),
        svg('title', {}, `client ${clientName(i)} (${id})`)),
    )
  })
  const replicas: StageElements['replicas'] = new Map()
  for (const r of cluster.replicas) {
    const p = replicaPosition(r.id)
    const arc = svg('circle', { cx: p.x, cy: p.y, r: NODE_R + 7, class: 'timer-arc', transform: `rotate(-90 ${p.x} ${p.y})` })
    const role = svg('text', { x: p.x, y: p.y + 9, class: 'role' })
    const term = svg('text', { x: p.x, y: p.y + 22, class: 'term' })
    const timer = svg('text', { x: p.x, y: p.y > CENTER.y ? p.y + NODE_R + 22 : p.y - NODE_R - 14, class: 'timer-text' })
    const title = svg('title')
    const group = svg('g', { class: 'replica', 'data-replica': r.id, tabindex: 0 },
      svg('circle', { cx: p.x, cy: p.y, r: NODE_R + 7, class: 'timer-track' }), arc,
      svg('circle', { cx: p.x, cy: p.y, r: NODE_R, class: 'body' }),
      svg('text', { x: p.x, y: p.y - 6, class: 'id' }, r.id), role, term, timer, title)
    replicas.set(r.id, { group, arc, role, term, timer, title })
    stage.append(group)
  }
  const flightLayer = svg('g', { class: 'flights' })
  stage.append(flightLayer)
  return { cluster, links, replicas, flightLayer, flights: new Map(), losses: new Map() }
}

const drawStage = (): void => {
  if (stageElements?.cluster !== cluster) stageElements = buildStage()
  const { links, replicas } = stageElements
  const now = cluster.now
  for (const [key, link] of links) {
    const [a, b] = key.split('|') as [NodeId, NodeId]
    const cut = cluster.isCut(a, b)
    link.group.setAttribute('class', `link${cut ? ' cut' : ''}`)
    link.group.setAttribute('data-cut', String(cut))
    link.mark.style.display = cut ? '' : 'none'
    link.title.textContent = `${cut ? 'mend' : 'cut'} the link ${a}–${b}`
  }
  for (const r of cluster.replicas) {
    const view = replicas.get(r.id)!
    const role = roleOf(r)
    const selected = selection?.kind === 'replica' && selection.id === r.id
    view.group.setAttribute('class', `replica role-${role}${selected ? ' selected' : ''}`)
    view.group.setAttribute('data-role', role)
    const election = r.timers.election
    const counting = r.state !== undefined && election !== undefined && role !== 'leader'
    if (counting) {
      const fraction = Math.min(1, Math.max(0, election - now) / r.state!.settings.timing.electionTimeoutMaxMs)
      const length = 2 * Math.PI * (NODE_R + 7)
      view.arc.setAttribute('stroke-dasharray', `${fraction * length} ${length}`)
    }
    view.arc.style.display = counting ? '' : 'none'
    view.role.textContent = r.state === undefined ? 'down' : ROLE_TEXT[role]!
    view.term.textContent = `term ${termOf(r)}`
    view.timer.textContent = r.state === undefined ? '' : role === 'leader' ? 'leader' : election === undefined ? '' : `election in ${((election - now) / 1000).toFixed(2)} s`
    view.title.textContent = `${r.id}: ${r.state === undefined ? 'down' : ROLE_TEXT[role]}, term ${termOf(r)}; click for its last step`
  }
  drawFlights(stageElements)
}

const drawFlights = ({ flightLayer, flights, losses }: StageElements): void => {
  const now = cluster.now
  const live = new Set<number>()
  for (const f of cluster.flights) {
    live.add(f.id)
    let group = flights.get(f.id)
    if (group === undefined) {
      const label = shortLabel(f.message)
      const width = 8 + label.length * 6.2
      group = svg('g', { 'data-flight': f.id, 'data-type': f.message.type },
        svg('rect', { x: -width / 2, y: -8, width, height: 16, rx: 8 }),
        svg('text', { x: 0, y: 4 }, label),
        svg('title', {}, `#${f.id} ${nodeName(f.from)} → ${nodeName(f.to)}: ${describeMessage(f.message)}`))
      flights.set(f.id, group)
      flightLayer.append(group)
    }
    const p = flightPoint(f.from, f.to, (now - f.sentAt) / Math.max(1, f.deliverAt - f.sentAt))
    const selected = selection?.kind === 'flight' && selection.id === f.id
    group.setAttribute('class', `flight kind-${KIND_CLASS[f.message.type]}${selected ? ' selected' : ''}`)
    group.setAttribute('transform', `translate(${p.x.toFixed(1)} ${p.y.toFixed(1)})`)
  }
  for (const [id, group] of flights) {
    if (!live.has(id)) {
      group.remove()
      flights.delete(id)
    }
  }
  const lost = new Set<number>()
  for (const e of recentLosses()) {
    lost.add(e.flight.id)
    if (losses.has(e.flight.id)) continue
    const p = flightPoint(e.flight.from, e.flight.to, (e.at - e.flight.sentAt) / Math.max(1, e.flight.deliverAt - e.flight.sentAt))
    const mark = svg('text', { x: p.x, y: p.y + 5, class: 'lost' }, '✕', svg('title', {}, `lost: ${fateText(e)}`))
    losses.set(e.flight.id, mark)
    flightLayer.append(mark)
  }
  for (const [id, mark] of losses) {
    if (!lost.has(id)) {
      mark.remove()
      losses.delete(id)
    }
  }
}

const recentLosses = (): EndedFlight[] => cluster.ended.filter((e) => e.fate !== 'delivered' && cluster.now - e.at < SHOW_LOST_MS)

const fateText = (e: EndedFlight): string =>
  e.fate === 'partition' ? `${shortLabel(e.flight.message)} from ${e.flight.from} did not cross the cut link to ${e.flight.to}`
    : e.fate === 'down' ? `${shortLabel(e.flight.message)} reached ${e.flight.to} while it was down`
      : e.fate === 'dropped' ? `${shortLabel(e.flight.message)} dropped by you`
        : e.fate === 'lost' ? `${shortLabel(e.flight.message)} from ${e.flight.from} lost by the network` : 'delivered'

// ---- the replicas' table ---------------------------------------------------------------------------

const checkedForSplit = new Set<NodeId>()

const drawReplicas = (): void => {
  const body = $<HTMLTableSectionElement>('#replicas tbody')
  const rows: HTMLTableRowElement[] = [
    el('tr', {}, el('th', {}, ''), el('th', {}, 'replica'), el('th', {}, 'role'), el('th', {}, 'term'), el('th', {}, 'voted for'),
      el('th', {}, 'commit / applied'), el('th', {}, 'timer'), el('th', { class: 'log-head' }, 'log'), el('th', {}, '')),
  ]
  for (const r of cluster.replicas) {
    const s = r.state
    const persistent = s?.persistent ?? r.stored
    const role = roleOf(r)
    const commit = s?.commitIndex ?? 0
    const applied = s?.lastApplied ?? 0
    const log = el('div', { class: 'log' })
    const last = lastIndex(persistent.log)
    const first = Math.max(persistent.log.snapshotIndex + 1, last - LOG_CELLS + 1)
    if (first > 1) log.append(el('span', { class: 'log-more', title: `${first - 1} earlier entries (snapshot up to ${persistent.log.snapshotIndex})` }, `…${first - 1}`))
    for (let index = first; index <= last; index++) {
      const entry = entryAt(persistent.log, index)!
      const committed = s !== undefined && index <= commit
      const isApplied = s !== undefined && index <= applied
      const command = entry.command
      log.append(
        el('span', {
          class: `entry term-${entry.term % 6}${committed ? ' committed' : ''}${isApplied ? ' applied' : ''}`,
          'data-index': index, 'data-term': entry.term, 'data-committed': String(committed), 'data-applied': String(isApplied),
          'data-key': command.op === 'put' ? command.key : undefined, 'data-value': command.op === 'put' ? command.value : undefined,
          title: `index ${index}, term ${entry.term}: ${entryText(entry)}${committed ? ', committed' : ', not committed'}${isApplied ? ', applied' : ''}`,
        }, el('b', {}, `${index}·t${entry.term}`), el('i', {}, command.op === 'put' ? `${command.key}=${command.value}` : 'no-op')),
      )
    }
    if (last === 0) log.append(el('span', { class: 'empty' }, 'empty'))
    const election = r.timers.election
    const timer = s === undefined ? 'down' : role === 'leader' ? `heartbeat in ${(((r.timers.heartbeat ?? cluster.now) - cluster.now) / 1000).toFixed(2)} s`
      : election === undefined ? '—' : `election in ${((election - cluster.now) / 1000).toFixed(2)} s`
    const check = el('input', { type: 'checkbox', class: 'live-only', 'data-split': r.id, title: 'tick to cut off with the other ticked replicas' })
    check.checked = checkedForSplit.has(r.id)
    const action = cluster.mode === 'recorded' ? '' : s === undefined
      ? el('button', { type: 'button', 'data-act': 'restart', 'data-replica': r.id, title: 'start it again from what it persisted' }, 'Restart')
      : el('button', { type: 'button', 'data-act': 'kill', 'data-replica': r.id }, 'Kill')
    const selected = selection?.kind === 'replica' && selection.id === r.id
    rows.push(el('tr', { class: `replica-row role-${role}${selected ? ' selected' : ''}`, 'data-replica': r.id, 'data-role': role, 'data-term': termOf(r), 'data-up': String(s !== undefined), 'data-commit': commit, 'data-applied': applied },
      el('td', {}, check),
      el('td', { class: 'id' }, el('a', { href: '#', 'data-select': r.id }, r.id)),
      el('td', { class: 'role' }, el('span', { class: `badge role-${role}` }, s === undefined ? 'down' : ROLE_TEXT[role]!)),
      el('td', { class: 'term' }, String(termOf(r))),
      el('td', { class: 'vote' }, voteOf(r)),
      el('td', { class: 'marks' }, s === undefined ? `(stored ${last})` : `${commit} / ${applied}`),
      el('td', { class: 'timer' }, timer),
      el('td', {}, log),
      el('td', {}, action)))
  }
  body.replaceChildren(...rows)
}

// ---- the client's requests and the verdict ----------------------------------------------------------

const drawRequests = (): void => {
  const body = $<HTMLTableSectionElement>('#requests tbody')
  const rows = cluster.requests.slice(-60).reverse().map((view, i) => {
    const op = view.operation
    const done = op.completedAt !== undefined
    const steps = view.attempts.map((a) => {
      const answer = a.answer === undefined ? '…' : a.answer.type === 'ok' ? `ok${op.kind === 'get' ? ` "${a.answer.value ?? ''}"` : ''}` : a.answer.type === 'redirect' ? `redirect` : a.answer.type
      return `${a.to}: ${answer}`
    })
    const status = done ? 'ok' : view.attempts.every((a) => cluster.replicas.find((r) => r.id === a.to)?.state === undefined && a.answer === undefined) ? 'lost' : 'waiting'
    const what = op.kind === 'put' ? `put ${op.key}=${op.value}` : `get ${op.key}`
    const result = done ? (op.kind === 'get' ? `→ ${op.value === undefined ? '(none)' : `"${op.value}"`}` : '→ ok') : status === 'lost' ? 'its replica is down' : 'waiting'
    return el('tr', { class: `request status-${status}`, 'data-status': status, 'data-kind': op.kind, 'data-key': op.key, 'data-op': op.id },
      el('td', { class: 'n' }, `#${cluster.requests.length - i}`),
      el('td', {}, clientLabel(op.client as NodeId).replace('client ', '')),
      el('td', { class: 'what' }, what),
      el('td', { class: 'path' }, steps.join(' → ')),
      el('td', { class: 'result' }, result),
      el('td', { class: 'took' }, done ? `${Math.round(op.completedAt! - op.invokedAt)} ms` : seconds(cluster.now - op.invokedAt)))
  })
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { class: 'empty' }, 'No requests yet: send a put or a get above.')))
  body.replaceChildren(...rows)

  const verdict = $<HTMLElement>('#verdict')
  const history = cluster.history()
  const result = checkLinearizable(history)
  const violations = cluster.clientViolations
  verdict.className = result.ok && violations.length === 0 ? 'ok' : 'bad'
  verdict.dataset['linearizable'] = String(result.ok)
  verdict.dataset['verdict'] = result.ok ? 'linearizable' : result.verdict
  const heading = result.ok ? 'Linearizable' : result.verdict === 'not linearizable' ? 'NOT linearizable'
    : result.verdict === 'undecided' ? 'Undecided (the checker stopped at its bound)' : 'The checker failed'
  verdict.replaceChildren(
    el('b', {}, heading),
    ` — ${history.length} operation${history.length === 1 ? '' : 's'}, checked by src/check/linearizability.ts after every reply`,
    ...(result.ok ? [] : [el('div', {}, `key ${result.key}: ${result.reason}`)]),
    ...violations.map((v) => el('div', {}, `${v.invariant}: ${v.detail}`)),
  )
}

// ---- messages in flight --------------------------------------------------------------------------

const drawFlightList = (): void => {
  const body = $<HTMLTableSectionElement>('#flights tbody')
  const flights = [...cluster.flights].sort((a, b) => a.deliverAt - b.deliverAt)
  const rows = flights.slice(0, 80).map((f) => {
    const selected = selection?.kind === 'flight' && selection.id === f.id
    return el('tr', { class: `flight-row${selected ? ' selected' : ''}`, 'data-flight': f.id },
      el('td', { class: 'n' }, el('a', { href: '#', 'data-select-flight': f.id }, `#${f.id}`)),
      el('td', {}, el('span', { class: `chip kind-${KIND_CLASS[f.message.type]}` }, shortLabel(f.message))),
      el('td', {}, `${nodeName(f.from)} → ${nodeName(f.to)}`),
      el('td', { class: 'what' }, describeMessage(f.message) + (f.copyOf === undefined ? '' : ` (copy of #${f.copyOf})`)),
      el('td', { class: 'took' }, `arrives in ${Math.max(0, Math.round(f.deliverAt - cluster.now))} ms`),
      el('td', { class: 'buttons' }, ...flightButtons(f)))
  })
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { class: 'empty' }, 'Nothing in flight.')))
  body.replaceChildren(...rows)
}

const flightButtons = (f: Flight): HTMLButtonElement[] => cluster.mode === 'recorded' ? [] : [
  el('button', { type: 'button', 'data-act': 'drop', 'data-flight': f.id }, 'Drop'),
  el('button', { type: 'button', 'data-act': 'delay', 'data-flight': f.id, title: 'hold it back 500 ms' }, 'Delay'),
  ...(cluster.clientIds.includes(f.to) ? [] : [el('button', { type: 'button', 'data-act': 'duplicate', 'data-flight': f.id }, 'Duplicate')]),
]

// ---- details: a replica, a message, or a step ------------------------------------------------------

const stepView = (record: StepRecord, heading: string): HTMLElement => {
  const rules = rulesFor(record)
  const effects = record.effects.filter((e) => e.kind !== 'log')
  const notes = record.effects.filter((e) => e.kind === 'log')
  return el('div', { class: 'step', 'data-step': record.id },
    el('h3', {}, heading),
    el('div', { class: 'kv' }, el('span', {}, 'at'), ` ${seconds(record.at)} on ${record.replica} (${ROLE_TEXT[record.before.role]}, term ${record.before.persistent.currentTerm} → ${ROLE_TEXT[record.after.role]}, term ${record.after.persistent.currentTerm})`),
    el('div', { class: 'event' }, el('span', { class: 'label' }, 'event'), el('code', {}, formatEvent(record.event))),
    el('div', { class: 'label' }, `effects step returned (${effects.length})`),
    el('ol', { class: 'effects' }, ...(effects.length === 0 ? [el('li', { class: 'empty' }, 'none')] : effects.map((e) => el('li', {}, el('code', {}, formatEffect(e)))))),
    ...(notes.length === 0 ? [] : [el('div', { class: 'notes' }, ...notes.map((n) => el('div', {}, `log: ${n.kind === 'log' ? n.text : ''}`)))]),
    el('div', { class: 'label' }, 'rules applied'),
    el('ul', { class: 'rules' }, ...rules.map((rule) => el('li', {}, el('b', {}, rule.cite), ` ${rule.text} `, el('span', { class: 'source' }, `src/domain/${rule.source}`)))),
  )
}

const drawDetails = (): void => {
  const panel = $<HTMLElement>('#details')
  const content: (Node | string)[] = []
  if (selection === undefined) {
    content.push(el('h2', {}, 'Details'), el('p', { class: 'hint' }, 'Click a replica or a message (on the stage or in the lists) to see the event it was handed, the effects step returned, and the rule of the paper it applied. Press Step to go one event at a time.'))
  } else if (selection.kind === 'replica') {
    const r = cluster.replica(selection.id)
    content.push(el('h2', {}, `Replica ${r.id}`))
    if (r.state === undefined) {
      content.push(el('p', {}, `Down. It persisted term ${r.stored.currentTerm}, vote ${voteOf(r)} and ${lastIndex(r.stored.log)} log entries; Restart starts it from them.`))
    } else {
      const s = r.state
      const kv = valuesOf(s.kv)
      content.push(el('div', { class: 'facts' },
        el('span', {}, `${ROLE_TEXT[s.role]}, term ${s.persistent.currentTerm}`),
        el('span', {}, `voted for ${voteOf(r)}`),
        el('span', {}, `leader ${s.leader._tag === 'Some' ? s.leader.value : 'unknown'}`),
        el('span', {}, `commit ${s.commitIndex}, applied ${s.lastApplied}`),
        el('span', {}, `store: ${Object.keys(kv).length === 0 ? 'empty' : Object.entries(kv).map(([k, v]) => `${k}=${v}`).join(', ')}`)))
      if (s.role === 'leader') {
        content.push(el('table', { class: 'progress' },
          el('tr', {}, el('th', {}, 'follower'), el('th', {}, 'nextIndex'), el('th', {}, 'matchIndex')),
          ...s.peers.map((peer) => el('tr', {}, el('td', {}, peer), el('td', {}, String(s.progress[peer]?.nextIndex ?? '')), el('td', {}, String(s.progress[peer]?.matchIndex ?? ''))))))
      }
    }
    const record = cluster.stepRecord(r.lastStep)
    if (record !== undefined) content.push(stepView(record, 'Its last step'))
    const recent = cluster.steps.filter((s) => s.replica === r.id).slice(-8).reverse().slice(1)
    if (recent.length > 0) {
      content.push(el('div', { class: 'label' }, 'earlier steps'), el('ul', { class: 'recent' }, ...recent.map((s) => el('li', {}, el('a', { href: '#', 'data-select-step': s.id }, `${seconds(s.at)} ${formatEvent(s.event).slice(0, 70)}`)))))
    }
  } else if (selection.kind === 'flight') {
    const id = selection.id
    const flight = cluster.flights.find((f) => f.id === id)
    const ended = cluster.ended.find((e) => e.flight.id === id)
    const f = flight ?? ended?.flight
    if (f === undefined) {
      content.push(el('h2', {}, `Message #${id}`), el('p', {}, 'No longer remembered.'))
    } else {
      content.push(el('h2', {}, `Message #${f.id}: ${shortLabel(f.message)}`),
        el('p', {}, `${nodeName(f.from)} → ${nodeName(f.to)}, sent at ${seconds(f.sentAt)}; ${flight !== undefined ? `arrives at ${seconds(f.deliverAt)}` : `${ended!.fate === 'delivered' ? 'delivered' : `lost (${fateText(ended!)})`} at ${seconds(ended!.at)}`}`),
        el('pre', { class: 'message' }, JSON.stringify(f.message, null, 1)))
      if (flight !== undefined) content.push(el('div', { class: 'buttons' }, ...flightButtons(flight)))
      const sent = cluster.stepRecord(f.sentBy)
      if (sent !== undefined) content.push(stepView(sent, `The step that sent it (${sent.replica})`))
      else if (f.sentBy === undefined) content.push(el('p', { class: 'hint' }, 'Sent by a client.'))
      const got = cluster.stepRecord(ended?.receivedBy)
      if (got !== undefined) content.push(stepView(got, `The step that received it (${got.replica})`))
    }
  } else {
    const record = cluster.stepRecord(selection.id)
    content.push(el('h2', {}, 'Step'))
    content.push(record === undefined ? el('p', {}, 'No longer remembered.') : stepView(record, `Step of ${record.replica}`))
  }
  panel.replaceChildren(...content)
}

// ---- the header ----------------------------------------------------------------------------------

const drawHeader = (): void => {
  playButton.textContent = running ? 'Pause' : 'Run'
  playButton.dataset['running'] = String(running)
  const leader = currentLeader()
  clock.textContent = `t = ${seconds(cluster.now)} · ${cluster.events} events · ${leader === undefined ? 'no leader' : `leader ${leader.id} (term ${termOf(leader)})`}`
  clock.dataset['leader'] = leader?.id ?? ''
  $<HTMLElement>('#subtitle').textContent = cluster instanceof RecordedRun
    ? `check:sim ${cluster.query.replace(/&/g, ' ')} · ${cluster.ids.length} replicas · ${cluster.failure === undefined ? 'passed' : `FAILED: ${cluster.failure.invariant} at t = ${seconds(cluster.failure.at)}`} · a recording, ${cluster.pendingScript} happening(s) to come`
    : `${cluster.ids.length} replicas of the production reducer · seed ${cluster.seed}${cluster.pendingScript > 0 ? ` · replaying: ${cluster.pendingScript} action(s) to come` : ''}`
  $<HTMLButtonElement>('#to-failure').hidden = !(cluster instanceof RecordedRun && cluster.failure !== undefined)
  const previousClient = clientSelect.value
  if (clientSelect.options.length !== cluster.clientIds.length) {
    clientSelect.replaceChildren(...cluster.clientIds.map((id, i) => new Option(`client ${clientName(i)}`, String(i))))
    clientSelect.value = previousClient === '' ? '0' : previousClient
  }
  const previousTarget = targetSelect.value
  if (targetSelect.options.length !== cluster.ids.length + 1) {
    targetSelect.replaceChildren(new Option('to the leader it knows', ''), ...cluster.ids.map((id) => new Option(`to ${id}`, id)))
    targetSelect.value = previousTarget
  }
}

const drawLegend = (): void => {
  const items: [string, string][] = [
    ['role-follower', 'follower'], ['role-preCandidate', 'pre-candidate'], ['role-candidate', 'candidate'], ['role-leader', 'leader'], ['role-down', 'down'],
    ['kind-vote', 'votes'], ['kind-append', 'AppendEntries'], ['kind-client', 'client'], ['kind-snapshot', 'snapshot'],
  ]
  $<HTMLElement>('#legend').replaceChildren(
    ...items.map(([cls, text]) => el('span', {}, el('span', { class: `swatch ${cls}` }), text)),
    el('span', {}, el('span', { class: 'swatch timer' }), 'election timer (full ring: the longest timeout)'),
  )
}

/** While a mouse button is down, the panels hold still: a button redrawn under it would lose the click. */
let pointerHeld = false
let panelsDrawnAt = Number.NEGATIVE_INFINITY
/** While running, the panels are redrawn at most this often (ms of real time). */
const PANEL_INTERVAL_MS = 200

const draw = (time = performance.now()): void => {
  drawHeader()
  drawStage()
  if (dirty && !pointerHeld && (!running || time - panelsDrawnAt >= PANEL_INTERVAL_MS)) {
    drawReplicas()
    drawRequests()
    drawFlightList()
    drawDetails()
    dirty = false
    panelsDrawnAt = time
  }
}

document.addEventListener('pointerdown', () => {
  pointerHeld = true
})
document.addEventListener('pointerup', () => {
  pointerHeld = false
})

// ---- running -------------------------------------------------------------------------------------

const frame = (time: number): void => {
  if (running && lastFrame !== undefined) {
    const realMs = Math.min(100, time - lastFrame)
    const before = cluster.events
    const actions = cluster.actions.length
    cluster.advanceTo(cluster.now + realMs * speed)
    if (cluster.events !== before || cluster.actions.length !== actions) dirty = true
  }
  lastFrame = time
  // Timers count down between events: the table's timer column is redrawn a few times a second.
  if (running) dirty = true
  draw(time)
  requestAnimationFrame(frame)
}

const setRunning = (on: boolean): void => {
  running = on
  if (!on) rememberInUrl()
  dirty = true
}

const say = (text: string | undefined, kind: 'error' | 'info' = 'error'): void => {
  notice.hidden = text === undefined
  notice.className = kind
  notice.textContent = text ?? ''
}

const act = (action: Action): void => {
  const refusal = cluster.act(action)
  say(refusal)
  dirty = true
  rememberInUrl()
}

/** The scenario in the address bar, without adding to the browser's history. */
const rememberInUrl = (): void => {
  try {
    history.replaceState(null, '', cluster.hash())
  } catch {
    // A page opened from some places (a sandboxed frame) may not rewrite its URL: the Link and Export buttons still work.
  }
}

const load = (next: ClusterView, message?: string): void => {
  cluster = next
  selection = undefined
  checkedForSplit.clear()
  document.body.classList.toggle('recorded', cluster.mode === 'recorded')
  if (cluster.mode === 'live') {
    seedInput.value = String(cluster.seed)
    countSelect.value = String(cluster.ids.length)
  }
  dirty = true
  say(message, 'info')
}

const loadScenario = (scenario: Scenario, how: string): void => {
  const replay = PlaygroundCluster.replaying(scenario)
  replay.fastForward(scenario.events ?? 0, scenario.time ?? 0)
  setRunning(false)
  load(replay, `${how}: seed ${scenario.seed}, ${scenario.replicas} replicas, ${scenario.actions.length} action(s), replayed to t = ${seconds(replay.now)}. Press Run to go on, or Replay from start to watch it again.`)
}

// ---- input ---------------------------------------------------------------------------------------

playButton.addEventListener('click', () => setRunning(!running))
$<HTMLButtonElement>('#step').addEventListener('click', () => stepOnce())
speedSelect.addEventListener('change', () => {
  speed = Number(speedSelect.value)
})

const stepOnce = (): void => {
  setRunning(false)
  const before = cluster.steps.at(-1)?.id
  if (!cluster.stepOnce()) say('Nothing is due: no message in flight and no timer set.', 'info')
  const latest = cluster.steps.at(-1)
  if (latest !== undefined && latest.id !== before) selection = { kind: 'step', id: latest.id }
  dirty = true
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
  if (cluster instanceof RecordedRun) {
    setRunning(false)
    load(RecordedRun.of(cluster.seed, cluster.params), 'The recording again, from the start. Press Run or Step.')
    return
  }
  if (!(cluster instanceof PlaygroundCluster)) return
  const scenario = { ...cluster.scenario(), events: 0, time: 0 }
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
  if (!(cluster instanceof RecordedRun) || cluster.failure === undefined) return
  setRunning(false)
  cluster.advanceTo(cluster.failure.at)
  const last = cluster.steps.at(-1)
  if (last !== undefined) selection = { kind: 'step', id: last.id }
  dirty = true
  rememberInUrl()
})
$<HTMLButtonElement>('#export').addEventListener('click', () => {
  if (!(cluster instanceof PlaygroundCluster)) return
  const blob = new Blob([`${JSON.stringify(cluster.scenario(), null, 1)}\n`], { type: 'application/json' })
  const link = el('a', { href: URL.createObjectURL(blob), download: `raftkv-playground-seed-${cluster.seed}.json` })
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
  const group = cluster.ids.filter((id) => checkedForSplit.has(id))
  if (group.length === 0 || group.length === cluster.ids.length) {
    say('Tick some replicas, not all, to cut them off from the rest.')
    return
  }
  act({ kind: 'partition', groups: [group, cluster.ids.filter((id) => !checkedForSplit.has(id))] })
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
    selection = { kind: 'flight', id: Number(flight.getAttribute('data-flight')) }
    dirty = true
    return
  }
  const replica = target.closest('[data-replica]')
  if (replica !== null) {
    selection = { kind: 'replica', id: replica.getAttribute('data-replica') as NodeId }
    dirty = true
    return
  }
  const link = target.closest('[data-link]')
  if (link !== null) {
    const [a, b] = link.getAttribute('data-link')!.split('|') as [NodeId, NodeId]
    act({ kind: 'link', a, b, cut: !cluster.isCut(a, b) })
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
    selection = replica !== null ? { kind: 'replica', id: replica as NodeId } : flight !== null ? { kind: 'flight', id: Number(flight) } : { kind: 'step', id: Number(stepId) }
    if (flight !== null) setRunning(false)
    dirty = true
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
    setRunning(!running)
  } else if (event.key === 's') stepOnce()
})

window.addEventListener('hashchange', () => {
  if (location.hash === cluster.hash()) return
  if (!openFromHash(location.hash)) return
})

/** Opens what a URL hash holds: a scenario (`#s=`) or a check:sim seed (`#checksim&seed=...`). False when it holds neither. */
const openFromHash = (hash: string): boolean => {
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

// ---- start ---------------------------------------------------------------------------------------

const start = (): void => {
  drawLegend()
  if (!openFromHash(location.hash)) {
    load(new PlaygroundCluster(1, 5))
    setRunning(true)
  }
  draw()
  document.body.dataset['ready'] = 'true'
  requestAnimationFrame(frame)
}

start()
