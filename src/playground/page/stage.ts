/**
 * The stage: the replicas on a ring with their roles, terms and election timers, the clients
 * inside, the links (cut or not), and the messages on their way, drawn where they are.
 */
import type { NodeId } from '../../domain/wire'
import type { ClusterView, EndedFlight } from '../cluster-view'
import { svg } from './dom'
import { clientName, describeMessage, fateText, KIND_CLASS, nodeName, roleOf, ROLE_TEXT, shortLabel, termOf } from './labels'
import { stage } from './skeleton'
import { page } from './state'

const SHOW_LOST_MS = 300

const CENTER = { x: 320, y: 280 }
const RING = 205
const NODE_R = 36

const replicaPosition = (id: NodeId): { x: number; y: number } => {
  const i = page.cluster.ids.indexOf(id)
  const angle = -Math.PI / 2 + (2 * Math.PI * i) / page.cluster.ids.length
  return { x: CENTER.x + RING * Math.cos(angle), y: CENTER.y + RING * Math.sin(angle) }
}

const position = (id: NodeId): { x: number; y: number } => {
  if (page.cluster.ids.includes(id)) return replicaPosition(id)
  // The clients in a row at the centre.
  const i = page.cluster.clientIds.indexOf(id)
  const n = page.cluster.clientIds.length
  return { x: CENTER.x + (i - (n - 1) / 2) * 40, y: CENTER.y }
}

/** Where a message is: along the line between its ends, off the circles' edges. */
const flightPoint = (from: NodeId, to: NodeId, progress: number): { x: number; y: number } => {
  const a = position(from)
  const b = position(to)
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1
  const startTrim = (page.cluster.ids.includes(from) ? NODE_R : 16) / length
  const endTrim = (page.cluster.ids.includes(to) ? NODE_R : 16) / length
  const t = startTrim + (1 - startTrim - endTrim) * Math.min(1, Math.max(0, progress))
  // Messages each way between the same two nodes travel side by side.
  const side = from < to ? 1 : -1
  const nx = (-(b.y - a.y) / length) * 5 * side
  const ny = ((b.x - a.x) / length) * 5 * side
  return { x: a.x + (b.x - a.x) * t + nx, y: a.y + (b.y - a.y) * t + ny }
}

/**
 * The stage's elements stay in place while the page.cluster is the same: a replica or a message under
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
  for (const a of page.cluster.ids) {
    for (const b of page.cluster.ids) {
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
  page.cluster.clientIds.forEach((id, i) => {
    const p = position(id)
    stage.append(
      svg('g', { class: 'client-node', 'data-client': id },
        svg('rect', { x: p.x - 15, y: p.y - 15, width: 30, height: 30, rx: 6 }),
        svg('text', { x: p.x, y: p.y + 5 }, clientName(i)),
        svg('title', {}, `client ${clientName(i)} (${id})`)),
    )
  })
  const replicas: StageElements['replicas'] = new Map()
  for (const r of page.cluster.replicas) {
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
  return { cluster: page.cluster, links, replicas, flightLayer, flights: new Map(), losses: new Map() }
}

export const drawStage = (): void => {
  if (stageElements?.cluster !== page.cluster) stageElements = buildStage()
  const { links, replicas } = stageElements
  const now = page.cluster.now
  for (const [key, link] of links) {
    const [a, b] = key.split('|') as [NodeId, NodeId]
    const cut = page.cluster.isCut(a, b)
    link.group.setAttribute('class', `link${cut ? ' cut' : ''}`)
    link.group.setAttribute('data-cut', String(cut))
    link.mark.style.display = cut ? '' : 'none'
    link.title.textContent = `${cut ? 'mend' : 'cut'} the link ${a}–${b}`
  }
  for (const r of page.cluster.replicas) {
    const view = replicas.get(r.id)!
    const role = roleOf(r)
    const selected = page.selection?.kind === 'replica' && page.selection.id === r.id
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
  const now = page.cluster.now
  const live = new Set<number>()
  for (const f of page.cluster.flights) {
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
    const selected = page.selection?.kind === 'flight' && page.selection.id === f.id
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

const recentLosses = (): EndedFlight[] => page.cluster.ended.filter((e) => e.fate !== 'delivered' && page.cluster.now - e.at < SHOW_LOST_MS)
