// The timeline page's script (inlined into the page by page.ts): draws the run's data as one SVG
// on a shared time axis, and redraws it on zoom and pan. Plain browser JavaScript, no libraries.
;(function () {
  'use strict'
  const data = JSON.parse(document.getElementById('timeline-data').textContent)
  const NS = 'http://www.w3.org/2000/svg'
  const OUTCOMES = ['ok', 'redirected', 'duplicate', 'incorrect', 'unanswered']
  const OUTCOME_TEXT = {
    ok: 'ok at the first attempt', redirected: 'ok after a redirect or fail', duplicate: 'ok, then answered again (duplicate)',
    incorrect: 'ok with a wrong value', unanswered: 'never answered',
  }
  const OUTCOME_COLOR = { ok: '#3a7bd5', redirected: '#9b59b6', duplicate: '#e67e22', incorrect: '#d62728', unanswered: '#8c8c8c' }
  const ROLE_COLOR = {
    starting: '#e4e4e4', follower: '#9db4c8', preCandidate: '#f3d58c', candidate: '#f09a3e', leader: '#2e9d57', down: '#4a4a4a',
  }
  const ROLE_TEXT = { starting: 'starting', follower: 'follower', preCandidate: 'pre-candidate', candidate: 'candidate', leader: 'leader', down: 'down' }
  // A leader still acting as one after another replica became leader of a newer term: it has not
  // heard of that term yet (a partition's minority side, a slow link). Drawn pale and hatched.
  const DEPOSED_COLOR = '#b9dcc5'
  const DEPOSED_TEXT = 'deposed leader (a newer term has a leader; this one has not heard yet)'
  const SIDE_COLOR = ['#4c7fe0', '#c04fd8', '#2bb3a3']
  const MARK_SYMBOL = { killed: '✕', crashed: '✕', died: '☠', restarted: '▲', hello: '' }

  const GUTTER = 92
  const RIGHT = 16
  const LANE_H = 20
  const LANE_GAP = 3
  const REQ_H = 170
  const TRAFFIC_H = 90
  const hasTraffic = data.traffic.delivered.length > 0
  const OP_H = 16
  /** The strip at the top of the requests plot where unanswered requests are drawn. */
  const UNANSWERED_H = 14

  const chart = document.getElementById('chart')
  const tooltip = document.getElementById('tooltip')
  const duration = Math.max(1, data.durationMs)
  let view = [0, duration]
  let width = 800

  // ---- header: summary, legend, failure reason -------------------------------------------------

  const summary = document.getElementById('summary')
  for (const line of data.summary) {
    const div = document.createElement('div')
    div.textContent = line
    summary.appendChild(div)
  }
  const lat = data.latency
  const latLine = document.createElement('div')
  latLine.id = 'latency-summary'
  const perRequest = lat.completed === 0
    ? 'no request completed'
    : `per request, first send to ok: ${lat.completed} completed of ${data.requests.length}; median ${fmtMs(lat.median)}, p99 ${fmtMs(lat.p99)} (the lines in the plot)`
  latLine.textContent = lat.scoredMedian === null || lat.scoredMedian === undefined
    ? perRequest
    : `median latency ${fmtMs(lat.scoredMedian)} as scored (every answered attempt, from its own send, as the course's simulator counts); ${perRequest}`
  summary.appendChild(latLine)
  if (data.rolesInferred) {
    const note = document.createElement('div')
    note.textContent = 'Roles and terms are inferred from the datagrams each replica sent (kvsim sees nothing else).'
    summary.appendChild(note)
  }

  // The legend in three groups, each on its own line: the lanes, the requests, the network.
  const legend = document.getElementById('legend')
  const group = (title, items) => {
    const row = document.createElement('div')
    row.className = 'legend-group'
    const name = document.createElement('b')
    name.textContent = title
    row.appendChild(name)
    for (const [color, text, hatched] of items) {
      const span = document.createElement('span')
      const sw = document.createElement('span')
      sw.className = hatched ? 'sw hatched' : 'sw'
      sw.style.background = hatched ? `repeating-linear-gradient(135deg, ${color} 0 3px, #fff 3px 5px)` : color
      span.appendChild(sw)
      span.appendChild(document.createTextNode(text))
      row.appendChild(span)
    }
    legend.appendChild(row)
  }
  group('replicas', [
    ...['follower', 'preCandidate', 'candidate', 'leader'].map((role) => [ROLE_COLOR[role], ROLE_TEXT[role]]),
    [DEPOSED_COLOR, 'deposed leader', true],
    [ROLE_COLOR.down, 'down'],
    [ROLE_COLOR.starting, 'starting'],
  ])
  group('requests', OUTCOMES.map((o) => [OUTCOME_COLOR[o], OUTCOME_TEXT[o]]))
  group('network', [
    ['rgba(255,160,0,0.35)', 'partition'],
    [SIDE_COLOR[0], 'majority side'],
    [SIDE_COLOR[1], 'minority side'],
    ['#6b8e23', 'datagrams delivered'],
    ['#d9534f', 'dropped'],
  ])

  const failure = data.failure
  if (failure) {
    const box = document.getElementById('failure-reason')
    box.hidden = false
    box.textContent = `${failure.title}${failure.key ? ` on key ${failure.key}` : ''}: ${failure.reason}`
    if (failure.at !== null || failure.operations.length > 0) document.getElementById('to-failure').hidden = false
  }

  // ---- the failure's operations: which to draw --------------------------------------------------

  const failureOps = (() => {
    if (!failure || failure.operations.length === 0) return []
    const ops = failure.operations.slice().sort((a, b) => a.from - b.from)
    if (ops.length <= 60) return ops
    // Too many to draw legibly: the 60 nearest in time to the offending one (or the failure's moment).
    const offending = ops.find((op) => failure.offending.includes(op.id))
    const at = offending ? offending.from : failure.at ?? ops[ops.length - 1].from
    return ops.slice().sort((a, b) => Math.abs(a.from - at) - Math.abs(b.from - at)).slice(0, 60).sort((a, b) => a.from - b.from)
  })()

  const failureWindow = () => {
    let lo = Infinity
    let hi = -Infinity
    // The offending operation and the two of its key before it: what it should have seen.
    failureOps.forEach((op, i) => {
      if (!failure.offending.includes(op.id)) return
      for (const near of failureOps.slice(Math.max(0, i - 2), i + 1)) {
        lo = Math.min(lo, near.from)
        hi = Math.max(hi, near.to ?? near.from)
      }
    })
    if (failure && failure.at !== null) {
      lo = Math.min(lo, failure.at)
      hi = Math.max(hi, failure.at)
    }
    if (!isFinite(lo)) return [0, duration]
    const pad = Math.max(100, (hi - lo) * 0.15)
    return [Math.max(0, lo - pad), Math.min(duration, hi + pad)]
  }

  // ---- requests: sorted by send time, latency for the y axis ------------------------------------

  const requests = data.requests
  const order = requests.map((_, i) => i).sort((a, b) => requests[a][5] - requests[b][5])
  let maxLatency = 1
  let fastest = Infinity
  for (const r of requests) {
    if (r[6] === null) continue
    maxLatency = Math.max(maxLatency, r[6] - r[5])
    fastest = Math.min(fastest, r[6] - r[5])
  }
  // The axis starts a little under the fastest answer, not at a fixed 0.1 ms that left the lower
  // part of the plot empty.
  const minLatency = isFinite(fastest) ? Math.max(0.01, Math.min(fastest / 1.5, maxLatency / 10)) : 0.1
  const logMin = Math.log10(minLatency)
  const logMax = Math.log10(Math.max(maxLatency * 1.3, 10))

  // ---- layout -----------------------------------------------------------------------------------

  const n = data.replicas.length
  const layout = {}
  const place = () => {
    let y = 22
    layout.axis = y
    y += 32 // two rows of band labels (partitions, kills, heals) above the lanes
    layout.lanes = y
    y += n * (LANE_H + LANE_GAP) + 14
    layout.requests = y + 14
    y = layout.requests + REQ_H + 14
    // A run with no count of datagrams (check:net sees none) has no traffic panel.
    layout.traffic = hasTraffic ? y + 14 : y
    y = hasTraffic ? layout.traffic + TRAFFIC_H + 14 : y
    layout.failure = y + 18
    y = layout.failure + (failureOps.length > 0 ? failureOps.length * (OP_H + 3) + 10 : 0)
    layout.height = y + 24
  }
  place()

  const x = (t) => GUTTER + ((t - view[0]) / (view[1] - view[0])) * (width - GUTTER - RIGHT)
  const tAt = (px) => view[0] + ((px - GUTTER) / (width - GUTTER - RIGHT)) * (view[1] - view[0])
  const clampX = (px) => Math.max(GUTTER, Math.min(width - RIGHT, px))
  const latencyY = (ms) => {
    const v = Math.log10(Math.max(minLatency, ms))
    const top = layout.requests + UNANSWERED_H + 6
    const bottom = layout.requests + REQ_H - 4
    return bottom - ((v - logMin) / (logMax - logMin)) * (bottom - top)
  }

  // ---- drawing helpers --------------------------------------------------------------------------

  const el = (name, attrs, parent, text) => {
    const node = document.createElementNS(NS, name)
    for (const key in attrs) node.setAttribute(key, attrs[key])
    if (text !== undefined) node.textContent = text
    if (parent) parent.appendChild(node)
    return node
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '–'
    if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`
    if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`
    return `${(ms / 1000).toFixed(2)} s`
  }
  const fmtT = (ms) => `${(ms / 1000).toFixed(3)} s`
  // The width of a label in the SVG's font (page.ts: 11px), measured, to keep labels apart.
  const measure = document.createElement('canvas').getContext('2d')
  measure.font = '11px system-ui, "DejaVu Sans", sans-serif'
  const textWidth = (text) => measure.measureText(text).width

  const niceStep = (span, target) => {
    const raw = span / target
    const p = Math.pow(10, Math.floor(Math.log10(raw)))
    for (const m of [1, 2, 5, 10]) if (p * m >= raw) return p * m
    return p * 10
  }

  // ---- render -----------------------------------------------------------------------------------

  let svg
  function render() {
    width = Math.max(600, chart.clientWidth - 16)
    const next = el('svg', { width, height: layout.height, viewBox: `0 0 ${width} ${layout.height}`, id: 'timeline' })
    const defs = el('defs', {}, next)
    const clip = el('clipPath', { id: 'plot-clip' }, defs)
    const hatch = el('pattern', { id: 'deposed-hatch', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs)
    el('rect', { width: 6, height: 6, fill: DEPOSED_COLOR }, hatch)
    el('rect', { width: 2, height: 6, fill: ROLE_COLOR.leader, opacity: 0.55 }, hatch)
    el('rect', { x: GUTTER, y: 0, width: width - GUTTER - RIGHT, height: layout.height }, clip)

    drawAxis(next)
    const plot = el('g', { 'clip-path': 'url(#plot-clip)' }, next)
    drawBands(plot, next)
    drawLanes(plot, next)
    drawRequests(plot, next)
    if (hasTraffic) drawTraffic(plot, next)
    drawFailure(plot, next)
    if (svg) chart.replaceChild(next, svg)
    else chart.appendChild(next)
    svg = next
  }

  function drawAxis(root) {
    const g = el('g', { id: 'axis' }, root)
    const span = view[1] - view[0]
    const step = niceStep(span, Math.max(2, (width - GUTTER) / 110))
    for (let t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
      const px = x(t)
      el('line', { x1: px, x2: px, y1: layout.axis - 4, y2: layout.height - 20, stroke: '#eee' }, g)
      el('text', { x: px + 2, y: layout.axis - 6 }, g, step >= 1000 ? `${(t / 1000).toFixed(0)} s` : step >= 100 ? `${(t / 1000).toFixed(1)} s` : step >= 10 ? `${(t / 1000).toFixed(2)} s` : `${(t / 1000).toFixed(3)} s`)
    }
  }

  function drawBands(plot) {
    const g = el('g', { id: 'bands' }, plot)
    const top = layout.lanes - 4
    const bottom = layout.traffic + (hasTraffic ? TRAFFIC_H : 0)
    // Each label goes on the first of two rows above the lanes where it does not touch the one
    // before it; with both rows taken it is left out (the band's tooltip still says it).
    const rowsEnd = [-Infinity, -Infinity]
    const label = (px, text, color) => {
      const w = textWidth(text)
      const row = rowsEnd.findIndex((end) => px >= end + 6)
      if (row < 0) return
      rowsEnd[row] = px + w
      el('text', { x: px, y: top - 3 - row * 13, fill: color, class: 'band-label' }, g, text)
    }
    for (const band of data.bands) {
      if (band.to < view[0] || band.from > view[1]) continue
      if (band.kind === 'partition') {
        const x0 = x(band.from)
        const x1 = Math.max(x(band.to), x0 + 1)
        const r = el('rect', { x: x0, y: top, width: x1 - x0, height: bottom - top, fill: 'rgba(255,160,0,0.13)', stroke: 'rgba(230,140,0,0.6)', class: 'band partition' }, g)
        r.dataset.tip = `${band.detail}\n${fmtT(band.from)} – ${fmtT(band.to)}\nsides: ${band.sides.map((s) => s.map((i) => data.replicas[i]).join(',')).join(' | ')}`
        label(Math.max(x0, GUTTER) + 3, band.label, '#b06a00')
      } else {
        const px = x(band.from)
        const color = band.kind === 'kill' ? '#b22222' : band.kind === 'heal' ? '#2a8a2a' : '#555'
        const hit = el('rect', { x: px - 3, y: top, width: 6, height: bottom - top, fill: 'transparent', class: `band ${band.kind}` }, g)
        hit.dataset.tip = `${band.detail}\nat ${fmtT(band.from)}`
        el('line', { x1: px, x2: px, y1: top, y2: bottom, stroke: color, 'stroke-dasharray': '4 3', 'pointer-events': 'none' }, g)
        label(px + 3, band.label, color)
      }
    }
    if (failure && failure.at !== null && failure.at >= view[0] && failure.at <= view[1]) {
      const px = x(failure.at)
      const line = el('line', { x1: px, x2: px, y1: top, y2: layout.height - 20, stroke: '#d62728', 'stroke-width': 2, class: 'failure-moment' }, g)
      line.dataset.tip = `${failure.title} detected at ${fmtT(failure.at)}`
    }
  }

  /** The first leader span of a newer term than this leader's, on any replica. */
  function deposedBy(span) {
    let first
    for (const other of data.spans) {
      if (other.role !== 'leader' || other.term === null || span.term === null || other.term <= span.term) continue
      if (first === undefined || other.from < first.from) first = other
    }
    return first
  }
  /** When a newer term's leader took office while this leader still acted as one; undefined if never. */
  function deposedFrom(span) {
    const newer = deposedBy(span)
    return newer === undefined ? undefined : Math.max(span.from, newer.from)
  }

  function drawLanes(plot, root) {
    const g = el('g', { id: 'lanes' }, plot)
    el('text', { x: 4, y: layout.lanes - 8, class: 'section-title' }, root, 'replicas')
    const lanes = data.replicas.map((id, i) => {
      const laneY = layout.lanes + i * (LANE_H + LANE_GAP)
      el('text', { x: 8, y: laneY + 14 }, root, id)
      const lane = el('g', { class: 'lane', 'data-replica': id }, g)
      return { lane, laneY }
    })
    const minPx = (view[1] - view[0]) / (width - GUTTER - RIGHT) // ms per pixel
    const drawSpan = (span, from, to, fill, text, cls) => {
      if (to < view[0] || from > view[1]) return
      const { lane, laneY } = lanes[span.replica]
      const x0 = clampX(x(from))
      const x1 = clampX(x(to))
      if (x1 - x0 < 0.3 && to - from < minPx) return
      const r = el('rect', { x: x0, y: laneY, width: Math.max(0.5, x1 - x0), height: LANE_H - 4, fill, class: `span ${cls}` }, lane)
      r.dataset.tip = `${data.replicas[span.replica]}: ${text}${span.term === null ? '' : ` in term ${span.term}`}\n${fmtT(from)} – ${fmtT(to)} (${fmtMs(to - from)})`
      if (span.term !== null && x1 - x0 > 8 + 6 * String(span.term).length && span.role !== 'down' && span.role !== 'starting') {
        el('text', { x: x0 + 3, y: laneY + 12, class: 'term' }, lane, String(span.term))
      }
    }
    for (const span of data.spans) {
      const deposedAt = span.role === 'leader' ? deposedFrom(span) : undefined
      if (deposedAt === undefined || deposedAt >= span.to) {
        drawSpan(span, span.from, span.to, ROLE_COLOR[span.role], ROLE_TEXT[span.role], `role-${span.role}`)
        continue
      }
      drawSpan(span, span.from, deposedAt, ROLE_COLOR.leader, ROLE_TEXT.leader, 'role-leader')
      const newer = deposedBy(span)
      drawSpan(span, deposedAt, span.to, 'url(#deposed-hatch)', `${DEPOSED_TEXT}; ${data.replicas[newer.replica]} leads term ${newer.term} since ${fmtT(newer.from)}`, 'role-deposed')
    }
    for (const band of data.bands) {
      if (band.kind !== 'partition' || band.to < view[0] || band.from > view[1]) continue
      band.sides.forEach((side, s) => {
        for (const i of side) {
          const { lane, laneY } = lanes[i]
          const x0 = clampX(x(band.from))
          const x1 = clampX(x(band.to))
          const strip = el('rect', { x: x0, y: laneY + LANE_H - 4, width: Math.max(1, x1 - x0), height: 3, fill: SIDE_COLOR[s % SIDE_COLOR.length], class: 'side' }, lane)
          const what = band.sides.length === 2 && band.sides[0].length > band.sides[1].length ? (s === 0 ? 'majority' : 'minority') : `side ${s + 1}`
          strip.dataset.tip = `${data.replicas[i]} on the ${what} side: ${side.map((j) => data.replicas[j]).join(',')}\n${fmtT(band.from)} – ${fmtT(band.to)}`
        }
      })
    }
    for (const mark of data.marks) {
      if (mark.at < view[0] || mark.at > view[1]) continue
      const { lane, laneY } = lanes[mark.replica]
      const px = x(mark.at)
      const color = mark.kind === 'restarted' ? '#1f7a1f' : mark.kind === 'hello' ? '#888' : '#c00000'
      if (mark.kind === 'hello') {
        const tick = el('rect', { x: px - 1, y: laneY, width: 2, height: LANE_H - 4, fill: color, class: 'mark hello' }, lane)
        tick.dataset.tip = `${mark.detail}\nat ${fmtT(mark.at)}`
        continue
      }
      const t = el('text', {
        x: px - 5, y: laneY + 13, fill: color, stroke: '#fff', 'stroke-width': 2.5, 'paint-order': 'stroke',
        class: `mark ${mark.kind}`, 'font-size': 14, 'font-weight': 700,
      }, lane, MARK_SYMBOL[mark.kind])
      t.dataset.tip = `${mark.detail}\nat ${fmtT(mark.at)}`
    }
  }

  function drawRequests(plot, root) {
    const top = layout.requests
    const g = el('g', { id: 'requests' }, plot)
    el('text', { x: 4, y: top - 6, class: 'section-title' }, root, 'requests')
    el('text', { x: GUTTER, y: top - 6, fill: '#777' }, root, 'latency from first send to ok (log scale)')
    const bottom = top + REQ_H
    el('rect', { x: GUTTER, y: top, width: width - GUTTER - RIGHT, height: REQ_H, fill: '#fafafa', stroke: '#ddd' }, g)
    el('line', { x1: GUTTER, x2: width - RIGHT, y1: top + UNANSWERED_H, y2: top + UNANSWERED_H, stroke: '#e6e6e6' }, g)
    el('text', { x: GUTTER - 4, y: top + 10, 'text-anchor': 'end', fill: OUTCOME_COLOR.unanswered }, root, 'unanswered')
    for (let p = Math.ceil(logMin); p <= logMax; p++) {
      const y = latencyY(Math.pow(10, p))
      el('line', { x1: GUTTER, x2: width - RIGHT, y1: y, y2: y, stroke: '#e6e6e6' }, g)
      // A tick label that would touch the unanswered strip's label is left out.
      if (y - 4 > top + UNANSWERED_H + 2) el('text', { x: GUTTER - 4, y: y + 4, 'text-anchor': 'end', fill: '#777' }, root, fmtMs(Math.pow(10, p)))
    }
    const paths = {}
    for (const o of OUTCOMES) paths[o] = []
    const msPerPx = (view[1] - view[0]) / (width - GUTTER - RIGHT)
    for (const i of order) {
      const r = requests[i]
      const from = r[5]
      const to = r[6] === null ? duration : r[6]
      if (to < view[0] || from > view[1]) continue
      const outcome = OUTCOMES[r[7]]
      const y = r[6] === null ? top + UNANSWERED_H / 2 : latencyY(to - from)
      const x0 = x(from)
      const x1 = Math.max(x(to), x0 + 2)
      paths[outcome].push(`M${x0.toFixed(1)} ${y.toFixed(1)}H${x1.toFixed(1)}`)
      if (msPerPx < (to - from) / 4) paths[outcome].push(`M${x0.toFixed(1)} ${(y - 3).toFixed(1)}v6`)
    }
    for (const o of OUTCOMES) {
      if (paths[o].length === 0) continue
      el('path', { d: paths[o].join(''), stroke: OUTCOME_COLOR[o], 'stroke-width': o === 'incorrect' ? 3 : 2, fill: 'none', class: `requests outcome-${o}`, 'stroke-linecap': 'butt' }, g)
    }
    // p99 labelled above its line and the median below its own: the median is never above the
    // p99, so the two labels cannot overlap however close the lines are.
    for (const [name, value, dash, dy] of [['median', lat.median, '6 3', 11], ['p99', lat.p99, '2 3', -3]]) {
      if (value === null) continue
      const y = latencyY(value)
      el('line', { x1: GUTTER, x2: width - RIGHT, y1: y, y2: y, stroke: '#222', 'stroke-dasharray': dash, class: `latency-line ${name}` }, g)
      el('text', { x: width - RIGHT - 4, y: y + dy, 'text-anchor': 'end', fill: '#222', stroke: '#fafafa', 'stroke-width': 3, 'paint-order': 'stroke', class: `latency-label ${name}` }, g, `${name} ${fmtMs(value)}`)
    }
    el('rect', { x: GUTTER, y: top, width: width - GUTTER - RIGHT, height: REQ_H, fill: 'transparent', id: 'requests-hit' }, g)
    layout.requestsBottom = bottom
  }

  function drawTraffic(plot, root) {
    const top = layout.traffic
    const g = el('g', { id: 'traffic' }, plot)
    el('text', { x: 4, y: top - 6, class: 'section-title' }, root, 'datagrams')
    el('text', { x: GUTTER, y: top - 6, fill: '#777' }, root, `between replicas, per ${data.traffic.bucketMs} ms`)
    const t = data.traffic
    let max = 1
    for (let i = 0; i < t.delivered.length; i++) max = Math.max(max, t.delivered[i] + t.droppedRandomly[i] + t.droppedByPartition[i])
    const h = TRAFFIC_H
    el('rect', { x: GUTTER, y: top, width: width - GUTTER - RIGHT, height: h, fill: '#fafafa', stroke: '#ddd' }, g)
    el('text', { x: GUTTER - 4, y: top + 10, 'text-anchor': 'end', fill: '#777' }, root, String(max))
    let delivered = ''
    let dropped = ''
    for (let i = 0; i < t.delivered.length; i++) {
      const from = i * t.bucketMs
      if (from + t.bucketMs < view[0] || from > view[1]) continue
      const x0 = x(from)
      const w = Math.max(0.6, x(from + t.bucketMs) - x0 - (x(from + t.bucketMs) - x0 > 3 ? 1 : 0))
      const d = t.delivered[i]
      const l = t.droppedRandomly[i] + t.droppedByPartition[i]
      const dh = (d / max) * h
      const lh = (l / max) * h
      if (d > 0) delivered += `M${x0.toFixed(1)} ${(top + h).toFixed(1)}h${w.toFixed(1)}v${(-dh).toFixed(1)}h${(-w).toFixed(1)}z`
      if (l > 0) dropped += `M${x0.toFixed(1)} ${(top + h - dh).toFixed(1)}h${w.toFixed(1)}v${(-lh).toFixed(1)}h${(-w).toFixed(1)}z`
    }
    if (delivered) el('path', { d: delivered, fill: '#6b8e23', class: 'traffic delivered' }, g)
    if (dropped) el('path', { d: dropped, fill: '#d9534f', class: 'traffic dropped' }, g)
    el('rect', { x: GUTTER, y: top, width: width - GUTTER - RIGHT, height: h, fill: 'transparent', id: 'traffic-hit' }, g)
  }

  function drawFailure(plot, root) {
    if (failureOps.length === 0) return
    const top = layout.failure
    const g = el('g', { id: 'failure' }, plot)
    const title = el('text', { x: 4, y: top - 6, class: 'section-title', fill: '#d62728', id: 'failure-title' }, root,
      `${failure.title}: key ${failure.key}${failureOps.length < failure.operations.length ? ` (${failureOps.length} of its ${failure.operations.length} operations, nearest the failure)` : ''}`)
    title.style.fill = '#d62728'
    failureOps.forEach((op, row) => {
      const y = top + row * (OP_H + 3)
      const offending = failure.offending.includes(op.id)
      const x0 = x(op.from)
      const x1 = Math.max(x(op.to === null ? duration : op.to), x0 + 3)
      const color = op.kind === 'put' ? '#3a7bd5' : '#2e9d57'
      const bar = el('rect', {
        x: x0, y, width: x1 - x0, height: OP_H, rx: 2,
        fill: offending ? '#fbd4d4' : op.to === null ? '#f3f3f3' : color + '33',
        stroke: offending ? '#d62728' : color, 'stroke-width': offending ? 2.5 : 1,
        'stroke-dasharray': op.to === null ? '4 2' : 'none',
        class: `op ${op.kind}${offending ? ' offending' : ''}`,
      }, g)
      const value = op.value === null ? '(none)' : op.value
      bar.dataset.tip = `${op.id} by client ${op.client}${offending ? '   ◀ OFFENDING' : ''}\n${op.kind} ${op.kind === 'put' ? 'wrote' : 'read'} ${value}\ninvoked ${fmtT(op.from)}, ${op.to === null ? 'never completed' : `completed ${fmtT(op.to)} (${fmtMs(op.to - op.from)})`}${offending ? `\n${failure.reason}` : ''}`
      const label = `${op.kind} ${op.kind === 'put' ? '←' : '→'} ${value.length > 12 ? value.slice(0, 6) + '…' + value.slice(-4) : value}${offending ? `   ◀ ${failure.reason}` : ''}`
      const right = x1 + 4 + label.length * 6.2 > width - RIGHT
      const text = el('text', { x: right ? Math.max(GUTTER + 2, x0 - 4) : Math.max(GUTTER + 2, x1 + 4), 'text-anchor': right && x0 - 4 > GUTTER + 2 ? 'end' : 'start', y: y + 12, fill: offending ? '#d62728' : '#333', 'font-weight': offending ? 700 : 400, class: offending ? 'offending-label' : '' }, g, label)
      text.dataset.tip = bar.dataset.tip
      el('text', { x: 8, y: y + 12, fill: '#777' }, root, op.client)
    })
  }

  // ---- hover ------------------------------------------------------------------------------------

  function requestAt(px, py) {
    if (py < layout.requests || py > layout.requests + REQ_H) return undefined
    const t = tAt(px)
    const slack = 5 * (view[1] - view[0]) / (width - GUTTER - RIGHT)
    let best
    let bestD = 7
    // Requests sorted by send time: those sent after t + slack cannot be under the cursor.
    let lo = 0
    let hi = order.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (requests[order[mid]][5] <= t + slack) lo = mid + 1
      else hi = mid
    }
    for (let k = lo - 1; k >= 0; k--) {
      const r = requests[order[k]]
      const to = r[6] === null ? duration : r[6]
      if (to < t - slack) continue
      const y = r[6] === null ? layout.requests + UNANSWERED_H / 2 : latencyY(to - r[5])
      const d = Math.abs(y - py)
      if (d < bestD) {
        bestD = d
        best = r
      }
    }
    return best
  }

  function describeRequest(r) {
    const lines = [
      `${r[0]}  ${r[2] === 0 ? 'get' : 'put'}  client ${data.clients[r[1]]}  → ${OUTCOME_TEXT[OUTCOMES[r[7]]]}`,
      `key   ${data.keys[r[3]]}`,
      `value ${r[4] === '' ? '(none)' : r[4]}`,
      `sent ${fmtT(r[5])}${r[6] === null ? ', never answered' : `, ok ${fmtT(r[6])}: ${fmtMs(r[6] - r[5])}`}${r[8] > 0 ? `; ${r[8]} duplicate ok(s)` : ''}`,
    ]
    for (const a of r[9].slice(0, 8)) {
      lines.push(`  MID ${a[0]} → ${data.replicas[a[1]] ?? '?'} at ${fmtT(a[2])}: ${a[3] === null ? 'no reply' : `${a[4]} after ${fmtMs(a[3] - a[2])}`}`)
    }
    if (r[9].length > 8) lines.push(`  … ${r[9].length - 8} more attempts`)
    return lines.join('\n')
  }

  function trafficAt(px, py) {
    if (!hasTraffic || py < layout.traffic || py > layout.traffic + TRAFFIC_H) return undefined
    const t = data.traffic
    const i = Math.floor(tAt(px) / t.bucketMs)
    if (i < 0 || i >= t.delivered.length) return undefined
    return `${fmtT(i * t.bucketMs)} – ${fmtT((i + 1) * t.bucketMs)}\ndelivered ${t.delivered[i]}\ndropped ${t.droppedRandomly[i] + t.droppedByPartition[i]} (${t.droppedRandomly[i]} at random, ${t.droppedByPartition[i]} by the partition)`
  }

  function showTip(text, event) {
    if (!text) {
      tooltip.hidden = true
      return
    }
    tooltip.textContent = text
    tooltip.hidden = false
    const w = tooltip.offsetWidth
    const h = tooltip.offsetHeight
    let left = event.clientX + 14
    let top = event.clientY + 14
    if (left + w > window.innerWidth - 4) left = Math.max(4, event.clientX - w - 14)
    if (top + h > window.innerHeight - 4) top = Math.max(4, event.clientY - h - 14)
    tooltip.style.left = `${left}px`
    tooltip.style.top = `${top}px`
  }

  // ---- zoom and pan -----------------------------------------------------------------------------

  let pending = false
  const schedule = () => {
    if (pending) return
    pending = true
    requestAnimationFrame(() => {
      pending = false
      render()
    })
  }
  const setView = (a, b) => {
    const span = Math.max(1, Math.min(duration, b - a))
    let from = Math.max(0, Math.min(a, duration - span))
    view = [from, from + span]
    schedule()
  }

  let drag
  chart.addEventListener('mousedown', (e) => {
    const rect = svg.getBoundingClientRect()
    drag = { x: e.clientX - rect.left, view: view.slice(), moved: false }
  })
  window.addEventListener('mouseup', () => {
    drag = undefined
  })
  chart.addEventListener('mousemove', (e) => {
    const rect = svg.getBoundingClientRect()
    const px = e.clientX - rect.left
    const py = e.clientY - rect.top
    if (drag) {
      const dx = px - drag.x
      if (Math.abs(dx) > 2) drag.moved = true
      if (drag.moved) {
        const dt = (dx / (width - GUTTER - RIGHT)) * (drag.view[1] - drag.view[0])
        setView(drag.view[0] - dt, drag.view[1] - dt)
        showTip(undefined, e)
        return
      }
    }
    const target = e.target
    if (target && target.dataset && target.dataset.tip) return showTip(target.dataset.tip, e)
    const r = requestAt(px, py)
    if (r) return showTip(describeRequest(r), e)
    showTip(trafficAt(px, py), e)
  })
  chart.addEventListener('mouseleave', () => {
    tooltip.hidden = true
  })
  chart.addEventListener('wheel', (e) => {
    e.preventDefault()
    const rect = svg.getBoundingClientRect()
    const t = tAt(e.clientX - rect.left)
    const factor = Math.pow(1.0015, e.deltaY)
    setView(t - (t - view[0]) * factor, t + (view[1] - t) * factor)
  }, { passive: false })
  chart.addEventListener('dblclick', () => setView(0, duration))
  document.getElementById('reset').addEventListener('click', () => setView(0, duration))
  document.getElementById('to-failure').addEventListener('click', () => {
    const [a, b] = failureWindow()
    setView(a, b)
  })
  window.addEventListener('resize', schedule)

  render()
  document.body.dataset.rendered = 'true'
})()
