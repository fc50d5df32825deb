/** The messages in flight, soonest first, with a person's buttons: drop, delay, duplicate. */
import type { Flight } from '../cluster-view'
import { $, el } from './dom'
import { describeMessage, KIND_CLASS, nodeName, shortLabel } from './labels'
import { page } from './state'

export const drawFlightList = (): void => {
  const body = $<HTMLTableSectionElement>('#flights tbody')
  const flights = [...page.cluster.flights].sort((a, b) => a.deliverAt - b.deliverAt)
  const rows = flights.slice(0, 80).map((f) => {
    const selected = page.selection?.kind === 'flight' && page.selection.id === f.id
    return el('tr', { class: `flight-row${selected ? ' selected' : ''}`, 'data-flight': f.id },
      el('td', { class: 'n' }, el('a', { href: '#', 'data-select-flight': f.id }, `#${f.id}`)),
      el('td', {}, el('span', { class: `chip kind-${KIND_CLASS[f.message.type]}` }, shortLabel(f.message))),
      el('td', {}, `${nodeName(f.from)} → ${nodeName(f.to)}`),
      el('td', { class: 'what' }, describeMessage(f.message) + (f.copyOf === undefined ? '' : ` (copy of #${f.copyOf})`)),
      el('td', { class: 'took' }, `arrives in ${Math.max(0, Math.round(f.deliverAt - page.cluster.now))} ms`),
      el('td', { class: 'buttons' }, ...flightButtons(f)))
  })
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { class: 'empty' }, 'Nothing in flight.')))
  body.replaceChildren(...rows)
}

export const flightButtons = (f: Flight): HTMLButtonElement[] => page.cluster.mode === 'recorded' ? [] : [
  el('button', { type: 'button', 'data-act': 'drop', 'data-flight': f.id }, 'Drop'),
  el('button', { type: 'button', 'data-act': 'delay', 'data-flight': f.id, title: 'hold it back 500 ms' }, 'Delay'),
  ...(page.cluster.clientIds.includes(f.to) ? [] : [el('button', { type: 'button', 'data-act': 'duplicate', 'data-flight': f.id }, 'Duplicate')]),
]
