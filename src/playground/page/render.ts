/**
 * Drawing, frame by frame: the header and the stage every frame, the panels when something changed
 * (while running, a few times a second; never while a mouse button is down); time moves with
 * real time at the chosen speed.
 */
import { drawDetails } from './details'
import { drawFlightList } from './flight-list'
import { drawHeader } from './header'
import { drawReplicas } from './replica-table'
import { drawRequests } from './request-list'
import { drawStage } from './stage'
import { page } from './state'

/** While a mouse button is down, the panels hold still: a button redrawn under it would lose the click. */
let pointerHeld = false
let panelsDrawnAt = Number.NEGATIVE_INFINITY
/** While running, the panels are redrawn at most this often (ms of real time). */
const PANEL_INTERVAL_MS = 200

export const draw = (time = performance.now()): void => {
  drawHeader()
  drawStage()
  if (page.dirty && !pointerHeld && (!page.running || time - panelsDrawnAt >= PANEL_INTERVAL_MS)) {
    drawReplicas()
    drawRequests()
    drawFlightList()
    drawDetails()
    page.dirty = false
    panelsDrawnAt = time
  }
}

document.addEventListener('pointerdown', () => {
  pointerHeld = true
})
document.addEventListener('pointerup', () => {
  pointerHeld = false
})

let lastFrame: number | undefined

export const frame = (time: number): void => {
  if (page.running && lastFrame !== undefined) {
    const realMs = Math.min(100, time - lastFrame)
    const before = page.cluster.events
    const actions = page.cluster.actions.length
    page.cluster.advanceTo(page.cluster.now + realMs * page.speed)
    if (page.cluster.events !== before || page.cluster.actions.length !== actions) page.dirty = true
  }
  lastFrame = time
  // Timers count down between events: the table's timer column is redrawn a few times a second.
  if (page.running) page.dirty = true
  draw(time)
  requestAnimationFrame(frame)
}
